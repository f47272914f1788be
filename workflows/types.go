package workflows

import (
	"encoding/json"
	"math"
	"time"

	"github.com/hookflow/hookflow/models"
)

// Event is an accepted event as it travels through the event workflow.
type Event struct {
	CompanyID     int64  `json:"company_id"`
	ID            string `json:"id"`   // the producer's event id (idempotency key)
	Slug          string `json:"slug"` // category/name/type/vN
	ApplicationID string `json:"application_id,omitempty"`
	TraceID       string `json:"trace_id,omitempty"`
	// AcceptedAt is when the event was accepted; it becomes created_timestamp.
	AcceptedAt time.Time `json:"accepted_at"`
	// Payload is the canonical payload object (package payload). It is dropped from the
	// input once the event is stored, to keep later runs' histories small.
	Payload json.RawMessage `json:"payload,omitempty"`
	// RowID is the stored event's row id, 0 until stored.
	RowID int64 `json:"row_id,omitempty"`
}

// EventInput is the input of EventWorkflow.
type EventInput struct {
	Event Event `json:"event"`
	// Cursor resumes the fan-out after this subscriber id (continue-as-new).
	Cursor int64 `json:"cursor,omitempty"`
	// Started counts deliveries started by earlier runs of this event.
	Started int `json:"started,omitempty"`
}

// EventResult is the result of EventWorkflow.
type EventResult struct {
	Deliveries int `json:"deliveries"` // delivery workflows started
}

// RetryPolicy is the deployment's delivery retry policy. The event workflow gets it from
// the worker's configuration (through PrepareDeliveries, so that it is recorded in
// history) and hands it to each delivery.
type RetryPolicy struct {
	InitialInterval    time.Duration `json:"initial_interval"`
	BackoffCoefficient float64       `json:"backoff_coefficient"`
	MaximumInterval    time.Duration `json:"maximum_interval"`
	MaximumAttempts    int           `json:"maximum_attempts"`
	// Expiration bounds the time a delivery spends attempting (Fynd: 48 hours); waiting
	// for an inactive or blocked subscriber's release does not count.
	Expiration time.Duration `json:"expiration"`
}

// DelayAfter is the wait the policy sets after the attempt numbered attempt fails:
// InitialInterval after the first, growing by BackoffCoefficient up to MaximumInterval.
func (p RetryPolicy) DelayAfter(attempt int) time.Duration {
	d := float64(p.InitialInterval) * math.Pow(p.BackoffCoefficient, float64(max(attempt-1, 0)))
	return time.Duration(min(d, float64(p.MaximumInterval)))
}

// PrepareInput is the input of the PrepareDeliveries activity.
type PrepareInput struct {
	Event  Event `json:"event"`
	Cursor int64 `json:"cursor,omitempty"`
	Limit  int   `json:"limit"`
}

// PlannedDelivery is a delivery the event workflow starts.
type PlannedDelivery struct {
	DeliveryID     int64  `json:"delivery_id"`
	SubscriberID   int64  `json:"subscriber_id"`
	OrganizationID string `json:"organization_id"`
	WorkflowID     string `json:"workflow_id"`
	Name           string `json:"name,omitempty"` // memo, for Temporal UI
	URL            string `json:"url,omitempty"`  // memo, for Temporal UI
}

// PrepareResult is the result of PrepareDeliveries.
type PrepareResult struct {
	EventRowID int64             `json:"event_row_id"`
	Deliveries []PlannedDelivery `json:"deliveries"`
	Next       int64             `json:"next,omitempty"` // 0 when no subscribers remain
	Retry      RetryPolicy       `json:"retry"`
	// Mode is the deployment's delivery mode, ModeChild or ModeInlineFirst.
	Mode string `json:"mode,omitempty"`
}

// DeliveryInput is the input of DeliveryWorkflow.
type DeliveryInput struct {
	// Version is DeliveryV1 for every delivery started now; an input without it is of a
	// run that started under older code, which it replays (see DeliveryV1).
	Version      int         `json:"version,omitempty"`
	DeliveryID   int64       `json:"delivery_id"`
	SubscriberID int64       `json:"subscriber_id"`
	EventRowID   int64       `json:"event_row_id"`
	Retry        RetryPolicy `json:"retry"`
	// AttemptOffset is the number of attempts made before this workflow (redelivery, or
	// the first attempt made by the event workflow in inline-first mode).
	AttemptOffset int `json:"attempt_offset,omitempty"`
	// Continue says that the attempt before this workflow failed and may be retried:
	// the workflow waits ContinueAfter, then continues the series as a regular activity.
	Continue      bool          `json:"continue,omitempty"`
	ContinueAfter time.Duration `json:"continue_after,omitempty"`
	// LastFailure is why that attempt failed, for the delivery's live state.
	LastFailure string `json:"last_failure,omitempty"`
	// Throttled says that the attempt before this workflow (the event workflow's, in
	// inline-first mode) was throttled: the workflow waits for this turn, then attempts.
	Throttled *Turn `json:"throttled,omitempty"`
}

