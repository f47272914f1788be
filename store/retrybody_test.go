package store_test

import (
	"context"
	"testing"
	"time"

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

// The reports and the delivery view never read a kept body: it may be a megabyte a row.
func TestDeliveryViewsLeaveTheRetryBody(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, nil)
		ids := mustDeliveries(t, s, sub, slug, "rb2")
		rec := attemptRecord(sub, slug, ids[0], 1, 503, models.DeliveryRetrying)
		rec.RetryBody = []byte(`{"payload":{"kept":true}}`)
		if err := s.RecordAttempt(ctx, rec); err != nil {
			t.Fatal(err)
		}
		tenant := models.Tenant{OrganizationID: sub.OrganizationID, ExtensionID: sub.ExtensionID}
		d, err := s.TenantDelivery(ctx, tenant, ids[0])
		if err != nil || d.RetryBody != nil || d.Status != models.DeliveryRetrying || d.SubscriberName != sub.Name {
			t.Fatalf("TenantDelivery = %+v, %v; want the row without its retry body", d, err)
		}
		rows, _, err := s.DeliveryDetails(ctx, store.DetailsQuery{ReportQuery: store.ReportQuery{Tenant: tenant,
			Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour)}, PageNo: 1, PageSize: 10})
		if err != nil || len(rows) != 1 || rows[0].RetryBody != nil || rows[0].ID != ids[0] || rows[0].Attempts != 1 {
			t.Fatalf("DeliveryDetails = %+v, %v; want the row without its retry body", rows, err)
		}
	})
}
