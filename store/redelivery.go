package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookflow/hookflow/models"
)

// BeginRedelivery starts a new attempt series of a delivery that has ended: its series
// number goes up and its status back to pending; its attempts so far are kept, and new
// ones continue their numbering. t scopes the delivery to a tenant unless it is zero.
// Returns ENOTFOUND, or ECONFLICT while the delivery is still under way.
func (s *Store) BeginRedelivery(ctx context.Context, t models.Tenant, id int64) (*models.Delivery, error) {
	var d models.Delivery
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("id = ?", id)
		if t != (models.Tenant{}) {
			q = q.Where("organization_id = ? AND extension_id = ?", t.OrganizationID, t.ExtensionID)
		}
		if err := q.Take(&d).Error; err != nil {
			return err
		}
		if !models.DeliveryFinal(d.Status) {
			return &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("delivery %d is still %s; redeliver it once it has ended", id, d.Status)}
		}
		var expunged []time.Time
		if err := tx.Model(&models.Event{}).Where("id = ? AND payload_expunged_at IS NOT NULL", d.EventRowID).
			Pluck("payload_expunged_at", &expunged).Error; err != nil {
			return err
		}
		if len(expunged) > 0 {
			return &models.Error{Code: models.EGONE, Message: fmt.Sprintf("delivery %d cannot be redelivered: the payload of event %s was removed on %s by the retention policy",
				id, d.EventID, expunged[0].UTC().Format(time.RFC3339))}
		}
		d.Series++
		d.PreviousStatus = d.Status
		d.Status = models.DeliveryPending
		d.CompletedAt = nil
		d.UpdatedAt = s.Now()
		return tx.Model(&models.Delivery{}).Where("id = ?", id).Updates(map[string]any{
			// A redelivery renders the event anew, with the subscriber's configuration of now.
			"series": d.Series, "status": d.Status, "completed_at": nil, "updated_at": d.UpdatedAt, "retry_body": nil,
		}).Error
	})
	if err != nil {
		return nil, dbError(err, fmt.Sprintf("delivery %d not found", id))
	}
	return &d, nil
}

// SetDeliveryWorkflow records the workflow that now runs a delivery.
func (s *Store) SetDeliveryWorkflow(ctx context.Context, id int64, workflowID, runID string) error {
	err := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("id = ?", id).
		Updates(map[string]any{"workflow_id": workflowID, "run_id": runID}).Error
	return dbError(err, "")
}

// RetryJobQuery returns the deliveries retry job j selects. Returns EINVALID naming the
// column when subscriber_ids or event_slugs is set but is not a non-empty JSON array of
// ids or slugs: read as "no filter", such a row would select every delivery of the tenant.
func RetryJobQuery(j *models.RetryJob) (DeliveryQuery, error) {
	q := DeliveryQuery{
		Tenant: models.Tenant{OrganizationID: j.OrganizationID, ExtensionID: j.ExtensionID},
		Start:  j.StartDate, End: j.EndDate, Status: j.Status,
	}
	if err := decodeJobFilter(j.ID, "subscriber_ids", j.SubscriberIDs, &q.SubscriberIDs); err != nil {
		return DeliveryQuery{}, err
	}
	if err := decodeJobFilter(j.ID, "event_slugs", j.EventSlugs, &q.EventSlugs); err != nil {
		return DeliveryQuery{}, err
	}
	return q, nil
}

// decodeJobFilter reads one filter column of retry job id into list; an absent column
// (SQL NULL or empty) leaves list nil, which selects everything.
func decodeJobFilter[T any](id int64, field string, raw models.JSON, list *[]T) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, list); err != nil {
		*list = nil
		return models.Invalid(field, "retry job %d: %s: invalid JSON: %v", id, field, err)
	}
	if len(*list) == 0 {
		return models.Invalid(field, "retry job %d: %s: must be a non-empty JSON array, got %s", id, field, models.Truncate(string(raw), 64))
	}
	return nil
}

// DeliveryQuery selects deliveries of a tenant for bulk operations.
type DeliveryQuery struct {
	Tenant        models.Tenant
	Start, End    time.Time // created in [Start, End)
	SubscriberIDs []int64
	EventSlugs    []string
	Status        string
}

