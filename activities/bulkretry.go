package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// bulkWindow is how many redeliveries of a bulk retry may be waiting for their first
// attempt at once: enough to go fast, few enough not to flood the receivers.
const bulkWindow = 10

// bulkRetryStore is what BulkRetry needs of the store.
type bulkRetryStore interface {
	GetRetryJob(ctx context.Context, t models.Tenant, id int64) (*models.RetryJob, error)
	UpdateRetryJob(ctx context.Context, j *models.RetryJob) error
	DeliveryIDs(ctx context.Context, q store.DeliveryQuery, after int64, limit int) ([]int64, error)
	CountDeliveries(ctx context.Context, q store.DeliveryQuery) (int64, error)
	Redeliver(ctx context.Context, t models.Tenant, id int64, start store.StartFunc) (*models.Delivery, error)
}

// BulkRetry redelivers the deliveries a retry job selects, in id order, at most
// bulkWindow awaiting their first attempt at a time. Deliveries still under way are
// skipped. The job row records progress after every page; a retried activity resumes
// from it. A job whose stored filters cannot be read is marked failed with the reason
// and fails without retry (ErrPermanent), redelivering nothing.
func (a *Activities) BulkRetry(ctx context.Context, in workflows.BulkRetryInput) (workflows.BulkRetryResult, error) {
	job, err := a.store.GetRetryJob(ctx, models.Tenant{}, in.JobID)
	if err != nil {
		return workflows.BulkRetryResult{}, retryable(err)
	}
	q, err := store.RetryJobQuery(job)
	if err != nil {
		return workflows.BulkRetryResult{}, a.failRetryJob(ctx, job, err)
	}
	if a.temporal == nil {
		return workflows.BulkRetryResult{}, errors.New("bulk retry: no Temporal client configured")
	}
	settled := 0
	if job.LastDeliveryID == 0 && job.Status == models.DeliveryFailed {
		// Deliveries whose workflow was stopped from outside are failed too.
		if settled, err = a.settleAbandoned(ctx, q); err != nil {
			return workflows.BulkRetryResult{}, retryable(err)
		}
	}
	if (job.Total == 0 || settled > 0) && job.LastDeliveryID == 0 {
		n, err := a.store.CountDeliveries(ctx, q)
		if err != nil {
			return workflows.BulkRetryResult{}, retryable(err)
		}
		job.Total = int(n)
	}
	job.WorkflowID = activity.GetInfo(ctx).WorkflowExecution.ID
	var inFlight []int64
	for {
		ids, err := a.store.DeliveryIDs(ctx, q, job.LastDeliveryID, 100)
		if err != nil {
			return a.result(job), retryable(err)
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			for len(inFlight) >= bulkWindow {
				if err := a.awaitAttempt(ctx, inFlight[0]); err != nil {
					return a.result(job), retryable(err)
				}
				inFlight = inFlight[1:]
			}
			started, err := a.redeliver(ctx, q.Tenant, id)
			if err != nil {
				return a.result(job), retryable(err)
			}
			if started {
				job.Redelivered++
				inFlight = append(inFlight, id)
			} else {
				job.Skipped++
			}
			job.LastDeliveryID = id
		}
		if err := a.store.UpdateRetryJob(ctx, job); err != nil {
			return a.result(job), retryable(err)
		}
		activity.RecordHeartbeat(ctx, job.LastDeliveryID)
	}
	job.State = models.RetryCompleted
	if err := a.store.UpdateRetryJob(ctx, job); err != nil {
		return a.result(job), retryable(err)
	}
	a.log.InfoContext(ctx, "bulk retry done", "retry_id", job.ID, "redelivered", job.Redelivered, "skipped", job.Skipped)
	return a.result(job), nil
}

// failRetryJob records on the job that it cannot run, so that GET …/retry/{id} reports it
// failed and why, and returns the permanent error that ends its workflow. Until the
// record is stored the error is retryable: a job must not end without saying so.
func (a *Activities) failRetryJob(ctx context.Context, job *models.RetryJob, cause error) error {
	msg := models.ErrorMessage(cause)
	job.State, job.Error = models.RetryFailed, models.Truncate(msg, 1024)
	if err := a.store.UpdateRetryJob(ctx, job); err != nil {
		return retryable(err)
	}
	a.log.ErrorContext(ctx, "bulk retry refused", "retry_id", job.ID, "error", msg)
	return temporal.NewNonRetryableApplicationError(msg, workflows.ErrPermanent, cause)
}

func (a *Activities) result(j *models.RetryJob) workflows.BulkRetryResult {
	return workflows.BulkRetryResult{Redelivered: j.Redelivered, Skipped: j.Skipped}
}

// redeliver starts a new attempt series of delivery id (store.Store.Redeliver). It reports
// false for a delivery that is still under way (nothing to redeliver).
func (a *Activities) redeliver(ctx context.Context, t models.Tenant, id int64) (bool, error) {
	start := func(ctx context.Context, d *models.Delivery) (string, string, error) {
		return workflows.StartRedelivery(ctx, a.temporal, a.retry, d)
	}
	_, err := a.store.Redeliver(ctx, t, id, start)
	switch models.ErrorCode(err) {
	case "":
		return true, nil
	case models.ECONFLICT, models.ENOTFOUND, models.EGONE:
		// Under way, purged, or its payload expunged: nothing to redeliver.
		return false, nil
	}
	return false, fmt.Errorf("start redelivery of %d: %w", id, err)
}
