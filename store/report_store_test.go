package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// reportFixture stores a small data set whose report figures are worked out by hand in
// the tests below. Tenant A has four deliveries in [t0, t0+1h) and one before it; tenant
// B has one that must never count for A.
//
//	d1 A product/create created t0+1m: attempt 1 at t0+1m10s 500 100 ms, attempt 2 at t0+2m05s 200 50 ms → succeeded
//	d2 A product/create created t0+1m: attempt 1 at t0+1m20s 500 300 ms → failed
//	d3 A order/placed   created t0+5m: attempt 1 at t0+5m30s 200  20 ms → succeeded
//	d4 A order/placed   created t0+5m: filtered, no attempt
//	d5 A product/create created t0-1h: attempt 1 at t0-1h 200 10 ms (outside the range)
//	d6 B product/create created t0+1m: attempt 1 at t0+1m15s 500 999 ms → failed
func reportFixture(t *testing.T, s *store.Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	const product, order = "company/product/create/v1", "application/order/placed/v1"
	subA := mustSubscriber(t, s, "org-a", product, func(sub *models.Subscriber) {
		sub.ExtensionID = "ext-a"
		sub.Events = append(sub.Events, models.SubscriberEvent{Slug: order})
	})
	subA2 := mustSubscriber(t, s, "org-a", product, func(sub *models.Subscriber) {
		sub.ExtensionID = "ext-a"
		sub.Events = append(sub.Events, models.SubscriberEvent{Slug: order})
	})
	subB := mustSubscriber(t, s, "org-b", product, func(sub *models.Subscriber) { sub.ExtensionID = "ext-b" })
	ids := map[string]int64{}

	plan := func(eventID, slug string, created time.Time) map[int64]int64 {
		s.Now = func() time.Time { return created }
		ev := &models.Event{CompanyID: 1, EventID: eventID, Slug: slug, Payload: []byte(`{}`), AcceptedAt: created}
		if _, err := s.StoreEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		planned, _, err := s.PlanDeliveries(ctx, ev, 0, 10, func(int64) string { return "wf-" + eventID })
		if err != nil {
			t.Fatal(err)
		}
		bySub := map[int64]int64{}
		for _, p := range planned {
			bySub[p.SubscriberID] = p.DeliveryID
		}
		return bySub
	}
	attempt := func(id int64, sub *models.Subscriber, slug string, n int, at time.Time, code int, ms float64, status string) {
		err := s.RecordAttempt(ctx, store.AttemptRecord{Status: status, Attempt: models.Attempt{
			DeliveryID: id, OrganizationID: sub.OrganizationID, ExtensionID: sub.ExtensionID, CompanyID: 1,
			SubscriberID: sub.ID, EventSlug: slug, Attempt: n, AttemptedOn: at, ResponseCode: code, ResponseTimeMS: ms,
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	p1 := plan("p1", product, t0.Add(time.Minute)) // d1 (subA), d2 (subA2), d6 (subB)
	ids["d1"], ids["d2"], ids["d6"] = p1[subA.ID], p1[subA2.ID], p1[subB.ID]
	attempt(ids["d1"], subA, product, 1, t0.Add(70*time.Second), 500, 100, models.DeliveryRetrying)
	attempt(ids["d1"], subA, product, 2, t0.Add(125*time.Second), 200, 50, models.DeliverySucceeded)
	attempt(ids["d2"], subA2, product, 1, t0.Add(80*time.Second), 500, 300, models.DeliveryRetrying)
	attempt(ids["d6"], subB, product, 1, t0.Add(75*time.Second), 500, 999, models.DeliveryRetrying)
	for _, d := range []int64{ids["d2"], ids["d6"]} {
		if err := s.FinishDelivery(ctx, d, models.DeliveryFailed, "retries exhausted", store.Run{}); err != nil {
			t.Fatal(err)
		}
	}
	p2 := plan("o1", order, t0.Add(5*time.Minute)) // d3 (subA), d4 (subA2)
	ids["d3"], ids["d4"] = p2[subA.ID], p2[subA2.ID]
	attempt(ids["d3"], subA, order, 1, t0.Add(330*time.Second), 200, 20, models.DeliverySucceeded)
	if err := s.FinishDelivery(ctx, ids["d4"], models.DeliveryFiltered, "", store.Run{}); err != nil {
		t.Fatal(err)
	}
	p3 := plan("p0", product, t0.Add(-time.Hour)) // d5 (subA) outside the range
	ids["d5"] = p3[subA.ID]
	attempt(ids["d5"], subA, product, 1, t0.Add(-time.Hour), 200, 10, models.DeliverySucceeded)
	s.Now = func() time.Time { return time.Now().UTC() }
	return ids
}

func TestReports(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		ids := reportFixture(t, s)
		a := store.ReportQuery{Tenant: models.Tenant{OrganizationID: "org-a", ExtensionID: "ext-a"}, Start: t0, End: t0.Add(time.Hour), Bucket: store.BucketMinute}

		t.Run("ResponseTimeSeries", func(t *testing.T) {
			got, err := s.ResponseTimeSeries(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			want := []store.ResponseTimePoint{
				{Bucket: t0.Add(time.Minute), ResponseCode: 500, Attempt: 1, AvgResponseMS: 200, Count: 2},
				{Bucket: t0.Add(2 * time.Minute), ResponseCode: 200, Attempt: 2, AvgResponseMS: 50, Count: 1},
				{Bucket: t0.Add(5 * time.Minute), ResponseCode: 200, Attempt: 1, AvgResponseMS: 20, Count: 1},
			}
			if len(got) != len(want) {
				t.Fatalf("got %+v, want %+v", got, want)
			}
			for i := range want {
				if !got[i].Bucket.Equal(want[i].Bucket) || got[i].ResponseCode != want[i].ResponseCode || got[i].Attempt != want[i].Attempt ||
					got[i].AvgResponseMS != want[i].AvgResponseMS || got[i].Count != want[i].Count {
					t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
				}
			}
			hourly := a
			hourly.Bucket = store.BucketHour
			got, err = s.ResponseTimeSeries(ctx, hourly)
			if err != nil || len(got) != 3 || !got[0].Bucket.Equal(t0) || got[0].ResponseCode != 200 || got[0].Attempt != 1 || got[0].Count != 1 {
				t.Fatalf("hourly = %+v, %v; want (t0, 200, 1) first", got, err)
			}
		})

		t.Run("DeliverySummary", func(t *testing.T) {
			got, err := s.DeliverySummary(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			want := []store.EventSummary{
				{EventSlug: "application/order/placed/v1", Succeeded: 1, Failed: 0, Total: 2, AvgResponseMS: 20},
				{EventSlug: "company/product/create/v1", Succeeded: 1, Failed: 1, Total: 2, AvgResponseMS: 150},
			}
			if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})

		t.Run("DeliverySeries", func(t *testing.T) {
			got, err := s.DeliverySeries(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || !got[0].Bucket.Equal(t0.Add(time.Minute)) || got[0].Succeeded != 1 || got[0].Failed != 1 ||
				!got[1].Bucket.Equal(t0.Add(5*time.Minute)) || got[1].Succeeded != 1 || got[1].Failed != 0 {
				t.Fatalf("got %+v", got)
			}
		})

		t.Run("DeliveryDetails", func(t *testing.T) {
			q := store.DetailsQuery{ReportQuery: a, PageNo: 1, PageSize: 3}
			rows, total, err := s.DeliveryDetails(ctx, q)
			if err != nil || total != 4 || len(rows) != 3 {
				t.Fatalf("page 1: %d rows of %d, %v; want 3 of 4", len(rows), total, err)
			}
			if rows[0].SubscriberName != "receiver" || rows[0].WebhookURL == "" || rows[0].CreatedAt.Before(rows[2].CreatedAt) {
				t.Fatalf("rows %+v", rows)
			}
			q.Status = models.DeliveryFailed
			rows, total, err = s.DeliveryDetails(ctx, q)
			if err != nil || total != 1 || rows[0].ID != ids["d2"] || rows[0].LastResponseCode != 500 || rows[0].Attempts != 1 {
				t.Fatalf("failed only: %+v, %d, %v; want d2", rows, total, err)
			}
			if _, err := s.TenantDelivery(ctx, models.Tenant{OrganizationID: "org-b", ExtensionID: "ext-b"}, ids["d1"]); models.ErrorCode(err) != models.ENOTFOUND {
				t.Fatalf("tenant B reading d1: %v, want not found", err)
			}
		})

		t.Run("Tenancy", func(t *testing.T) {
			b := a
			b.Tenant = models.Tenant{OrganizationID: "org-b", ExtensionID: "ext-b"}
			got, err := s.ResponseTimeSeries(ctx, b)
			if err != nil || len(got) != 1 || got[0].AvgResponseMS != 999 {
				t.Fatalf("tenant B = %+v, %v; want only its own attempt", got, err)
			}
		})
	})
}

func TestBucketFor(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{time.Hour, store.BucketMinute}, {6 * time.Hour, store.BucketMinute}, {7 * time.Hour, store.BucketHour},
		{14 * 24 * time.Hour, store.BucketHour}, {30 * 24 * time.Hour, store.BucketDay}} {
		if got := store.BucketFor(t0, t0.Add(tc.d)); got != tc.want {
			t.Errorf("BucketFor(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}
