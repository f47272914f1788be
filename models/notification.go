package models

import "time"

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
