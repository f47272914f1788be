// Package engine is the Temporal adapter of the API: it implements apiserver.Engine,
// starting and signalling Hookflow's workflows through a Temporal client (accepting
// events, releasing queued deliveries, redelivering) and reading a delivery's live state
// into the API's apiserver.LiveState.
package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/producer"
	"github.com/hookflow/hookflow/workflows"
)

// Engine implements the API's workflow operations on a Temporal client.
type Engine struct {
	client client.Client
	retry  workflows.RetryPolicy
}

// New returns an Engine using c; redeliveries it starts get the retry policy.
func New(c client.Client, retry workflows.RetryPolicy) *Engine {
	return &Engine{client: c, retry: retry}
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
// store.Store.BeginRedelivery) and returns its workflow and run ids; see Redeliver and
// StartRedelivery.
func (e *Engine) Redeliver(ctx context.Context, d *models.Delivery) (workflowID, runID string, err error) {
	workflowID, runID, err = workflows.StartRedelivery(ctx, e.client, e.retry, d)
	return workflowID, runID, unavailable(err, "start the redelivery")
}

// StartBulkRetry starts the workflow of a bulk redelivery job.
func (e *Engine) StartBulkRetry(ctx context.Context, jobID int64) (string, error) {
	id := workflows.BulkRetryWorkflowID(jobID)
	_, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
		workflows.BulkRetryWorkflowName, workflows.BulkRetryInput{JobID: jobID})
	return id, unavailable(err, "start the bulk retry")
}

// DescribeDelivery reads the live state of a delivery's workflow: its status, and while
// it runs, its phase from the workflow itself (a query, which needs a worker and costs no
// history) refined by the retry state Temporal keeps for a pending Deliver activity.
func (e *Engine) DescribeDelivery(ctx context.Context, workflowID, runID string) (*apiserver.LiveState, error) {
	resp, err := e.client.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return nil, unavailable(err, "read the workflow")
	}
	info := resp.GetWorkflowExecutionInfo()
	st := &apiserver.LiveState{
		WorkflowStatus: strings.TrimPrefix(enumspb.WorkflowExecutionStatus_name[int32(info.GetStatus())], "WORKFLOW_EXECUTION_STATUS_"),
		RunID:          info.GetExecution().GetRunId(),
	}
	if st.WorkflowStatus != "RUNNING" {
		return st, nil
	}
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if v, err := e.client.QueryWorkflow(qctx, workflowID, st.RunID, workflows.QueryDeliveryState); err == nil {
		var ds workflows.DeliveryState
		if v.Get(&ds) == nil {
			st.Phase, st.CurrentAttempt, st.NextAttemptAt, st.LastFailure = ds.Phase, ds.Attempt, ds.NextAttemptAt, ds.LastFailure
			st.WaitingForRelease = ds.Phase == workflows.PhaseWaitingRelease
			st.ThrottledBy = ds.Limit
		}
	}
	for _, a := range resp.GetPendingActivities() {
		if a.GetActivityType().GetName() != workflows.ActivityDeliver {
			continue
		}
		// Attempts after the first run as one activity, whose tries Temporal counts; a
		// try may have failed on Hookflow's account and made no attempt, so the number
		// of the attempt is the delivery row's (the API reads it), not Temporal's.
		if t := a.GetNextAttemptScheduleTime(); t != nil && t.IsValid() {
			next := t.AsTime().UTC()
			st.NextAttemptAt = &next
		}
		// The receiver's last failure stays the one shown when the last try failed on
		// Hookflow's account; operators see that one in Temporal UI and the logs.
		if f := a.GetLastFailure(); f != nil && f.GetMessage() != "" && f.GetApplicationFailureInfo().GetType() != workflows.ErrInternal {
			st.LastFailure = f.GetMessage()
		}
	}
	return st, nil
}
