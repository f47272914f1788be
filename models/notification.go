package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Notification kinds.
const (
	NotifySubscriberBlocked = "subscriber_blocked"
)

// Notification is an alert about a subscriber, kept for its partner and sent to the
// subscriber's email_id when the deployment has a mail server.
type Notification struct {
	ID             int64  `gorm:"primaryKey"`
	OrganizationID string `gorm:"size:64;not null;index:idx_notifications_tenant,priority:1"`
	ExtensionID    string `gorm:"size:64;not null;index:idx_notifications_tenant,priority:2"`
	SubscriberID   int64  `gorm:"not null"`
	// DeliveryID is the delivery whose failure raised the alert; the activity that
	// records that failure mails it (0 for alerts stored before this was kept).
	DeliveryID int64     `gorm:"not null;default:0;index"`
	Kind       string    `gorm:"size:32;not null"`
	Email      string    `gorm:"size:320"`
	Subject    string    `gorm:"size:255;not null"`
	Message    string    `gorm:"type:text;not null"`
	CreatedAt  time.Time `gorm:"not null"`
	SentAt     *time.Time
	SendError  string `gorm:"size:1024"` // the last failed send's error
	// SendAttempts counts the tries to mail it, each counted as it begins, so that a try
	// that never reports back (its process died) counts too.
	SendAttempts int `gorm:"not null;default:0"`
}

// CreateNotification stores n and sets its ID and CreatedAt.
func (s *Store) CreateNotification(ctx context.Context, n *Notification) error {
	return createNotification(s.db.WithContext(ctx), s.Now(), n)
}

func createNotification(tx *gorm.DB, now time.Time, n *Notification) error {
	n.ID = 0
	n.CreatedAt = now
	return dbError(tx.Create(n).Error, "")
}

// UnsentNotifications returns the notifications that delivery deliveryID's failure
// raised and that still wait to be mailed — not sent, with an address, fewer than
// maxSends tries begun — oldest first.
func (s *Store) UnsentNotifications(ctx context.Context, deliveryID int64, maxSends int) ([]Notification, error) {
	var out []Notification
	err := s.rdb.WithContext(ctx).
		Where("delivery_id = ? AND sent_at IS NULL AND email <> '' AND send_attempts < ?", deliveryID, maxSends).
		Order("id").Find(&out).Error
	return out, dbError(err, "")
}

// BeginNotificationSend counts a try to mail notification id, before it is made.
func (s *Store) BeginNotificationSend(ctx context.Context, id int64) error {
	err := s.db.WithContext(ctx).Model(&Notification{}).Where("id = ?", id).
		Update("send_attempts", gorm.Expr("send_attempts + 1")).Error
	return dbError(err, "")
}

// MarkNotificationSent records the outcome of sending a notification by mail.
func (s *Store) MarkNotificationSent(ctx context.Context, id int64, sendErr error) error {
	updates := map[string]any{}
	if sendErr != nil {
		updates["send_error"] = Truncate(sendErr.Error(), 1024)
	} else {
		updates["sent_at"] = s.Now()
	}
	return dbError(s.db.WithContext(ctx).Model(&Notification{}).Where("id = ?", id).Updates(updates).Error, "")
}

// ListNotifications returns tenant t's latest notifications, newest first.
func (s *Store) ListNotifications(ctx context.Context, t Tenant, limit int) ([]Notification, error) {
	var out []Notification
	err := s.rdb.WithContext(ctx).Where("organization_id = ? AND extension_id = ?", t.OrganizationID, t.ExtensionID).
		Order("id DESC").Limit(limit).Find(&out).Error
	return out, dbError(err, "")
}
