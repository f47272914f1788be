package store_test

import (
	"context"
	"testing"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// The body a failed first attempt sent is kept for its retries, dropped when the series
// ends, and never carried into a redelivery.
func TestRetryBodyLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, nil)
		ids := mustDeliveries(t, s, sub, slug, "rb1")
		body := []byte(`{"payload":{"a":"é\u0000"}}` + "\xff")

		rec := attemptRecord(sub, slug, ids[0], 1, 503, models.DeliveryRetrying)
		rec.RetryBody = body
		if err := s.RecordAttempt(ctx, rec); err != nil {
			t.Fatal(err)
		}
		job, err := s.LoadDeliveryJob(ctx, ids[0])
		if err != nil || string(job.Delivery.RetryBody) != string(body) {
			t.Fatalf("retry body = %q, %v; want the first attempt's exact bytes", job.Delivery.RetryBody, err)
		}
		rec = attemptRecord(sub, slug, ids[0], 2, 200, models.DeliverySucceeded)
		rec.ClearRetryBody = true
		if err := s.RecordAttempt(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if job, err = s.LoadDeliveryJob(ctx, ids[0]); err != nil || job.Delivery.RetryBody != nil {
			t.Fatalf("retry body after success = %q, %v; want none", job.Delivery.RetryBody, err)
		}

		// A series that fails keeps nothing either, and a redelivery starts clean.
		rec = attemptRecord(sub, slug, ids[0], 3, 503, models.DeliveryRetrying)
		rec.RetryBody = body
		if err := s.RecordAttempt(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishDelivery(ctx, ids[0], models.DeliveryFailed, "retries exhausted", store.Run{}); err != nil {
			t.Fatal(err)
		}
		if job, err = s.LoadDeliveryJob(ctx, ids[0]); err != nil || job.Delivery.RetryBody != nil {
			t.Fatalf("retry body after failure = %q, %v; want none", job.Delivery.RetryBody, err)
		}
	})
}
