package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// A delivery under way whose workflow was closed from outside becomes failed, once; an
// ended one is left alone.
func TestFailAbandoned(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, nil)
		ids := mustDeliveries(t, s, sub, slug, "ab1", "ab2")
		if err := s.RecordAttempt(ctx, attemptRecord(sub, slug, ids[0], 1, 502, models.DeliveryRetrying)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordAttempt(ctx, attemptRecord(sub, slug, ids[1], 1, 200, models.DeliverySucceeded)); err != nil {
			t.Fatal(err)
		}
		q := store.DeliveryQuery{Tenant: models.Tenant{OrganizationID: "org1", ExtensionID: "ext"},
			Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), Status: models.DeliveryFailed}
		open, err := s.UnfinishedDeliveries(ctx, q, 0, 10)
		if err != nil || len(open) != 1 || open[0].ID != ids[0] {
			t.Fatalf("unfinished = %+v, %v; want delivery %d", open, err, ids[0])
		}
		const reason = "workflow terminated outside Hookflow"
		for i, want := range []bool{true, false} {
			changed, err := s.FailAbandoned(ctx, ids[0], reason)
			if err != nil || changed != want {
				t.Fatalf("FailAbandoned #%d = %v, %v; want %v", i+1, changed, err, want)
			}
		}
		d, err := s.DeliveryByID(ctx, ids[0])
		if err != nil || d.Status != models.DeliveryFailed || d.LastError != reason || d.CompletedAt == nil {
			t.Fatalf("delivery = %+v, %v; want failed with the reason", d, err)
		}
		if changed, err := s.FailAbandoned(ctx, ids[1], reason); err != nil || changed {
			t.Fatalf("FailAbandoned on a succeeded delivery = %v, %v; want no change", changed, err)
		}
		if n, err := s.CountDeliveries(ctx, q); err != nil || n != 1 {
			t.Fatalf("failed deliveries = %d, %v; want 1", n, err)
		}
	})
}
