package workflows

import (
	"context"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/models"
)

// Names of the bulk redelivery workflow and its activity, and of the local activity
// that gave a redelivery started without a retry policy the worker's (runs of
// delivery_v0.go only).
const (
	BulkRetryWorkflowName = "BulkRetryWorkflow"
	ActivityBulkRetry     = "BulkRetry"
	ActivityRetryPolicy   = "RetryPolicy"
)

// BulkRetryWorkflowID returns the workflow id of a bulk redelivery job.
func BulkRetryWorkflowID(jobID int64) string { return "bulk-retry:" + strconv.FormatInt(jobID, 10) }

// DeliveryRef identifies a delivery and what its workflow's id, search attributes and
// input are made of.
type DeliveryRef struct {
	DeliveryID     int64
	SubscriberID   int64
	EventRowID     int64
	CompanyID      int64
	EventID        string
	EventSlug      string
	OrganizationID string
	Series         int // 0 for the first delivery, n for the n-th redelivery
	Attempts       int // attempts made before this series
}

// RedeliveryStart returns how to start the workflow of a redelivery (series ≥ 1) under
// the retry policy: a new workflow id, the usual search attributes, and an input that
// continues the attempt numbering.
func RedeliveryStart(d DeliveryRef, policy RetryPolicy) (client.StartWorkflowOptions, DeliveryInput) {
	return client.StartWorkflowOptions{
			ID:                    DeliveryWorkflowID(d.CompanyID, d.EventID, d.SubscriberID, d.Series),
			TaskQueue:             TaskQueue,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: deliveryAttributes(d.EventSlug, d.CompanyID, d.SubscriberID, d.OrganizationID),
			Memo:                  map[string]any{"event_id": d.EventID, "redelivery": d.Series},
		}, DeliveryInput{
			Version: DeliveryV1, DeliveryID: d.DeliveryID, SubscriberID: d.SubscriberID, EventRowID: d.EventRowID, AttemptOffset: d.Attempts,
			Retry: policy,
		}
}

// WorkflowStarter starts workflows; a Temporal client is one.
type WorkflowStarter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// StartRedelivery starts the workflow of a redelivery begun in the store under the
// deployment's retry policy (see RedeliveryStart). A workflow that an earlier try
// started already counts as started, with an empty run id.
func StartRedelivery(ctx context.Context, c WorkflowStarter, policy RetryPolicy, d *models.Delivery) (workflowID, runID string, err error) {
	opts, input := RedeliveryStart(DeliveryRef{
		DeliveryID: d.ID, SubscriberID: d.SubscriberID, EventRowID: d.EventRowID, CompanyID: d.CompanyID,
		EventID: d.EventID, EventSlug: d.EventSlug, OrganizationID: d.OrganizationID, Series: d.Series, Attempts: d.Attempts,
	}, policy)
	run, err := c.ExecuteWorkflow(ctx, opts, DeliveryWorkflowName, input)
	switch {
	case temporal.IsWorkflowExecutionAlreadyStartedError(err):
		return opts.ID, "", nil
	case err != nil:
		return "", "", err
	}
	return run.GetID(), run.GetRunID(), nil
}

// BulkRetryInput is the input of BulkRetryWorkflow and of the BulkRetry activity.
type BulkRetryInput struct {
	JobID int64 `json:"job_id"`
}

// BulkRetryResult is the result of BulkRetryWorkflow.
type BulkRetryResult struct {
	Redelivered int `json:"redelivered"`
	Skipped     int `json:"skipped"`
}

// BulkRetryWorkflow redelivers every delivery of a retry job. The BulkRetry activity
// does the work a page at a time, with a bounded number of redeliveries in flight,
// recording its progress in the job so that GET …/retry/{id} can report it.
func BulkRetryWorkflow(ctx workflow.Context, in BulkRetryInput) (BulkRetryResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 24 * time.Hour, // large jobs go at the receivers' pace
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second, // resume from the job's recorded progress
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    0,
		},
	})
	var res BulkRetryResult
	err := workflow.ExecuteActivity(actx, ActivityBulkRetry, in).Get(ctx, &res)
	return res, err
}
