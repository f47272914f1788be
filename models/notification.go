package models

import (
	"context"
	"time"
)

// Notification kinds.
const (
	NotifySubscriberBlocked = "subscriber_blocked"
)

// Notification is an alert about a subscriber, kept for its partner and sent to the
// subscriber's email_id when the deployment has a mail server.
type Notification struct {
	ID             int64     `gorm:"primaryKey"`
	OrganizationID string    `gorm:"size:64;not null;index:idx_notifications_tenant,priority:1"`
	ExtensionID    string    `gorm:"size:64;not null;index:idx_notifications_tenant,priority:2"`
	SubscriberID   int64     `gorm:"not null"`
	Kind           string    `gorm:"size:32;not null"`
	Email          string    `gorm:"size:320"`
	Subject        string    `gorm:"size:255;not null"`
	Message        string    `gorm:"type:text;not null"`
	CreatedAt      time.Time `gorm:"not null"`
	SentAt         *time.Time
	SendError      string `gorm:"size:1024"`
}

// CreateNotification stores n and sets its ID and CreatedAt.
func (s *Store) CreateNotification(ctx context.Context, n *Notification) error {
	n.ID = 0
	n.CreatedAt = s.Now()
	return dbError(s.db.WithContext(ctx).Create(n).Error, "")
}

// MarkNotificationSent records the outcome of sending a notification by mail.
func (s *Store) MarkNotificationSent(ctx context.Context, id int64, sendErr error) error {
	updates := map[string]any{}
	if sendErr != nil {
		updates["send_error"] = truncateString(sendErr.Error(), 1024)
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
