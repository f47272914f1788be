// Package engine is the API's side of the workflow engine: it starts and signals
// Hookflow's workflows through a Temporal client (accepting events, releasing queued
// deliveries, redelivering) and reads their live state.
package engine

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/producer"
	"github.com/hookflow/hookflow/workflows"
)

// Engine implements the API's workflow operations on a Temporal client.
type Engine struct {
	client    client.Client
	namespace string
}

// New returns an Engine using c in namespace.
func New(c client.Client, namespace string) *Engine {
	return &Engine{client: c, namespace: namespace}
}

// StartEvent starts an event's workflow; see producer.Start.
func (e *Engine) StartEvent(ctx context.Context, in workflows.EventInput) (producer.Result, error) {
	return producer.Start(ctx, e.client, in)
}

// Ping checks that the Temporal frontend answers.
func (e *Engine) Ping(ctx context.Context) error {
	_, err := e.client.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// ReleaseSubscriber wakes the queued deliveries of a subscriber: it starts the
// subscriber's ReleaseWorkflow, or asks the running one for another pass.
func (e *Engine) ReleaseSubscriber(ctx context.Context, subscriberID int64) error {
	_, err := e.client.SignalWithStartWorkflow(ctx, workflows.ReleaseWorkflowID(subscriberID), workflows.SignalRescan, nil,
		client.StartWorkflowOptions{TaskQueue: workflows.TaskQueue}, workflows.ReleaseWorkflowName,
		workflows.ReleaseInput{SubscriberID: subscriberID})
	return unavailable(err, "release the queued deliveries")
}

// unavailable wraps a Temporal error as a domain error.
func unavailable(err error, what string) error {
	if err == nil {
		return nil
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return &models.Error{Code: models.ENOTFOUND, Message: fmt.Sprintf("could not %s: not found", what), Err: err}
	}
	return &models.Error{Code: models.EUNAVAILABLE, Message: fmt.Sprintf("could not %s: the workflow engine is unavailable, try again", what), Err: err}
}

// Redeliver starts the workflow of a redelivery that the store has begun (see
// models.Store.BeginRedelivery) and returns its workflow and run ids.
func (e *Engine) Redeliver(ctx context.Context, d *models.Delivery) (workflowID, runID string, err error) {
	opts, input := workflows.RedeliveryStart(workflows.DeliveryRef{
		DeliveryID: d.ID, SubscriberID: d.SubscriberID, EventRowID: d.EventRowID, CompanyID: d.CompanyID,
		EventID: d.EventID, EventSlug: d.EventSlug, OrganizationID: d.OrganizationID, Series: d.Series, Attempts: d.Attempts,
	})
	run, err := e.client.ExecuteWorkflow(ctx, opts, workflows.DeliveryWorkflowName, input)
	if err != nil {
		return "", "", unavailable(err, "start the redelivery")
	}
	return run.GetID(), run.GetRunID(), nil
}

// StartBulkRetry starts the workflow of a bulk redelivery job.
func (e *Engine) StartBulkRetry(ctx context.Context, jobID int64) (string, error) {
	id := workflows.BulkRetryWorkflowID(jobID)
	_, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
		workflows.BulkRetryWorkflowName, workflows.BulkRetryInput{JobID: jobID})
	return id, unavailable(err, "start the bulk retry")
}
