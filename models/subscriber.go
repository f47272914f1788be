package models

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Subscriber statuses.
const (
	StatusActive   = "active"   // deliveries go out
	StatusInactive = "inactive" // set by the partner: deliveries queue or are discarded
	StatusBlocked  = "blocked"  // set by the system after exhausted retries or 410 Gone
)

// Inactive policies: what happens to a delivery while its subscriber is not active.
const (
	PolicyQueue   = "queue"   // wait durably, go out on re-activation, oldest first
	PolicyDiscard = "discard" // record the delivery as discarded
)

// Limits on subscribers.
const (
	MaxNameLength       = 255
	MaxEventsPerSub     = 100
	MaxCustomHeaders    = 20
	DefaultTimeout      = 5 * time.Second
	MaxTimeout          = 30 * time.Second
	MinTimeout          = 1 * time.Second
	SecretGracePeriod   = 24 * time.Hour
	MaxSecretLength     = 256
	MinSecretLength     = 8
	maxHeaderValueBytes = 1024
)

// Subscriber is a partner's webhook: a URL that receives the events it subscribes to,
// within one organization, extension and company.
type Subscriber struct {
	ID             int64  `gorm:"primaryKey"`
	OrganizationID string `gorm:"size:64;not null;index:idx_subscribers_tenant,priority:1"`
	ExtensionID    string `gorm:"size:64;not null;index:idx_subscribers_tenant,priority:2"`
	CompanyID      int64  `gorm:"not null;index:idx_subscribers_tenant,priority:3"`
	// ApplicationIDs limits the subscriber to the events of these applications of its
	// company (Fynd's association.application_id); empty: every application.
	ApplicationIDs IDList  `gorm:"size:2048;not null;default:''"`
	Name           string  `gorm:"size:255;not null"`
	WebhookURL     string  `gorm:"size:2048;not null"`
	Status         string  `gorm:"size:16;not null;default:active"`
	InactivePolicy string  `gorm:"size:16;not null;default:queue"`
	EmailID        string  `gorm:"size:320"`
	CustomHeaders  Headers `gorm:"type:text"`
	Secret         string  `gorm:"size:256;not null"`
	PreviousSecret string  `gorm:"size:256"`
	PreviousUntil  *time.Time
	TimeoutMS      int `gorm:"not null;default:5000"`
	// RateLimit bounds the deliveries per second sent to the receiver, across every
	// worker (0: no limit); RateLimitBurst lets that many go at once after a quiet spell
	// (0: 1). MaxInFlight bounds the requests in flight at once (0: no cap). See Flow.
	RateLimit      float64        `gorm:"not null;default:0"`
	RateLimitBurst int            `gorm:"not null;default:0"`
	MaxInFlight    int            `gorm:"not null;default:0"`
	BlockedReason  string         `gorm:"size:512"`
	CreatedOn      time.Time      `gorm:"not null"`
	UpdatedOn      time.Time      `gorm:"not null"`
	DeletedAt      gorm.DeletedAt `gorm:"index"`

	Events []SubscriberEvent `gorm:"foreignKey:SubscriberID"`
}

// SubscriberEvent is one event a subscriber receives, with its optional filter and
// reducer configuration.
type SubscriberEvent struct {
	ID           int64  `gorm:"primaryKey"`
	SubscriberID int64  `gorm:"not null;uniqueIndex:idx_subscriber_events_sub_slug,priority:1"`
	Slug         string `gorm:"size:200;not null;uniqueIndex:idx_subscriber_events_sub_slug,priority:2;index"`
	Filters      JSON   `gorm:"type:text"`
	Reducer      JSON   `gorm:"type:text"`

	// SetFilters and SetReducer say that an update sets Filters or Reducer (possibly to
	// nothing); otherwise UpdateSubscriber keeps the stored configuration of a kept event.
	SetFilters bool `gorm:"-"`
	SetReducer bool `gorm:"-"`
}

// Timeout returns the per-attempt timeout, defaulted and clamped to the allowed range.
func (s *Subscriber) Timeout() time.Duration {
	d := time.Duration(s.TimeoutMS) * time.Millisecond
	switch {
	case d <= 0:
		return DefaultTimeout
	case d < MinTimeout:
		return MinTimeout
	case d > MaxTimeout:
		return MaxTimeout
	}
	return d
}

// Event returns the subscription to slug, or nil.
func (s *Subscriber) Event(slug string) *SubscriberEvent {
	for i := range s.Events {
		if s.Events[i].Slug == slug {
			return &s.Events[i]
		}
	}
	return nil
}

// SigningSecrets returns the secrets that sign a delivery at now: the current one and,
// during the rotation grace period, the previous one.
func (s *Subscriber) SigningSecrets(now time.Time) []string {
	if s.PreviousSecret != "" && s.PreviousUntil != nil && now.Before(*s.PreviousUntil) {
		return []string{s.Secret, s.PreviousSecret}
	}
	return []string{s.Secret}
}

// MaskSecret shows the first four characters of a secret and hides the rest.
func MaskSecret(secret string) string {
	if secret == "" {
		return ""
	}
	n := 4
	if len(secret) <= 8 {
		n = 2
	}
	return secret[:n] + strings.Repeat("*", 8)
}

