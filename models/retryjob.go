package models

import "time"

// RetryJob is a bulk redelivery: every delivery of a tenant that matches its filter is
// redelivered by one workflow.
type RetryJob struct {
	ID             int64     `gorm:"primaryKey"`
	OrganizationID string    `gorm:"size:64;not null;index"`
	ExtensionID    string    `gorm:"size:64;not null"`
	StartDate      time.Time `gorm:"not null"`
	EndDate        time.Time `gorm:"not null"`
	SubscriberIDs  JSON      `gorm:"type:text"`        // JSON array, empty for all
	EventSlugs     JSON      `gorm:"type:text"`        // JSON array, empty for all
	Status         string    `gorm:"size:16;not null"` // the delivery status to redeliver
	State          string    `gorm:"size:16;not null"` // running, completed, failed
	Total          int       `gorm:"not null;default:0"`
	Redelivered    int       `gorm:"not null;default:0"`
	Skipped        int       `gorm:"not null;default:0"`
	LastDeliveryID int64     `gorm:"not null;default:0"`
	WorkflowID     string    `gorm:"size:128"`
	Error          string    `gorm:"size:1024"`
	CreatedAt      time.Time `gorm:"not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

// Retry job states.
const (
	RetryRunning   = "running"
	RetryCompleted = "completed"
	RetryFailed    = "failed"
)
