package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// releaseWait bounds how long a release waits for one woken delivery to make its attempt
// before it moves on to the next.
const releaseWait = time.Minute

// releaseStore is what ReleaseQueued needs of the store.
type releaseStore interface {
	QueuedDeliveries(ctx context.Context, subscriberID int64, limit int) ([]models.Delivery, error)
	DeliveryByID(ctx context.Context, id int64) (*models.Delivery, error)
	SubscriberByID(ctx context.Context, id int64) (*models.Subscriber, error)
	Installed(ctx context.Context, org, ext string, company int64) (bool, error)
	MarkReleased(ctx context.Context, id int64) error
}

// ReleaseQueued wakes a subscriber's queued deliveries, oldest event first, at most
// releaseConcurrency at a time: each is marked pending, signalled, and awaited until its
// attempt is made, so that the backlog reaches the receiver in order and at its pace.
// It stops early when the subscriber is no longer active: the rest stay queued.
func (a *Activities) ReleaseQueued(ctx context.Context, in workflows.ReleaseInput) (workflows.ReleaseResult, error) {
	if a.temporal == nil {
		return workflows.ReleaseResult{}, errors.New("release: no Temporal client configured")
	}
	var res workflows.ReleaseResult
	sem := make(chan struct{}, a.releaseConcurrency)
	errs := make(chan error, a.releaseConcurrency)
	wait := func() error { // for the releases in flight
		for i := 0; i < cap(sem); i++ {
			sem <- struct{}{}
		}
		for i := 0; i < cap(sem); i++ {
			<-sem
		}
		select {
		case err := <-errs:
			return err
		default:
			return nil
		}
	}
	for {
		sub, err := a.store.SubscriberByID(ctx, in.SubscriberID)
		if err != nil {
			return res, retryable(err)
		}
		installed, err := a.store.Installed(ctx, sub.OrganizationID, sub.ExtensionID, sub.CompanyID)
		if err != nil {
			return res, retryable(err)
		}
		// A deleted subscriber's, or an uninstalled extension's, queued deliveries are
		// woken whatever its status, without waiting for their attempts: each discards
		// itself (see Deliver).
		deleted := sub.DeletedAt.Valid || !installed
		if sub.Status != models.StatusActive && !deleted {
			break // deactivated again: what is left waits for the next activation
		}
		queued, err := a.store.QueuedDeliveries(ctx, in.SubscriberID, 100)
		if err != nil {
			return res, retryable(err)
		}
		if len(queued) == 0 {
			break
		}
		for _, d := range queued {
			select {
			case sem <- struct{}{}:
			case err := <-errs:
				return res, err
			case <-ctx.Done():
				return res, ctx.Err()
			}
			// Marked before the next page is read, so that no delivery is woken twice.
			if err := a.store.MarkReleased(ctx, d.ID); err != nil {
				<-sem
				return res, retryable(err)
			}
			go func(d models.Delivery) {
				defer func() { <-sem }()
				if err := a.wake(ctx, d, !deleted); err != nil {
					errs <- err
				}
			}(d)
			res.Released++
			activity.RecordHeartbeat(ctx, res.Released)
		}
		if err := wait(); err != nil {
			return res, retryable(err)
		}
	}
	if err := wait(); err != nil {
		return res, retryable(err)
	}
	a.log.InfoContext(ctx, "queued deliveries released", "subscriber_id", in.SubscriberID, "released", res.Released)
	return res, nil
}

// wake signals a released delivery's workflow and, when await, waits for its attempt.
func (a *Activities) wake(ctx context.Context, d models.Delivery, await bool) error {
	err := a.temporal.SignalWorkflow(ctx, d.WorkflowID, "", workflows.SignalRelease, nil)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		// The workflow is gone (terminated by an operator): nothing will deliver it.
		return a.store.FinishDelivery(ctx, d.ID, models.DeliveryFailed, "its workflow no longer runs", store.Run{})
	}
	if err != nil || !await {
		return err
	}
	return a.awaitAttempt(ctx, d.ID)
}

// awaitAttempt waits, up to releaseWait, until a delivery woken or restarted is no longer
// pending: its attempt was made (or it queued again, or ended).
func (a *Activities) awaitAttempt(ctx context.Context, id int64) error {
	deadline := time.Now().Add(releaseWait)
	for time.Now().Before(deadline) {
		cur, err := a.store.DeliveryByID(ctx, id)
		if err != nil {
			return err
		}
		if cur.Status != models.DeliveryPending {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}
