package models

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
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
	// FannedOutAt is when the event's last delivery row was planned: from then on the
	// event's deliveries are all in the deliveries table, and retention may remove the
	// event once none is left. Nil while its fan-out runs.
	FannedOutAt *time.Time
	// PayloadExpungedAt is when retention removed the payload (Payload is then empty):
	// the event's metadata stays, but it can no longer be redelivered.
	PayloadExpungedAt *time.Time
}

// Limits of an event's fields. Each bounds a column of Event, so that a stored event
// always fits; MaxPayloadBytes also bounds what every delivery of the event carries.
const (
	// MaxEventIDLength bounds producer-chosen event ids.
	MaxEventIDLength = 128
	// MaxApplicationIDLength bounds an event's application id, in bytes.
	MaxApplicationIDLength = 128
	// MaxTraceIDLength bounds an event's trace id, in bytes.
	MaxTraceIDLength = 64
	// MaxPayloadBytes bounds an event's payload in canonical form (package payload),
	// the bytes stored and delivered.
	MaxPayloadBytes = 1 << 20
)

// The rules below are the event's: the REST API and the event workflow both apply them,
// to events from the API and to those that a producer starts in Temporal itself. Each
// returns the message for its field, without the field's name, which differs between
// the two (event_slug in the API's body, slug in the workflow's input).

// ValidateCompanyID checks an event's company id: a positive integer.
func ValidateCompanyID(id int64) error {
	if id <= 0 {
		return fmt.Errorf("must be a positive integer")
	}
	return nil
}

// ValidateEventSlug checks an event's slug: present and of the form category/name/type/vN
// (ParseSlug). Whether the catalogue has it is the store's to say.
func ValidateEventSlug(slug string) error {
	if slug == "" {
		return fmt.Errorf("is required")
	}
	_, err := ParseSlug(slug)
	return err
}

// ValidateApplicationID checks an event's optional application id: at most
// MaxApplicationIDLength bytes of text that every store takes (UTF-8 without NUL).
func ValidateApplicationID(id string) error {
	if len(id) > MaxApplicationIDLength {
		return fmt.Errorf("must be at most %d characters", MaxApplicationIDLength)
	}
	return validateText(id)
}

// ValidateTraceID checks an event's optional trace id: at most MaxTraceIDLength bytes of
// text that every store takes (UTF-8 without NUL).
func ValidateTraceID(id string) error {
	if len(id) > MaxTraceIDLength {
		return fmt.Errorf("must be at most %d characters", MaxTraceIDLength)
	}
	return validateText(id)
}

// ValidatePayloadSize checks the length of an event's payload in canonical form.
func ValidatePayloadSize(n int) error {
	if n > MaxPayloadBytes {
		return fmt.Errorf("must be at most %d bytes", MaxPayloadBytes)
	}
	return nil
}

// validateText refuses what PostgreSQL refuses in a text column: bytes that are not
// UTF-8, and NUL.
func validateText(s string) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("must be UTF-8 text without NUL characters")
	}
	return nil
}

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
