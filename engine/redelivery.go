package engine

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// RedeliveryStore is what a redelivery needs of the store.
type RedeliveryStore interface {
	BeginRedelivery(ctx context.Context, t models.Tenant, id int64) (*models.Delivery, error)
	FinishDelivery(ctx context.Context, deliveryID int64, status, reason string, run store.Run) error
	SetDeliveryWorkflow(ctx context.Context, id int64, workflowID, runID string) error
}

// WorkflowStarter starts workflows; a Temporal client is one.
type WorkflowStarter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// StartFunc starts the workflow of a redelivery begun in the store.
type StartFunc func(ctx context.Context, d *models.Delivery) (workflowID, runID string, err error)

// Redeliver is the one way a delivery is redelivered, by the API and by bulk retry: it
// begins a new attempt series of delivery id in the store (ECONFLICT while the delivery
// is under way, ENOTFOUND outside the tenant), starts its workflow with start, and
// records the workflow on the delivery. When the workflow cannot be started the
// delivery is put back as it was, so that the caller may try again.
func Redeliver(ctx context.Context, st RedeliveryStore, start StartFunc, t models.Tenant, id int64, log *slog.Logger) (*models.Delivery, error) {
	d, err := st.BeginRedelivery(ctx, t, id)
	if err != nil {
		return nil, err
	}
	workflowID, runID, err := start(ctx, d)
	if err != nil {
		previous := d.PreviousStatus
		if previous == "" {
			previous = models.DeliveryFailed
		}
		if rerr := st.FinishDelivery(ctx, d.ID, previous, "", store.Run{}); rerr != nil {
			log.ErrorContext(ctx, "restore delivery after failed redelivery", "delivery_id", d.ID, "error", rerr)
		}
		return nil, err
	}
	if err := st.SetDeliveryWorkflow(ctx, d.ID, workflowID, runID); err != nil {
		return nil, err
	}
	d.WorkflowID, d.RunID = workflowID, runID
	log.InfoContext(ctx, "redelivery", "delivery_id", d.ID, "workflow_id", workflowID, "series", d.Series)
	return d, nil
}

// StartRedelivery starts the workflow of a redelivery begun in the store, under the
// deployment's retry policy. A workflow that an earlier try started already counts as
// started (with an empty run id).
func StartRedelivery(ctx context.Context, c WorkflowStarter, policy workflows.RetryPolicy, d *models.Delivery) (workflowID, runID string, err error) {
	opts, input := workflows.RedeliveryStart(workflows.DeliveryRef{
		DeliveryID: d.ID, SubscriberID: d.SubscriberID, EventRowID: d.EventRowID, CompanyID: d.CompanyID,
		EventID: d.EventID, EventSlug: d.EventSlug, OrganizationID: d.OrganizationID, Series: d.Series, Attempts: d.Attempts,
	}, policy)
	run, err := c.ExecuteWorkflow(ctx, opts, workflows.DeliveryWorkflowName, input)
	switch {
	case temporal.IsWorkflowExecutionAlreadyStartedError(err):
		return opts.ID, "", nil
	case err != nil:
		return "", "", unavailable(err, "start the redelivery")
	}
	return run.GetID(), run.GetRunID(), nil
}
