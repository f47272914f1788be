package activities

import (
	"context"
	"fmt"
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

// Send mails n to n.Email.
func (s SMTPNotifier) Send(_ context.Context, n *models.Notification) error {
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
	if err := smtp.SendMail(s.Addr, auth, s.From, []string{n.Email}, []byte(msg)); err != nil {
		return fmt.Errorf("send mail to %s: %w", n.Email, err)
	}
	return nil
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
