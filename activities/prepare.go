package activities

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// prepareStore is what PrepareDeliveries needs of the store.
type prepareStore interface {
	StoreEvent(ctx context.Context, ev *models.Event) (bool, error)
	PlanDeliveries(ctx context.Context, ev *models.Event, after int64, limit int, workflowID func(int64) string) ([]store.PlannedDelivery, int64, error)
}

// PrepareDeliveries stores the event (once) and creates the delivery rows of one page of
// its subscribers. It returns the deliveries to start — those that are not already over,
// such as the ones discarded because their subscriber is inactive — and the deployment's
// retry policy. It is idempotent, so Temporal may retry it freely.
//
// Before storing the event it checks that the catalogue has its slug, which the REST
// API checked already but a producer that started the workflow itself may not have: an
// unknown slug fails for good (workflows.ErrPermanent, the field in the details) and
// nothing is stored. Database errors are retried.
func (a *Activities) PrepareDeliveries(ctx context.Context, in workflows.PrepareInput) (workflows.PrepareResult, error) {
	ev := &models.Event{
		ID: in.Event.RowID, CompanyID: in.Event.CompanyID, EventID: in.Event.ID, Slug: in.Event.Slug,
		ApplicationID: in.Event.ApplicationID, TraceID: in.Event.TraceID, Payload: in.Event.Payload,
		AcceptedAt: in.Event.AcceptedAt.UTC(), WorkflowID: activity.GetInfo(ctx).WorkflowExecution.ID,
	}
	if ev.ID == 0 {
		known, err := a.catalogue.has(ctx, a.store, ev.Slug)
		if err != nil {
			return workflows.PrepareResult{}, retryable(err)
		}
		if !known {
			a.log.WarnContext(ctx, "event refused: its slug is not in the catalogue", "event_id", ev.EventID, "workflow_id", ev.WorkflowID)
			return workflows.PrepareResult{}, notInCatalogue(ev.Slug)
		}
		// The payload was canonical when accepted, but a JSON payload converter on the way
		// may have re-escaped it (encoding/json escapes <, > and &); store what receivers get.
		canonical, err := payload.Canonicalize(ev.Payload)
		if err != nil {
			return workflows.PrepareResult{}, temporal.NewNonRetryableApplicationError(
				"event payload is not a JSON object: "+err.Error(), workflows.ErrPermanent, err)
		}
		ev.Payload = canonical
		if _, err := a.store.StoreEvent(ctx, ev); err != nil {
			return workflows.PrepareResult{}, retryable(err)
		}
	}
	planned, next, err := a.store.PlanDeliveries(ctx, ev, in.Cursor, in.Limit, func(subscriberID int64) string {
		return workflows.DeliveryWorkflowID(ev.CompanyID, ev.EventID, subscriberID, 0)
	})
	if err != nil {
		return workflows.PrepareResult{}, retryable(err)
	}
	out := workflows.PrepareResult{EventRowID: ev.ID, Next: next, Retry: a.retry, Mode: a.mode}
	for _, p := range planned {
		if models.DeliveryFinal(p.Status) {
			continue
		}
		out.Deliveries = append(out.Deliveries, workflows.PlannedDelivery{
			DeliveryID: p.DeliveryID, SubscriberID: p.SubscriberID, OrganizationID: p.OrganizationID,
			WorkflowID: p.WorkflowID, Name: p.Name, URL: p.WebhookURL,
		})
	}
	if in.Cursor == 0 {
		a.metrics.EventFannedOut()
	}
	a.log.InfoContext(ctx, "event prepared", "event_id", ev.EventID, "workflow_id", ev.WorkflowID,
		"deliveries", len(out.Deliveries), "more", next != 0)
	return out, nil
}