// reservedHeaders cannot be set through custom_headers: they carry the signature, the
// body framing or the event identity.
var reservedHeaders = map[string]bool{
	"content-type": true, "content-length": true, "host": true, "user-agent": true,
	"x-fp-signature": true, "x-fp-event-id": true, "webhook-id": true,
	"webhook-timestamp": true, "webhook-signature": true, "transfer-encoding": true,
	"connection": true, "te": true, "trailer": true, "upgrade": true, "expect": true,
	"keep-alive": true, "proxy-connection": true, "proxy-authorization": true,
}

// ValidateSubscriber checks the fields of s. It does not check that the events exist in
// the catalogue (the store does), nor who set the status: only the system may block a
// subscriber, which the API enforces on what partners send.
func ValidateSubscriber(s *Subscriber, policy NetworkPolicy) error {
	var v Validation
	switch name := strings.TrimSpace(s.Name); {
	case name == "":
		v.Add("name", "is required")
	case utf8.RuneCountInString(s.Name) > MaxNameLength:
		v.Add("name", "must be at most %d characters", MaxNameLength)
	}
	if err := policy.CheckURL(s.WebhookURL); err != nil {
		v.Add("webhook_url", "%v", err)
	}
	switch s.Status {
	case StatusActive, StatusInactive, StatusBlocked:
	default:
		v.Add("status", "must be active or inactive")
	}
	switch s.InactivePolicy {
	case PolicyQueue, PolicyDiscard:
	default:
		v.Add("inactive_policy", "must be queue or discard")
	}
	if s.EmailID != "" && !validEmail(s.EmailID) {
		v.Add("email_id", "is not a valid e-mail address")
	}
	if len(s.CustomHeaders) > MaxCustomHeaders {
		v.Add("custom_headers", "at most %d headers", MaxCustomHeaders)
	}
	// Sorted, so that the first error named is the same on every call; header names are
	// case-insensitive on the wire, so two names differing only by case would send the
	// header twice.
	byLower := make(map[string]string, len(s.CustomHeaders))
	for _, name := range slices.Sorted(maps.Keys(s.CustomHeaders)) {
		value := s.CustomHeaders[name]
		field := "custom_headers." + name
		lower := strings.ToLower(name)
		first, repeated := byLower[lower]
		if !repeated {
			byLower[lower] = name
		}
		switch {
		case !validHeaderName(name):
			v.Add(field, "is not a valid HTTP header name")
		case reservedHeaders[lower]:
			v.Add(field, "is reserved by Hookflow and cannot be overridden")
		case repeated:
			v.Add(field, "repeats %s: header names are case-insensitive", first)
		case len(value) > maxHeaderValueBytes:
			v.Add(field, "value must be at most %d bytes", maxHeaderValueBytes)
		default:
			if msg := checkHeaderValue(value); msg != "" {
				v.Add(field, "value %s", msg)
			}
		}
	}
	if n := len(s.Secret); n < MinSecretLength || n > MaxSecretLength {
		v.Add("auth_meta.secret", "must be %d to %d characters", MinSecretLength, MaxSecretLength)
	}
	if s.TimeoutMS != 0 && (time.Duration(s.TimeoutMS)*time.Millisecond < MinTimeout || time.Duration(s.TimeoutMS)*time.Millisecond > MaxTimeout) {
		v.Add("timeout_ms", "must be between %d and %d", MinTimeout.Milliseconds(), MaxTimeout.Milliseconds())
	}
	validateFlow(&v, s)
	validateApplicationIDs(&v, "association.application_id", s.ApplicationIDs)
	switch n := len(s.Events); {
	case n == 0:
		v.Add("events", "subscribe to at least one event")
	case n > MaxEventsPerSub:
		v.Add("events", "at most %d events per subscriber", MaxEventsPerSub)
	}
	seen := map[string]bool{}
	for i, e := range s.Events {
		field := fieldIndex("events", i) + ".slug"
		if _, err := ParseSlug(e.Slug); err != nil {
			v.Add(field, "%v", err)
			continue
		}
		if seen[e.Slug] {
			v.Add(field, "%s is listed twice", e.Slug)
		}
		seen[e.Slug] = true
	}
	return v.Err()
}

func fieldIndex(name string, i int) string {
	return name + "[" + itoa(i) + "]"
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

func validHeaderName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	return http.CanonicalHeaderKey(name) != "" && strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
	}) < 0
}

// checkHeaderValue says what is wrong with a header value under RFC 9110's field-value
// syntax (visible ASCII, spaces and tabs inside, and bytes from 0x80 up; no control
// characters, no leading or trailing white space), or "" when nothing is. A value is
// sent exactly as it is stored, so one that a client would refuse (or a receiver would
// read differently) must be refused here, where the partner sees why, and not at every
// send, where the deliveries would fail and block the subscriber.
func checkHeaderValue(v string) string {
	for i := 0; i < len(v); i++ {
		switch b := v[i]; {
		case b == '\t' || b == ' ':
			if i == 0 || i == len(v)-1 {
				return "must not start or end with white space"
			}
		case b < 0x20 || b == 0x7f:
			return fmt.Sprintf("must not contain the control character 0x%02x (at byte %d)", b, i)
		}
	}
	return ""
}

func validEmail(s string) bool {
	if len(s) > 320 || strings.ContainsAny(s, " \t\r\n<>,;\"") {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && strings.Contains(s[at+1:], ".")
}
