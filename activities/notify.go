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

	"github.com/hookflow/hookflow/models"
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

// notifyBlocked stores and logs the alert that a subscriber was blocked, and mails it
// when a notifier is configured. A mail that cannot be sent is recorded on the
// notification; it does not fail the delivery's bookkeeping.
func (a *Activities) notifyBlocked(ctx context.Context, sub *models.Subscriber, reason string) error {
	n := &models.Notification{
		OrganizationID: sub.OrganizationID, ExtensionID: sub.ExtensionID, SubscriberID: sub.ID,
		Kind: models.NotifySubscriberBlocked, Email: sub.EmailID,
		Subject: fmt.Sprintf("Webhook %q is blocked", sub.Name),
		Message: fmt.Sprintf("Hookflow blocked the webhook %q (subscriber %d, %s) because %s.\n\n"+
			"New events for it are queued, not lost. Fix the endpoint, then re-activate the webhook "+
			"(PATCH …/subscriber/%d with {\"status\":\"active\"}) to send the queued events, oldest first.",
			sub.Name, sub.ID, sub.WebhookURL, reason, sub.ID),
	}
	if err := a.store.CreateNotification(ctx, n); err != nil {
		return err
	}
	a.log.WarnContext(ctx, "notification", "kind", n.Kind, "subscriber_id", sub.ID, "notification_id", n.ID, "has_email", n.Email != "")
	if a.notifier == nil || n.Email == "" {
		return nil
	}
	sendErr := a.notifier.Send(ctx, n)
	if sendErr != nil {
		a.log.WarnContext(ctx, "notification not sent", "notification_id", n.ID, "error", sendErr)
	}
	return a.store.MarkNotificationSent(ctx, n.ID, sendErr)
}