// Delivery outcomes, as the Deliver activity reports them, as DeliveryWorkflow ends and
// as its HookflowDeliveryStatus search attribute shows them: they are the delivery
// statuses of package models, which the delivery row records.
const (
	OutcomePending     = models.DeliveryPending // until the delivery ends
	OutcomeSucceeded   = models.DeliverySucceeded
	OutcomeFailed      = models.DeliveryFailed
	OutcomeFiltered    = models.DeliveryFiltered
	OutcomeFilterError = models.DeliveryFilterFail
	OutcomeQueued      = models.DeliveryQueued
	OutcomeDiscarded   = models.DeliveryDiscarded
	// OutcomeThrottled: the delivery waits for its turn under its subscriber's flow
	// limits (DeliverResult.Turn); no attempt was made. The delivery row stays pending.
	OutcomeThrottled = models.DeliveryThrottled
)

// Turn is a delivery's turn under its subscriber's rate limit: the time it may be sent,
// reserved under the limits of Epoch (see store.TakeTurn). A turn of another epoch is
// taken again.
type Turn struct {
	At    time.Time `json:"at"`
	Epoch int64     `json:"epoch"`
	// Reserved says that the turn was reserved in the limiter (a rate limit's turn);
	// otherwise At is only when to look again (a slot, or a pause).
	Reserved bool `json:"reserved,omitempty"`
	// Why names the limit the delivery waits for: rate_limit, max_in_flight, or
	// push_back (the receiver's Retry-After).
	Why string `json:"why,omitempty"`
	// Retaken says that the delivery woke too late for an earlier turn and took this one
	// instead; it does not give this one up however late it wakes.
	Retaken bool `json:"retaken,omitempty"`
	// Looks counts the looks for a free slot (max_in_flight) that found none in a row:
	// each waits longer before the next.
	Looks int `json:"looks,omitempty"`
}

// DeliverInput is the input of the Deliver activity.
type DeliverInput struct {
	DeliveryID    int64 `json:"delivery_id"`
	EventRowID    int64 `json:"event_row_id"`
	AttemptOffset int   `json:"attempt_offset,omitempty"`
	// Inline marks a first attempt made by the event workflow (inline-first mode). When
	// the subscriber is not active it then leaves the delivery as it is and answers
	// OutcomeQueued: the DeliveryWorkflow started for it marks it queued itself, under the
	// lock that re-activation takes, so that its release cannot be missed.
	Inline bool `json:"inline,omitempty"`
	// Series is the attempt's series: with it the activity spaces and ends the series
	// itself (DeliveryV1); without it (a run of older code) Temporal's retry policy does.
	Series *AttemptSeries `json:"series,omitempty"`
	// Turn is the turn the delivery was given when it was last throttled.
	Turn *Turn `json:"turn,omitempty"`
}

// AttemptSeries is what an attempt knows of its series.
type AttemptSeries struct {
	Retry RetryPolicy `json:"retry"`
	// Deadline is the end of the delivery's attempt window: no attempt is scheduled later.
	Deadline time.Time `json:"deadline"`
}

// DeliverResult is the result of the Deliver activity. In inline-first mode it is what
// the event workflow's history shows for each first attempt (a marker), so it names the
// subscriber and the answer.
type DeliverResult struct {
	Outcome      string  `json:"outcome"`
	Attempt      int     `json:"attempt,omitempty"` // number of the last attempt made, 0 if none
	StatusCode   int     `json:"status_code,omitempty"`
	SubscriberID int64   `json:"subscriber_id,omitempty"`
	LatencyMS    float64 `json:"latency_ms,omitempty"` // the receiver's response time
	// Turn is the delivery's turn when the Outcome is OutcomeThrottled.
	Turn *Turn `json:"turn,omitempty"`
}

// FailInput is the input of the FailDelivery activity.
type FailInput struct {
	DeliveryID   int64  `json:"delivery_id"`
	SubscriberID int64  `json:"subscriber_id"`
	Reason       string `json:"reason"`
	// Block blocks the subscriber (retries exhausted, or 410 Gone).
	Block bool `json:"block"`
}

// DeliveryResult is the result of DeliveryWorkflow.
type DeliveryResult struct {
	Outcome  string `json:"outcome"`
	Attempts int    `json:"attempts"`
}

// Error types the Deliver activity fails with; DeliveryWorkflow tells them apart.
const (
	// ErrAttemptFailed: the attempt failed. Its details hold the attempt's number, and
	// NextRetryDelay the wait before the next; it is non-retryable when the attempts ran
	// out.
	ErrAttemptFailed = "AttemptFailed"
	// ErrRetryPeriodEnded: the attempt failed and the next one would fall after the
	// delivery's attempt window; no retry.
	ErrRetryPeriodEnded = "RetryPeriodEnded"
	// ErrRetryAfter: the attempt failed and its receiver sent Retry-After (the error's
	// NextRetryDelay); its details hold the attempt's number. Only for runs of older code
	// (an attempt without a Series), whose workflow schedules the next attempt itself.
	ErrRetryAfter = "RetryAfter"
	// ErrSubscriberGone: the receiver answered 410 Gone; no retry, the subscriber is blocked.
	ErrSubscriberGone = "SubscriberGone"
	// ErrPermanent: the delivery cannot be made (e.g. its data vanished); no retry.
	ErrPermanent = "PermanentFailure"
	// ErrInternal: Hookflow's own failure (its database away or refusing a write, the
	// event unreadable); the same attempt is made again after NextRetryDelay, and no
	// attempt is counted. Its message names the class only; the cause has the detail.
	ErrInternal = "InternalFailure"
)
