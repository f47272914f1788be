package workflows

import (
	"errors"
	"math"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// deliveryWorkflowV0 is DeliveryWorkflow as it ran for inputs without a Version: the
// workflow counted the attempts and Temporal's retry policy spaced them, so that a
// failure of Hookflow's own (its database away) used up an attempt. It stays, unchanged,
// for the runs that started under it: they replay this code until they end. It can go
// once no run started before DeliveryV1 is open.
//
// The first attempt runs as a local activity, inside the workflow task that starts the
// delivery: most deliveries succeed at once, and then the whole delivery costs one
// workflow task and no activity task. When that attempt fails, the rest of the series
// runs as a regular activity under the deployment's retry policy, continuing its
// schedule (the first retry after InitialInterval, the next after InitialInterval ×
// BackoffCoefficient, …, honouring Retry-After), so every retry survives worker and
// server restarts.
//
// When the subscriber is not active the delivery waits for SignalRelease (durably, without
// polling) or is discarded, per the subscriber's policy. A delivery whose retries run out,
// or whose receiver answers 410 Gone, fails and blocks its subscriber.
func deliveryWorkflowV0(ctx workflow.Context, in DeliveryInput) (DeliveryResult, error) {
	if in.Retry.MaximumAttempts == 0 {
		// Started without a policy (a redelivery from the API): use the worker's.
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		if err := workflow.ExecuteLocalActivity(lctx, ActivityRetryPolicy).Get(ctx, &in.Retry); err != nil {
			return DeliveryResult{}, err
		}
	}
	started := workflow.Now(ctx)
	offset := in.AttemptOffset
	release := workflow.GetSignalChannel(ctx, SignalRelease)
	state := DeliveryState{Phase: PhaseAttempting, Attempt: offset + 1}
	if err := workflow.SetQueryHandler(ctx, QueryDeliveryState, func() (DeliveryState, error) { return state, nil }); err != nil {
		return DeliveryResult{}, err
	}
	for first := true; ; first = false {
		var res DeliverResult
		var err error
		var delay time.Duration
		switch {
		case first && in.Continue:
			// The event workflow made the first attempt (inline-first mode) and it failed.
			// An older event workflow may have passed a Retry-After beyond the policy.
			delay = min(in.ContinueAfter, in.Retry.MaximumInterval)
			state.LastFailure = in.LastFailure
		default:
			state = DeliveryState{Phase: PhaseAttempting, Attempt: offset + 1}
			res, err = deliverOnce(ctx, in, offset)
			if err != nil && isRetryable(err) && offset+1 < in.Retry.MaximumAttempts {
				offset++
				delay = retryDelay(err, in.Retry, windowLeft(ctx, in.Retry, started))
				state.LastFailure = failureMessage(err)
			} else {
				delay = -1
			}
		}
		if delay >= 0 {
			res, err = retrySeries(ctx, in, offset, started, delay, &state)
		}
		if err != nil {
			return failDelivery(ctx, in, err)
		}
		if res.Outcome != OutcomeQueued {
			return finish(ctx, res.Outcome, res.Attempt)
		}
		// The subscriber is inactive (policy queue) or blocked: wait to be released.
		state = DeliveryState{Phase: PhaseWaitingRelease, Attempt: res.Attempt + 1}
		if err := setStatus(ctx, OutcomeQueued); err != nil {
			return DeliveryResult{}, err
		}
		release.Receive(ctx, nil)
		if res.Attempt > offset {
			offset = res.Attempt
		}
	}
}

// deliverOnce makes one attempt as a local activity.
func deliverOnce(ctx workflow.Context, in DeliveryInput, offset int) (DeliverResult, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: deliverStartToClose,
		// One attempt: its retries are the regular activity's, which survive restarts.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var res DeliverResult
	err := workflow.ExecuteLocalActivity(lctx, ActivityDeliver, DeliverInput{
		DeliveryID: in.DeliveryID, EventRowID: in.EventRowID, AttemptOffset: offset,
	}).Get(ctx, &res)
	return res, err
}

// retrySeries waits delay, then makes attempts offset+1 on (deliverRetried). A receiver's
// Retry-After ends that activity (ErrRetryAfter) instead of setting its next retry, so
// that the wait it asks for is held to the policy here: at most MaximumInterval and at
// most what is left of the series' window; the series then goes on with a new activity
// from the next attempt. Temporal would otherwise wait as long as the receiver asked,
// or end the series at once when that wait passes the window.
func retrySeries(ctx workflow.Context, in DeliveryInput, offset int, started time.Time, delay time.Duration, state *DeliveryState) (DeliverResult, error) {
	for {
		next := workflow.Now(ctx).Add(delay)
		*state = DeliveryState{Phase: PhaseWaitingRetry, Attempt: offset + 1, NextAttemptAt: &next, LastFailure: state.LastFailure}
		if err := workflow.Sleep(ctx, delay); err != nil {
			return DeliverResult{}, err
		}
		*state = DeliveryState{Phase: PhaseRetrying, Attempt: offset + 1, LastFailure: state.LastFailure}
		res, err := deliverRetried(ctx, in, offset, started)
		made, ok := retryAfterAttempt(err)
		if !ok || made >= in.Retry.MaximumAttempts || made <= offset {
			return res, err
		}
		offset = made
		delay = retryDelay(err, in.Retry, windowLeft(ctx, in.Retry, started))
		state.LastFailure = failureMessage(err)
	}
}

// windowLeft is what is left of the series' time limit.
func windowLeft(ctx workflow.Context, p RetryPolicy, started time.Time) time.Duration {
	return p.Expiration - workflow.Now(ctx).Sub(started)
}

// deliverRetried runs the attempts after the first as a regular activity whose retry
// policy continues the series' schedule: attempt offset+1 now (offset attempts were made
// and the wait after them is over), each later one after a wait that grows from
// InitialInterval × BackoffCoefficient^offset.
func deliverRetried(ctx workflow.Context, in DeliveryInput, offset int, started time.Time) (DeliverResult, error) {
	p := in.Retry
	initial := time.Duration(math.Min(float64(p.InitialInterval)*math.Pow(p.BackoffCoefficient, float64(max(offset, 1))), float64(p.MaximumInterval)))
	expiration := p.Expiration - workflow.Now(ctx).Sub(started)
	if expiration < deliverStartToClose {
		expiration = deliverStartToClose
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    deliverStartToClose,
		ScheduleToCloseTimeout: expiration, // what is left of the series' time limit
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        initial,                           // the wait after this activity's first try
			BackoffCoefficient:     p.BackoffCoefficient,              // growing by this factor
			MaximumInterval:        p.MaximumInterval,                 // up to this cap
			MaximumAttempts:        int32(p.MaximumAttempts - offset), // the attempts left in the series
			NonRetryableErrorTypes: []string{ErrSubscriberGone, ErrPermanent, ErrRetryAfter},
		},
	})
	var res DeliverResult
	err := workflow.ExecuteActivity(actx, ActivityDeliver, DeliverInput{
		DeliveryID: in.DeliveryID, EventRowID: in.EventRowID, AttemptOffset: offset,
	}).Get(ctx, &res)
	return res, err
}

// retryDelay is the wait after a failed attempt that the workflow itself schedules (the
// first, or one whose receiver sent Retry-After): the receiver's Retry-After when it sent
// one, else the policy's initial interval. Retry-After is held to the policy's longest
// wait and to left, what is left of the series' window, so that it neither moves the
// next attempt out of the window nor ends the series before its attempts are made.
func retryDelay(err error, p RetryPolicy, left time.Duration) time.Duration {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if d := appErr.NextRetryDelay(); d > 0 {
			return max(0, min(d, p.MaximumInterval, left))
		}
	}
	return p.InitialInterval
}

// retryAfterAttempt reports whether err is an attempt whose receiver sent Retry-After,
// and the number of that attempt.
func retryAfterAttempt(err error) (attempt int, ok bool) {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrRetryAfter || !appErr.HasDetails() {
		return 0, false
	}
	if appErr.Details(&attempt) != nil {
		return 0, false
	}
	return attempt, true
}
