package workflows

import (
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// FanOutPage is how many subscribers one run of EventWorkflow starts deliveries for
// before it continues as new. It keeps each run's history (two events per child) and its
// pending children well within Temporal's limits, whatever the number of subscribers.
const FanOutPage = 200

// EventWorkflow fans an event out: it stores the event and creates a delivery row per
// subscriber of its slug (PrepareDeliveries, a local activity), then starts one
// DeliveryWorkflow per delivery. It waits only until each child has started, not for it to finish: children
// are abandoned on purpose (ParentClosePolicy ABANDON), so a slow subscriber never holds
// the event open. Events with more than FanOutPage subscribers continue as new.
func EventWorkflow(ctx workflow.Context, in EventInput) (EventResult, error) {
	logger := workflow.GetLogger(ctx)
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
		return EventResult{}, err
	}

	futures := make([]workflow.ChildWorkflowFuture, len(prep.Deliveries))
	for i, d := range prep.Deliveries {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            d.WorkflowID,
			TaskQueue:             TaskQueue,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				SearchEventSlug.ValueSet(in.Event.Slug),
				SearchCompanyID.ValueSet(strconv.FormatInt(in.Event.CompanyID, 10)),
				SearchSubscriberID.ValueSet(strconv.FormatInt(d.SubscriberID, 10)),
				SearchOrganizationID.ValueSet(d.OrganizationID),
				SearchDeliveryStatus.ValueSet(OutcomePending),
			),
			Memo: map[string]any{"subscriber_name": d.Name, "webhook_url": d.URL, "event_id": in.Event.ID},
		})
		futures[i] = workflow.ExecuteChildWorkflow(cctx, DeliveryWorkflowName, DeliveryInput{
			DeliveryID:   d.DeliveryID,
			SubscriberID: d.SubscriberID,
			EventRowID:   prep.EventRowID,
			Retry:        prep.Retry,
		})
	}
	for i, f := range futures {
		var exec workflow.Execution
		if err := f.GetChildWorkflowExecution().Get(ctx, &exec); err != nil {
			// A previous attempt of this run, or an earlier redelivery, started it already.
			if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
				continue
			}
			logger.Error("start delivery", "delivery_id", prep.Deliveries[i].DeliveryID, "error", err)
			return EventResult{}, err
		}
	}

	started := in.Started + len(prep.Deliveries)
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
