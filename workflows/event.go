package workflows

import (
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// FanOutPage is how many subscribers one run of EventWorkflow handles before it
// continues as new. It keeps each run's history (two events per child, one marker per
// inline attempt) and its pending children small: a parent's cost per child start grows
// with the children it already tracks.
const FanOutPage = 200

// InlineConcurrency bounds the first attempts an event workflow makes at once in
// inline-first mode.
const InlineConcurrency = 32

// Delivery modes.
const (
	// ModeChild starts one DeliveryWorkflow per delivery (the default).
	ModeChild = "child"
	// ModeInlineFirst makes each delivery's first attempt inside the event workflow, as a
	// local activity, and starts a DeliveryWorkflow only for deliveries that need more:
	// a retry, or waiting for an inactive or blocked subscriber.
	ModeInlineFirst = "inline-first"
)

// EventWorkflow fans an event out: it stores the event and creates a delivery row per
// subscriber of its slug (PrepareDeliveries, a local activity), then, in child mode,
// starts one DeliveryWorkflow per delivery; in inline-first mode it first makes every
// delivery's first attempt itself and starts DeliveryWorkflows only for those that need
// retries or must wait. It waits only until each child has started, not for it to
// finish: children are abandoned on purpose (ParentClosePolicy ABANDON), so a slow
// subscriber never holds the event open. Events with more than FanOutPage subscribers
// continue as new.
//
// Any service may start it (the REST API is one such producer), so it first checks its
// input as the API does (ValidateEventInput) and fails at once, without retrying, with
// an ErrInvalidEvent error naming the fields at fault; PrepareDeliveries refuses a slug
// that the catalogue does not know the same way, storing nothing. docs/PRODUCERS.md is
// the contract.
func EventWorkflow(ctx workflow.Context, in EventInput) (EventResult, error) {
	logger := workflow.GetLogger(ctx)
	if err := checkEventInput(ctx, in); err != nil {
		return EventResult{}, err
	}
	// A local activity: it runs in the workflow task that starts the event, and its input
	// (the payload, up to 1 MiB) is not written to the history a second time.
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second, // a database blip: try again soon
			BackoffCoefficient:     2,           // then back off
			MaximumInterval:        time.Minute, // but keep checking every minute
			MaximumAttempts:        0,           // never give up: an accepted event is never lost
			NonRetryableErrorTypes: []string{ErrPermanent},
		},
	})
	var prep PrepareResult
	err := workflow.ExecuteLocalActivity(lctx, ActivityPrepareDeliveries, PrepareInput{
		Event: in.Event, Cursor: in.Cursor, Limit: FanOutPage,
	}).Get(ctx, &prep)
	if err != nil {
		return EventResult{}, preparationFailure(err)
	}

	var children []childStart
	if prep.Mode == ModeInlineFirst {
		if children, err = firstAttempts(ctx, prep); err != nil {
			return EventResult{}, err
		}
	} else {
		for _, d := range prep.Deliveries {
			children = append(children, childStart{planned: d, input: DeliveryInput{
				Version: DeliveryV1, DeliveryID: d.DeliveryID, SubscriberID: d.SubscriberID, EventRowID: prep.EventRowID, Retry: prep.Retry,
			}})
		}
	}
	if err := startChildren(ctx, in.Event, children); err != nil {
		logger.Error("start deliveries", "error", err)
		return EventResult{}, err
	}

	started := in.Started + len(children)
	if prep.Next != 0 {
		next := in
		next.Event.Payload = nil
		next.Event.RowID = prep.EventRowID
		next.Cursor = prep.Next
		next.Started = started
		return EventResult{}, workflow.NewContinueAsNewError(ctx, EventWorkflowName, next)
	}
	return EventResult{Deliveries: started}, nil
}

// childStart is a DeliveryWorkflow to start.
type childStart struct {
	planned PlannedDelivery
	input   DeliveryInput
}

