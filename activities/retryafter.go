package activities

import (
	"strconv"

	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/workflows"
)

// attemptFailedV0 is the error of an attempt that may be retried, for a run of older
// workflow code (an attempt without a Series). When the receiver sent
// Retry-After it is an ErrRetryAfter error carrying the attempt's number, so that the
// delivery workflow schedules the next attempt itself and holds the wait to its retry
// policy (see workflows.DeliveryWorkflow); NextRetryDelay still carries the wait for a
// workflow that predates it, which lets Temporal retry.
func attemptFailedV0(subscriberID int64, attempt int, resp webhook.Response) error {
	msg := "subscriber " + strconv.FormatInt(subscriberID, 10) + ": attempt " + strconv.Itoa(attempt) + " failed: " + resp.Message()
	if resp.RetryAfter <= 0 {
		return temporal.NewApplicationError(msg, workflows.ErrAttemptFailed)
	}
	return temporal.NewApplicationErrorWithOptions(msg, workflows.ErrRetryAfter,
		temporal.ApplicationErrorOptions{NextRetryDelay: resp.RetryAfter, Details: []any{attempt}})
}
