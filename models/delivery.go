package models

import "time"

// Delivery statuses.
const (
	DeliveryPending    = "pending"      // created, not attempted yet (or released from the queue)
	DeliveryRetrying   = "retrying"     // attempted, failed, will be retried
	DeliverySucceeded  = "succeeded"    // a 2xx answer
	DeliveryFailed     = "failed"       // retries exhausted, 410 Gone, or a permanent error
	DeliveryFiltered   = "filtered"     // the subscriber's filter did not match; not sent
	DeliveryQueued     = "queued"       // waiting for the subscriber to become active
	DeliveryDiscarded  = "discarded"    // the subscriber was inactive with policy discard
	DeliveryFilterFail = "filter_error" // the filter or reducer failed at delivery; not sent
	// DeliveryThrottled is a running delivery waiting for its turn under its subscriber's
	// flow limits: its workflow's status and live phase; the row stays pending.
	DeliveryThrottled = "throttled"
)

// DeliveryFinal reports whether status ends a delivery's attempt series.
func DeliveryFinal(status string) bool {
	switch status {
	case DeliverySucceeded, DeliveryFailed, DeliveryFiltered, DeliveryDiscarded, DeliveryFilterFail:
		return true
	}
	return false
}

// Delivery is one event going to one subscriber. Its attempts are in Attempt rows.
type Delivery struct {
	ID                 int64   `gorm:"primaryKey"`
	EventRowID         int64   `gorm:"not null;uniqueIndex:idx_deliveries_event_sub,priority:1"`
	SubscriberID       int64   `gorm:"not null;uniqueIndex:idx_deliveries_event_sub,priority:2;index:idx_deliveries_sub_status,priority:1"`
	EventID            string  `gorm:"size:128;not null"`
	CompanyID          int64   `gorm:"not null"`
	OrganizationID     string  `gorm:"size:64;not null;index:idx_deliveries_tenant_created,priority:1"`
	ExtensionID        string  `gorm:"size:64;not null;index:idx_deliveries_tenant_created,priority:2"`
	EventSlug          string  `gorm:"size:200;not null"`
	Status             string  `gorm:"size:16;not null;index:idx_deliveries_sub_status,priority:2"`
	Attempts           int     `gorm:"not null;default:0"`
	Series             int     `gorm:"not null;default:0"`
	LastResponseCode   int     `gorm:"not null;default:0"`
	LastResponseTimeMS float64 `gorm:"not null;default:0"`
	LastError          string  `gorm:"size:1024"`
	LastAttemptedOn    *time.Time
	WorkflowID         string `gorm:"size:300;not null"`
	RunID              string `gorm:"size:64"`
	// EventAcceptedAt is when the event was accepted: queued deliveries are released in
	// this order (their ids follow the order in which fan-outs ran, which can differ).
	EventAcceptedAt time.Time `gorm:"not null"`
	CreatedAt       time.Time `gorm:"not null;index:idx_deliveries_tenant_created,priority:3"`
	// PreviousStatus is set by BeginRedelivery: the status the delivery ended with
	// before this series. Not stored.
	PreviousStatus string    `gorm:"-"`
	UpdatedAt      time.Time `gorm:"not null"`
	CompletedAt    *time.Time
	// RetryBody is the body the series' first attempt sent, kept while the series is
	// retried so that every retry sends the same bytes under the same webhook-id, even if
	// the subscriber's reducer changed in between. It is written only when a series' first
	// attempt does not succeed (a delivery that succeeds at once never pays for it) and
	// cleared when the series ends or a redelivery begins, which renders anew.
	RetryBody []byte `json:"-"`
}

// Error classes of an attempt.
const (
	ErrClassNone       = ""
	ErrClassTimeout    = "timeout"    // no answer within the subscriber's timeout
	ErrClassConnection = "connection" // DNS, connect, TLS or reset
	ErrClassRefused    = "refused"    // the destination is forbidden by the network policy
	ErrClassRedirect   = "redirect"   // a 3xx answer (redirects are not followed)
	ErrClassClient     = "http_4xx"
	ErrClassServer     = "http_5xx"
	ErrClassGone       = "gone" // 410: the subscriber is blocked
)

// MaxResponseBody is how much of a response body an attempt keeps.
const MaxResponseBody = 4096

// Attempt is one POST of a delivery (or one that could not be sent).
type Attempt struct {
	ID             int64     `gorm:"primaryKey"`
	DeliveryID     int64     `gorm:"not null;uniqueIndex:idx_attempts_delivery_attempt,priority:1"`
	OrganizationID string    `gorm:"size:64;not null;index:idx_attempts_tenant_time,priority:1"`
	ExtensionID    string    `gorm:"size:64;not null;index:idx_attempts_tenant_time,priority:2"`
	CompanyID      int64     `gorm:"not null"`
	SubscriberID   int64     `gorm:"not null"`
	EventSlug      string    `gorm:"size:200;not null"`
	Attempt        int       `gorm:"not null;uniqueIndex:idx_attempts_delivery_attempt,priority:2"`
	AttemptedOn    time.Time `gorm:"not null;index:idx_attempts_tenant_time,priority:3"`
	ResponseCode   int       `gorm:"type:integer;not null;default:0"`
	ResponseTimeMS float64   `gorm:"type:double precision;not null;default:0"`
	Error          string    `gorm:"size:1024"`
	ErrorClass     string    `gorm:"size:16"`
	ResponseBody   string    `gorm:"type:text"`
}

// AttemptStat sums the attempts of one tenant in one minute with one response code and
// attempt number. RecordAttempt maintains it in the attempt's transaction, so that the
// response-time report reads at most one row per minute, code and attempt number
// however many attempts there were.
type AttemptStat struct {
	OrganizationID string    `gorm:"size:64;primaryKey"`
	ExtensionID    string    `gorm:"size:64;primaryKey"`
	Minute         time.Time `gorm:"primaryKey;index:idx_attempt_stats_minute"`
	ResponseCode   int       `gorm:"type:integer;primaryKey;autoIncrement:false"`
	Attempt        int       `gorm:"type:integer;primaryKey;autoIncrement:false"`
	Count          int64     `gorm:"not null"`
	TotalMS        float64   `gorm:"type:double precision;not null"`
}