func (s *Store) deliveryQuery(ctx context.Context, q DeliveryQuery) *gorm.DB {
	db := s.rdb.WithContext(ctx).Model(&models.Delivery{}).
		Where("organization_id = ? AND extension_id = ? AND created_at >= ? AND created_at < ?",
			q.Tenant.OrganizationID, q.Tenant.ExtensionID, q.Start, q.End)
	if q.Status != "" {
		db = db.Where("status = ?", q.Status)
	}
	if len(q.SubscriberIDs) > 0 {
		db = db.Where("subscriber_id IN ?", q.SubscriberIDs)
	}
	if len(q.EventSlugs) > 0 {
		db = db.Where("event_slug IN ?", q.EventSlugs)
	}
	return db
}

// CountDeliveries counts the deliveries that q selects.
func (s *Store) CountDeliveries(ctx context.Context, q DeliveryQuery) (int64, error) {
	var n int64
	err := s.deliveryQuery(ctx, q).Count(&n).Error
	return n, dbError(err, "")
}

// DeliveryIDs returns up to limit ids of deliveries that q selects, above after, in order.
func (s *Store) DeliveryIDs(ctx context.Context, q DeliveryQuery, after int64, limit int) ([]int64, error) {
	var ids []int64
	err := s.deliveryQuery(ctx, q).Where("id > ?", after).Order("id").Limit(limit).Pluck("id", &ids).Error
	return ids, dbError(err, "")
}

// CreateRetryJob stores a new job in state running.
func (s *Store) CreateRetryJob(ctx context.Context, j *models.RetryJob) error {
	now := s.Now()
	j.ID, j.State, j.CreatedAt, j.UpdatedAt = 0, models.RetryRunning, now, now
	return dbError(s.db.WithContext(ctx).Create(j).Error, "")
}

// GetRetryJob returns tenant t's job id (any tenant's when t is zero). Returns ENOTFOUND.
func (s *Store) GetRetryJob(ctx context.Context, t models.Tenant, id int64) (*models.RetryJob, error) {
	q := s.rdb.WithContext(ctx).Where("id = ?", id)
	if t != (models.Tenant{}) {
		q = q.Where("organization_id = ? AND extension_id = ?", t.OrganizationID, t.ExtensionID)
	}
	var j models.RetryJob
	if err := q.Take(&j).Error; err != nil {
		return nil, dbError(err, fmt.Sprintf("retry %d not found", id))
	}
	return &j, nil
}

// UpdateRetryJob stores a job's progress and state.
func (s *Store) UpdateRetryJob(ctx context.Context, j *models.RetryJob) error {
	j.UpdatedAt = s.Now()
	err := s.db.WithContext(ctx).Model(&models.RetryJob{}).Where("id = ?", j.ID).Updates(map[string]any{
		"state": j.State, "total": j.Total, "redelivered": j.Redelivered, "skipped": j.Skipped,
		"last_delivery_id": j.LastDeliveryID, "workflow_id": j.WorkflowID, "error": j.Error, "updated_at": j.UpdatedAt,
	}).Error
	return dbError(err, "")
}

// StartFunc starts the workflow of a redelivery begun by BeginRedelivery and returns
// its workflow and run ids.
type StartFunc func(ctx context.Context, d *models.Delivery) (workflowID, runID string, err error)

// Redeliver is the one way a delivery is redelivered, by the API and by bulk retry: it
// begins a new attempt series of delivery id (ENOTFOUND outside the tenant, ECONFLICT
// while the delivery is under way), starts its workflow with start, and records the
// workflow on the delivery. When the workflow cannot be started the delivery is put back
// as it was, so that the caller may try again.
func (s *Store) Redeliver(ctx context.Context, t models.Tenant, id int64, start StartFunc) (*models.Delivery, error) {
	d, err := s.BeginRedelivery(ctx, t, id)
	if err != nil {
		return nil, err
	}
	workflowID, runID, err := start(ctx, d)
	if err != nil {
		previous := d.PreviousStatus
		if previous == "" {
			previous = models.DeliveryFailed
		}
		if rerr := s.FinishDelivery(ctx, d.ID, previous, "", Run{}); rerr != nil {
			s.log.ErrorContext(ctx, "restore delivery after failed redelivery", "delivery_id", d.ID, "error", rerr)
		}
		return nil, err
	}
	if err := s.SetDeliveryWorkflow(ctx, d.ID, workflowID, runID); err != nil {
		return nil, err
	}
	d.WorkflowID, d.RunID = workflowID, runID
	s.log.InfoContext(ctx, "redelivery", "delivery_id", d.ID, "workflow_id", workflowID, "series", d.Series)
	return d, nil
}
