package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// OutcomePending is the status a delivery has in Temporal UI until it ends.
const OutcomePending = "pending"

// deliverStartToClose bounds one attempt: the longest subscriber timeout (30 s) plus room
// for loading the delivery and recording the attempt.
const deliverStartToClose = 45 * time.Second

// DeliveryWorkflow delivers one event to one subscriber. The Deliver activity filters,
// reduces, signs, POSTs and records one attempt; Temporal retries it under the
// deployment's retry policy, so every attempt survives worker and server restarts. When
// the subscriber is not active the delivery waits for SignalRelease (durably, without
// polling) or is discarded, per the subscriber's policy. A delivery whose retries run out,
// or whose receiver answers 410 Gone, fails and blocks its subscriber.
func DeliveryWorkflow(ctx workflow.Context, in DeliveryInput) (DeliveryResult, error) {
	if in.Retry.MaximumAttempts == 0 {
		// Started without a policy (a redelivery from the API): use the worker's.
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		if err := workflow.ExecuteLocalActivity(lctx, ActivityRetryPolicy).Get(ctx, &in.Retry); err != nil {
			return DeliveryResult{}, err
		}
	}
	offset := in.AttemptOffset
	release := workflow.GetSignalChannel(ctx, SignalRelease)
	for {
		maxAttempts := in.Retry.MaximumAttempts - offset
		if maxAttempts < 1 {
			maxAttempts = 1
		}
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout:    deliverStartToClose,
			ScheduleToCloseTimeout: in.Retry.Expiration,
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval:        in.Retry.InitialInterval,    // first retry after this
				BackoffCoefficient:     in.Retry.BackoffCoefficient, // growing by this factor
				MaximumInterval:        in.Retry.MaximumInterval,    // up to this cap
				MaximumAttempts:        int32(maxAttempts),          // attempts left in the series
				NonRetryableErrorTypes: []string{ErrSubscriberGone, ErrPermanent},
			},
		})
		var res DeliverResult
		err := workflow.ExecuteActivity(actx, ActivityDeliver, DeliverInput{
			DeliveryID: in.DeliveryID, EventRowID: in.EventRowID, AttemptOffset: offset,
		}).Get(ctx, &res)
		if err != nil {
			return failDelivery(ctx, in, err)
		}
		if res.Outcome != OutcomeQueued {
			return finish(ctx, res.Outcome, res.Attempt)
		}
		// The subscriber is inactive (policy queue) or blocked: wait to be released.
		if err := setStatus(ctx, OutcomeQueued); err != nil {
			return DeliveryResult{}, err
		}
		release.Receive(ctx, nil)
		if res.Attempt > offset {
			offset = res.Attempt
		}
	}
}

// failDelivery records that the attempts ran out (or the receiver is gone), blocks the
// subscriber and ends the workflow as failed. The workflow itself completes: a failed
// delivery is a business outcome, visible through the HookflowDeliveryStatus attribute.
func failDelivery(ctx workflow.Context, in DeliveryInput, cause error) (DeliveryResult, error) {
	reason := "retries exhausted"
	block := true
	var appErr *temporal.ApplicationError
	if errors.As(cause, &appErr) {
		switch appErr.Type() {
		case ErrSubscriberGone:
			reason = "the receiver answered 410 Gone"
		case ErrPermanent:
			reason, block = appErr.Message(), false
		default:
			reason = "retries exhausted: " + appErr.Message()
		}
	} else {
		var timeoutErr *temporal.TimeoutError
		if errors.As(cause, &timeoutErr) {
			reason = "retries exhausted: the retry period ended"
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second, // the database may be briefly away
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    0, // the failure must be recorded
		},
	})
	err := workflow.ExecuteActivity(actx, ActivityFailDelivery, FailInput{
		DeliveryID: in.DeliveryID, SubscriberID: in.SubscriberID, Reason: reason, Block: block,
	}).Get(ctx, nil)
	if err != nil {
		return DeliveryResult{}, err
	}
	return finish(ctx, OutcomeFailed, 0)
}

func finish(ctx workflow.Context, outcome string, attempts int) (DeliveryResult, error) {
	if err := setStatus(ctx, outcome); err != nil {
		return DeliveryResult{}, err
	}
	return DeliveryResult{Outcome: outcome, Attempts: attempts}, nil
}

func setStatus(ctx workflow.Context, status string) error {
	return workflow.UpsertTypedSearchAttributes(ctx, SearchDeliveryStatus.ValueSet(status))
}
