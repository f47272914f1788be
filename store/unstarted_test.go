package store_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestUnstarted: the work not yet under way is counted per company: deliveries waiting
// for their first attempt and events not fanned out; a delivery that ended, or that
// waits by the receiver's choice (retrying), is not.
func TestUnstarted(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		sub := mustSubscriber(t, s, "org1", "company/product/create/v1", nil)
		ids := mustDeliveries(t, s, sub, "company/product/create/v1", "a", "b", "c", "d")
		for _, id := range ids[:2] {
			status := models.DeliverySucceeded
			if id == ids[1] {
				status = models.DeliveryRetrying
			}
			if err := s.FinishDelivery(ctx, id, status, "", store.Run{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, eid := range []string{"x", "y"} {
			ev := &models.Event{CompanyID: 2, EventID: eid, Slug: "company/product/create/v1", Payload: []byte(`{}`), AcceptedAt: time.Now()}
			if _, err := s.StoreEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Unstarted(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int64]int64{1: 2, 2: 2}; !maps.Equal(got, want) {
			t.Errorf("Unstarted: %v, want %v (company 1: two pending deliveries; company 2: two events not fanned out)", got, want)
		}
	})
}
