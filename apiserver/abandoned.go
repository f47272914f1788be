package apiserver

import (
	"context"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/workflows"
)

// abandonedStore is what settling deliveries whose workflow was closed from outside needs of the store.
type abandonedStore interface {
	FailAbandoned(ctx context.Context, id int64, reason string) (bool, error)
}

// ownWorkflowID is the workflow of a delivery's current series. In inline-first mode the
// row may still name the event workflow that made the first attempt.
func ownWorkflowID(d *models.Delivery) string {
	return workflows.DeliveryWorkflowID(d.CompanyID, d.EventID, d.SubscriberID, d.Series)
}

// settleAbandoned records the end of a delivery still under way whose own workflow was
// closed without finishing it (terminated, cancelled or timed out from outside
// Hookflow, where no code of ours runs): it becomes failed with that reason, so that it
// shows its real state and can be redelivered. It reports whether it changed the
// delivery.
func (s *Server) settleAbandoned(ctx context.Context, d *models.Delivery, live *LiveState) (bool, error) {
	reason := workflows.AbandonedReason(live.WorkflowStatus)
	if reason == "" || models.DeliveryFinal(d.Status) {
		return false, nil
	}
	changed, err := s.store.FailAbandoned(ctx, d.ID, reason)
	if err != nil {
		return false, err
	}
	if changed {
		s.log.WarnContext(ctx, "delivery's workflow closed outside Hookflow; recorded as failed", "delivery_id", d.ID,
			"subscriber_id", d.SubscriberID, "event_id", d.EventID, "workflow_id", ownWorkflowID(d), "workflow_status", live.WorkflowStatus)
	}
	return changed, nil
}

// settleAbandonedByID is settleAbandoned for a delivery of tenant t known by id, reading
// its workflow's state first.
func (s *Server) settleAbandonedByID(ctx context.Context, t models.Tenant, id int64) (bool, error) {
	d, err := s.store.TenantDelivery(ctx, t, id)
	if err != nil || models.DeliveryFinal(d.Status) {
		return false, err
	}
	live, err := s.engine.DescribeDelivery(ctx, ownWorkflowID(&d.Delivery), "")
	if models.ErrorCode(err) == models.ENOTFOUND {
		return false, nil // not started yet
	}
	if err != nil {
		return false, err
	}
	return s.settleAbandoned(ctx, &d.Delivery, live)
}
