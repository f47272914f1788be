package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
)

// AttemptFailed is the error of a failed attempt (other than 410 Gone) of series, made
// at now: an ErrAttemptFailed error with the attempt's number and the wait before the
// next attempt — the policy's for this attempt or, when the receiver sent Retry-After, that
// wait held to the policy's longest and to the window's end, so that a receiver neither
// ends the series nor moves an attempt out of it. When the attempts or the window have
// run out it is non-retryable: ErrAttemptFailed, or ErrRetryPeriodEnded.
func AttemptFailed(series *AttemptSeries, subscriberID int64, attempt int, reason string, retryAfter time.Duration, now time.Time) error {
	msg := "subscriber " + strconv.FormatInt(subscriberID, 10) + ": attempt " + strconv.Itoa(attempt) + " failed: " + reason
	p := series.Retry
	if attempt >= p.MaximumAttempts {
		return temporal.NewApplicationErrorWithOptions(msg, ErrAttemptFailed,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{attempt}})
	}
	left := series.Deadline.Sub(now)
	delay := p.DelayAfter(attempt)
	if retryAfter > 0 {
		delay = min(retryAfter, p.MaximumInterval, left)
	}
	if left <= 0 || delay > left {
		return temporal.NewApplicationErrorWithOptions(msg, ErrRetryPeriodEnded,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{attempt}})
	}
	// A NextRetryDelay of 0 would mean "as the retry policy says".
	return temporal.NewApplicationErrorWithOptions(msg, ErrAttemptFailed,
		temporal.ApplicationErrorOptions{NextRetryDelay: max(delay, time.Millisecond), Details: []any{attempt}})
}
