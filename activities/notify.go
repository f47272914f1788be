package activities

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/workflows"
)

// Notifier sends a stored notification to its e-mail address.
type Notifier interface {
	Send(ctx context.Context, n *models.Notification) error
}

// SMTPNotifier sends notifications by e-mail through an SMTP server.
type SMTPNotifier struct {
	Addr     string // host:port
	From     string
	Username string // empty: no authentication
	Password string
}

// notificationStore is what sending alerts needs of the store.
type notificationStore interface {
	UnsentNotifications(ctx context.Context, deliveryID int64, maxSends int) ([]models.Notification, error)
	BeginNotificationSend(ctx context.Context, id int64) error
	MarkNotificationSent(ctx context.Context, id int64, sendErr error) error
}

// Send mails n to n.Email. It gives up when ctx ends: a server that accepts the
// connection and then says nothing must not hold the activity for its whole timeout.
func (s SMTPNotifier) Send(ctx context.Context, n *models.Notification) error {
	if n.Email == "" {
		return nil
	}
	host := s.Addr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	var auth smtp.Auth
	if s.Username != "" {
		auth = smtp.PlainAuth("", s.Username, s.Password, host)
	}
	msg := "From: " + s.From + "\r\nTo: " + n.Email + "\r\nSubject: " + n.Subject +
		"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) +
		"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + n.Message + "\r\n"
	if err := s.send(ctx, host, auth, n.Email, []byte(msg)); err != nil {
		return fmt.Errorf("send mail to %s: %w", n.Email, err)
	}
	return nil
}

// send is smtp.SendMail over a connection that ctx bounds: dialled with ctx, closed
// when ctx ends, and with ctx's deadline on every read and write.
func (s SMTPNotifier) send(ctx context.Context, host string, auth smtp.Auth, to string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return contextError(ctx, err)
	}
	defer c.Close()
	if err := sendMessage(c, host, auth, s.From, to, msg); err != nil {
		return contextError(ctx, err)
	}
	return c.Quit()
}

// sendMessage is the conversation of smtp.SendMail on an open client.
func sendMessage(c *smtp.Client, host string, auth smtp.Auth, from, to string, msg []byte) error {
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server does not support AUTH")
		}
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	return w.Close()
}

// contextError prefers ctx's error to the one a closed connection produced. The
// connection's deadline is ctx's, and its timer may fire a moment before ctx's own: an
// i/o timeout at or after the deadline is ctx's deadline too.
func contextError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return err
}

// AlertSendTries bounds the tries to mail one alert. FailDelivery, which sends the alert
// of the block it records, is retried without limit, so a mail server that cannot be
// reached would otherwise hold the delivery's workflow open forever: after this many
// failed tries (about 15 s of the activity's backoff for a refused connection, at most
// about a minute for one that hangs) the alert stays stored, unsent, with its last error,
// and the delivery completes.
const AlertSendTries = 5

// alertSendTimeout bounds one try to mail an alert, well inside FailDelivery's 30 s
// start-to-close timeout, so that the outcome of a hung send is still recorded.
const alertSendTimeout = 10 * time.Second

// blockedAlert is the notification that sub was blocked because delivery deliveryID
// failed for reason.
func blockedAlert(sub *models.Subscriber, deliveryID int64, reason string) *models.Notification {
	return &models.Notification{
		DeliveryID: deliveryID, Kind: models.NotifySubscriberBlocked, Email: sub.EmailID,
		Subject: fmt.Sprintf("Webhook %q is blocked", sub.Name),
		Message: fmt.Sprintf("Hookflow blocked the webhook %q (subscriber %d, %s) because %s.\n\n"+
			"New events for it are queued, not lost. Fix the endpoint, then re-activate the webhook "+
			"(PATCH …/subscriber/%d with {\"status\":\"active\"}) to send the queued events, oldest first.",
			sub.Name, sub.ID, sub.WebhookURL, reason, sub.ID),
	}
}

// sendAlerts mails the alerts that delivery deliveryID's failure raised and that are not
// sent yet, when a notifier is configured. Each try is counted before it is made and its
// outcome recorded; a sent alert is not sent again. It fails (so that Temporal retries
// FailDelivery) while an alert could not be sent and has tries left.
func (a *Activities) sendAlerts(ctx context.Context, deliveryID int64) error {
	if a.notifier == nil {
		return nil
	}
	unsent, err := a.store.UnsentNotifications(ctx, deliveryID, AlertSendTries)
	if err != nil {
		return retryable(err)
	}
	var retry error
	for i := range unsent {
		n := &unsent[i]
		if err := a.store.BeginNotificationSend(ctx, n.ID); err != nil {
			return retryable(err)
		}
		sendCtx, cancel := context.WithTimeout(ctx, alertSendTimeout)
		sendErr := a.notifier.Send(sendCtx, n)
		cancel()
		if err := a.store.MarkNotificationSent(ctx, n.ID, sendErr); err != nil {
			// Sent or not, the next try sends it again: at least once.
			return retryable(err)
		}
		log := a.log.With("notification_id", n.ID, "subscriber_id", n.SubscriberID, "delivery_id", deliveryID, "attempt", n.SendAttempts+1)
		switch {
		case sendErr == nil:
			log.InfoContext(ctx, "notification sent")
		case n.SendAttempts+1 >= AlertSendTries:
			log.ErrorContext(ctx, "notification not sent; giving up", "error", sendErr)
		default:
			log.WarnContext(ctx, "notification not sent; will retry", "error", sendErr)
			retry = sendErr
		}
	}
	if retry != nil {
		// The message is what partners may see as the delivery's last failure; the cause,
		// with the mail server's answer, is for operators.
		return temporal.NewApplicationErrorWithCause("hookflow: the alert could not be mailed yet", workflows.ErrInternal, retry)
	}
	return nil
}
