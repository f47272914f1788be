package models

import (
	"fmt"
	"time"
)

// EventType is an entry of the event catalogue: an event that platform services emit and
// partners can subscribe to.
type EventType struct {
	ID            int64  `gorm:"primaryKey"`
	Slug          string `gorm:"size:200;not null;uniqueIndex"`
	Category      string `gorm:"size:64;not null"`
	Name          string `gorm:"size:64;not null"`
	Type          string `gorm:"size:64;not null"`
	Version       string `gorm:"size:16;not null"`
	DisplayName   string `gorm:"size:255;not null"`
	Description   string `gorm:"type:text"`
	Schema        JSON   `gorm:"type:text"`
	SamplePayload JSON   `gorm:"type:text"`
}

// Event is an accepted event as stored by its event workflow. The payload is kept in
// canonical form (see package payload), the exact bytes every delivery embeds.
type Event struct {
	ID            int64     `gorm:"primaryKey"`
	CompanyID     int64     `gorm:"not null;uniqueIndex:idx_events_company_event,priority:1"`
	EventID       string    `gorm:"size:128;not null;uniqueIndex:idx_events_company_event,priority:2"`
	Slug          string    `gorm:"size:200;not null"`
	ApplicationID string    `gorm:"size:128"`
	TraceID       string    `gorm:"size:64"`
	Payload       []byte    `gorm:"not null"`
	AcceptedAt    time.Time `gorm:"not null;index"`
	WorkflowID    string    `gorm:"size:300"`
}

// MaxEventIDLength bounds producer-chosen event ids.
const MaxEventIDLength = 128

// ValidateEventID checks a producer-chosen event id: 1 to 128 characters from
// [A-Za-z0-9._~-], so that it is safe in URLs, workflow ids and headers.
func ValidateEventID(id string) error {
	if id == "" {
		return fmt.Errorf("is required")
	}
	if len(id) > MaxEventIDLength {
		return fmt.Errorf("must be at most %d characters", MaxEventIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-') {
			return fmt.Errorf("may contain only letters, digits and . _ ~ -")
		}
	}
	return nil
}
