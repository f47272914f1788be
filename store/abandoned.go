package store

import (
	"context"
	"fmt"

	"github.com/hookflow/hookflow/models"
)

// unfinished are the statuses of a delivery whose series is under way.
var unfinished = []string{models.DeliveryPending, models.DeliveryRetrying, models.DeliveryQueued}

// FailAbandoned records that the workflow of a delivery ended without finishing it (it
// was terminated, cancelled or timed out from outside Hookflow): a delivery still under
// way becomes failed with reason, and so can be redelivered. It reports whether the
// delivery changed; one that ended meanwhile is left as it is.
func (s *Store) FailAbandoned(ctx context.Context, id int64, reason string) (bool, error) {
	now := s.Now()
	res := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("id = ? AND status IN ?", id, unfinished).
		Updates(map[string]any{"status": models.DeliveryFailed, "last_error": storableText(reason, 1024),
			"completed_at": now, "updated_at": now, "retry_body": nil})
	if res.Error != nil {
		return false, dbError(res.Error, fmt.Sprintf("delivery %d not found", id))
	}
	return res.RowsAffected > 0, nil
}

// UnfinishedDeliveries returns up to limit deliveries that q selects, ignoring its
// Status, whose series is still under way, above after and in id order: those whose
// workflow may have been closed from outside (see FailAbandoned).
func (s *Store) UnfinishedDeliveries(ctx context.Context, q DeliveryQuery, after int64, limit int) ([]models.Delivery, error) {
	q.Status = ""
	var out []models.Delivery
	err := s.deliveryQuery(ctx, q).Omit("retry_body").Where("status IN ? AND id > ?", unfinished, after).
		Order("id").Limit(limit).Find(&out).Error
	return out, dbError(err, "")
}
