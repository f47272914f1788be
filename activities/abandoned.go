package activities

import (
	"context"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// abandonedStore is what settling deliveries whose workflow was closed from outside
// needs of the store.
type abandonedStore interface {
	UnfinishedDeliveries(ctx context.Context, q store.DeliveryQuery, after int64, limit int) ([]models.Delivery, error)
	FailAbandoned(ctx context.Context, id int64, reason string) (bool, error)
}

// settleAbandoned records as failed the deliveries that q selects whose series is under
// way but whose own workflow was closed from outside Hookflow (terminated, cancelled, timed
// out), so that a bulk retry of failed deliveries includes them. It returns how many it
// settled. Each unfinished delivery costs one describe call, and only bulk retries of
// failed deliveries pay it.
func (a *Activities) settleAbandoned(ctx context.Context, q store.DeliveryQuery) (int, error) {
	settled := 0
	for after := int64(0); ; {
		page, err := a.store.UnfinishedDeliveries(ctx, q, after, 100)
		if err != nil || len(page) == 0 {
			return settled, err
		}
		for _, d := range page {
			after = d.ID
			wfID := workflows.DeliveryWorkflowID(d.CompanyID, d.EventID, d.SubscriberID, d.Series)
			resp, err := a.temporal.DescribeWorkflowExecution(ctx, wfID, "")
			if _, missing := err.(*serviceerror.NotFound); missing {
				continue // not started yet (inline-first: its first attempt is under way)
			}
			if err != nil {
				return settled, err
			}
			// The enum's String is "Terminated"; its proto name is what AbandonedReason reads.
			st := resp.GetWorkflowExecutionInfo().GetStatus()
			status := strings.TrimPrefix(enumspb.WorkflowExecutionStatus_name[int32(st)], "WORKFLOW_EXECUTION_STATUS_")
			reason := workflows.AbandonedReason(status)
			if reason == "" {
				continue
			}
			changed, err := a.store.FailAbandoned(ctx, d.ID, reason)
			if err != nil {
				return settled, err
			}
			if changed {
				settled++
				a.log.WarnContext(ctx, "delivery's workflow closed outside Hookflow; recorded as failed", "delivery_id", d.ID,
					"subscriber_id", d.SubscriberID, "event_id", d.EventID, "workflow_id", wfID, "workflow_status", status)
			}
		}
	}
}