// startChildren starts the delivery workflows and waits until each has started.
func startChildren(ctx workflow.Context, ev Event, children []childStart) error {
	futures := make([]workflow.ChildWorkflowFuture, len(children))
	for i, c := range children {
		d := c.planned
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            d.WorkflowID,
			TaskQueue:             TaskQueue,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: deliveryAttributes(ev.Slug, ev.CompanyID, d.SubscriberID, d.OrganizationID),
			Memo:                  map[string]any{"subscriber_name": d.Name, "webhook_url": d.URL, "event_id": ev.ID},
		})
		futures[i] = workflow.ExecuteChildWorkflow(cctx, DeliveryWorkflowName, c.input)
	}
	for _, f := range futures {
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			// A previous attempt of this run, or an earlier redelivery, started it already.
			if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
				continue
			}
			return err
		}
	}
	return nil
}

// firstAttempts makes the first attempt of every delivery of the page as a local
// activity — the very function that DeliveryWorkflow runs — at most InlineConcurrency at
// a time, each recorded in the history as a marker with its result. It returns the
// deliveries that need a DeliveryWorkflow: those to retry (continuing from attempt 2)
// and those whose subscriber is inactive or blocked (which wait for release there).
// A delivery that fails for good (410 Gone) is failed here, blocking its subscriber.
func firstAttempts(ctx workflow.Context, prep PrepareResult) ([]childStart, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: deliverStartToClose,
		// One attempt: retries belong to the DeliveryWorkflow, which survives restarts.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	type outcome struct {
		res DeliverResult
		err error
	}
	// The attempt window starts with the first attempt; the DeliveryWorkflow started for
	// a retry counts it from its own start, a moment later.
	series := &AttemptSeries{Retry: prep.Retry, Deadline: workflow.Now(ctx).Add(prep.Retry.Expiration)}
	n := len(prep.Deliveries)
	results := make([]outcome, n)
	sel := workflow.NewSelector(ctx)
	inFlight, next := 0, 0
	launch := func(i int) {
		d := prep.Deliveries[i]
		f := workflow.ExecuteLocalActivity(lctx, ActivityDeliver, DeliverInput{DeliveryID: d.DeliveryID, EventRowID: prep.EventRowID, Inline: true, Series: series})
		sel.AddFuture(f, func(f workflow.Future) {
			results[i].err = f.Get(ctx, &results[i].res)
			inFlight--
		})
		inFlight++
	}
	for next < n && inFlight < InlineConcurrency {
		launch(next)
		next++
	}
	for inFlight > 0 {
		sel.Select(ctx)
		if next < n {
			launch(next)
			next++
		}
	}

	var children []childStart
	for i, r := range results {
		d := prep.Deliveries[i]
		input := DeliveryInput{Version: DeliveryV1, DeliveryID: d.DeliveryID, SubscriberID: d.SubscriberID, EventRowID: prep.EventRowID, Retry: prep.Retry}
		switch {
		case r.err == nil && r.res.Outcome == OutcomeQueued:
			children = append(children, childStart{planned: d, input: input})
		case r.err == nil && r.res.Outcome == OutcomeThrottled:
			// Its turn is later: the DeliveryWorkflow waits for it durably.
			input.Throttled = r.res.Turn
			children = append(children, childStart{planned: d, input: input})
		case r.err == nil:
			// Delivered, filtered or discarded: nothing more to do.
		case isRetryable(r.err) && (prep.Retry.MaximumAttempts > 1 || isInternal(r.err)):
			// A failure of Hookflow's own made no attempt: the workflow makes it.
			input.AttemptOffset = attemptOf(r.err)
			input.ContinueAfter = nextDelay(r.err)
			input.Continue = true
			input.LastFailure = failureMessage(r.err)
			children = append(children, childStart{planned: d, input: input})
		default:
			if _, err := failDelivery(ctx, input, r.err); err != nil {
				return nil, err
			}
		}
	}
	return children, nil
}
