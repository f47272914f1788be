package store

import (
	"context"

	"github.com/hookflow/hookflow/models"
)

// Unstarted counts, per company, the work accepted and not yet under way: events whose
// fan-out has not planned their deliveries yet, and deliveries waiting for their first
// attempt. Deliveries that wait by a receiver's choice (retrying after a failure,
// throttled under their subscriber's limits, queued while it is inactive) are not
// counted: they are not work that delivery is behind on. Companies with no backlog are
// absent. Two index-only counts (see migrate's partial indexes).
func (s *Store) Unstarted(ctx context.Context) (map[int64]int64, error) {
	type row struct {
		CompanyID int64
		N         int64
	}
	var events, deliveries []row
	db := s.rdb.WithContext(ctx)
	if err := db.Raw("SELECT company_id, COUNT(*) AS n FROM events WHERE fanned_out_at IS NULL GROUP BY company_id").Scan(&events).Error; err != nil {
		return nil, dbError(err, "")
	}
	if err := db.Raw("SELECT company_id, COUNT(*) AS n FROM deliveries WHERE status = '" + models.DeliveryPending + "' GROUP BY company_id").Scan(&deliveries).Error; err != nil {
		return nil, dbError(err, "")
	}
	out := make(map[int64]int64, len(events)+len(deliveries))
	for _, r := range append(events, deliveries...) {
		out[r.CompanyID] += r.N
	}
	return out, nil
}
