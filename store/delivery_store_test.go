package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// mustSubscriber installs the subscriber's extension on its company and stores a
// subscriber of company 1 for slug.
func mustSubscriber(t *testing.T, s *store.Store, org string, slug string, mutate func(*models.Subscriber)) *models.Subscriber {
	t.Helper()
	sub := &models.Subscriber{
		OrganizationID: org, ExtensionID: "ext", CompanyID: 1, Name: "receiver", WebhookURL: "https://example.com/hook",
		Status: models.StatusActive, InactivePolicy: models.PolicyQueue, Secret: "s3cret-value",
		Events: []models.SubscriberEvent{{Slug: slug}},
	}
	if mutate != nil {
		mutate(sub)
	}
	storetest.MustInstall(t, s, sub.OrganizationID, sub.ExtensionID, sub.CompanyID)
	if err := s.CreateSubscriber(context.Background(), sub); err != nil {
		t.Fatalf("create subscriber: %v", err)
	}
	return sub
}

func TestPlanDeliveries(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		a := mustSubscriber(t, s, "org1", slug, nil)
		b := mustSubscriber(t, s, "org2", slug, func(sub *models.Subscriber) {
			sub.Status, sub.InactivePolicy = models.StatusInactive, models.PolicyDiscard
		})
		mustSubscriber(t, s, "org1", "company/product/update/v1", nil) // another event
		c := mustSubscriber(t, s, "org1", slug, func(sub *models.Subscriber) { sub.CompanyID = 2 })
		_ = c

		ev := &models.Event{CompanyID: 1, EventID: "e1", Slug: slug, Payload: []byte(`{"a":1}`), AcceptedAt: time.Now()}
		inserted, err := s.StoreEvent(ctx, ev)
		if err != nil || !inserted || ev.ID == 0 {
			t.Fatalf("StoreEvent = %v, %v (id %d), want inserted", inserted, err, ev.ID)
		}
		again := &models.Event{CompanyID: 1, EventID: "e1", Slug: slug, Payload: []byte(`{"b":2}`), AcceptedAt: time.Now()}
		inserted, err = s.StoreEvent(ctx, again)
		if err != nil || inserted || again.ID != ev.ID {
			t.Fatalf("second StoreEvent = %v, %v (id %d), want the first row %d", inserted, err, again.ID, ev.ID)
		}

		wfid := func(sub int64) string { return "delivery:1:e1:" + strconv.FormatInt(sub, 10) }
		planned, next, err := s.PlanDeliveries(ctx, ev, 0, 1, wfid)
		if err != nil {
			t.Fatal(err)
		}
		if len(planned) != 1 || planned[0].SubscriberID != a.ID || next != a.ID || planned[0].Status != models.DeliveryPending {
			t.Fatalf("page 1 = %+v next %d, want subscriber %d pending, next %d", planned, next, a.ID, a.ID)
		}
		if planned[0].Name != "receiver" || planned[0].OrganizationID != "org1" || planned[0].WorkflowID != wfid(a.ID) {
			t.Fatalf("page 1 details %+v", planned[0])
		}
		planned2, next, err := s.PlanDeliveries(ctx, ev, next, 1, wfid)
		if err != nil {
			t.Fatal(err)
		}
		if len(planned2) != 1 || planned2[0].SubscriberID != b.ID || planned2[0].Status != models.DeliveryDiscarded {
			t.Fatalf("page 2 = %+v, want subscriber %d discarded", planned2, b.ID)
		}
		if next != 0 {
			// The page was full, so a cursor comes back; the page after it is empty.
			more, n2, err := s.PlanDeliveries(ctx, ev, next, 1, wfid)
			if err != nil || len(more) != 0 || n2 != 0 {
				t.Fatalf("page 3 = %+v, %d, %v; want empty", more, n2, err)
			}
		}
		// Idempotent: planning again returns the same rows.
		replan, _, err := s.PlanDeliveries(ctx, ev, 0, 10, wfid)
		if err != nil || len(replan) != 2 || replan[0].DeliveryID != planned[0].DeliveryID {
			t.Fatalf("replan = %+v, %v; want the same two rows", replan, err)
		}
	})
}

func TestAttemptsAndHold(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, nil)
		ev := &models.Event{CompanyID: 1, EventID: "e2", Slug: slug, Payload: []byte(`{}`), AcceptedAt: time.Now()}
		if _, err := s.StoreEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		planned, _, err := s.PlanDeliveries(ctx, ev, 0, 10, func(int64) string { return "wf" })
		if err != nil || len(planned) != 1 {
			t.Fatalf("plan: %v %+v", err, planned)
		}
		id := planned[0].DeliveryID

		hold, err := s.HoldIfInactive(ctx, id, sub.ID, store.Run{RunID: "run1"})
		if err != nil || hold != store.HoldNone {
			t.Fatalf("hold on active = %q, %v; want none", hold, err)
		}
		now := time.Now().UTC()
		for i, code := range []int{500, 200} {
			status := models.DeliveryRetrying
			if code == 200 {
				status = models.DeliverySucceeded
			}
			err := s.RecordAttempt(ctx, store.AttemptRecord{Status: status, Run: store.Run{RunID: "run1"}, Attempt: models.Attempt{
				DeliveryID: id, OrganizationID: "org1", ExtensionID: "ext", CompanyID: 1, SubscriberID: sub.ID,
				EventSlug: slug, Attempt: i + 1, AttemptedOn: now, ResponseCode: code, ResponseTimeMS: 1.5,
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
		attempts, err := s.ListAttempts(ctx, id)
		if err != nil || len(attempts) != 2 || attempts[0].ResponseCode != 500 || attempts[1].Attempt != 2 {
			t.Fatalf("attempts = %+v, %v", attempts, err)
		}
		d, err := s.DeliveryByID(ctx, id)
		if err != nil || d.Status != models.DeliverySucceeded || d.Attempts != 2 || d.CompletedAt == nil || d.RunID != "run1" {
			t.Fatalf("delivery = %+v, %v; want succeeded after 2 attempts", d, err)
		}

		blocked, err := s.BlockSubscriber(ctx, sub.ID, "retries exhausted")
		if err != nil || !blocked {
			t.Fatalf("block = %v, %v", blocked, err)
		}
		if again, _ := s.BlockSubscriber(ctx, sub.ID, "x"); again {
			t.Fatal("blocking a blocked subscriber reported a change")
		}
		hold, err = s.HoldIfInactive(ctx, id, sub.ID, store.Run{RunID: "run2"})
		if err != nil || hold != store.HoldQueued {
			t.Fatalf("hold on blocked = %q, %v; want queued", hold, err)
		}
	})
}

func TestLoadDeliveryJob(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, func(sub *models.Subscriber) {
			sub.CustomHeaders = models.Headers{"X-Token": "t"}
			sub.Events = append(sub.Events, models.SubscriberEvent{Slug: "company/product/update/v1"})
			sub.Events[0].Filters = models.JSON(`{"query":"$.a","condition":"x => x"}`)
			sub.TimeoutMS = 7000
		})
		ev := &models.Event{CompanyID: 1, EventID: "job-1", Slug: slug, Payload: []byte(`{}`), AcceptedAt: time.Now()}
		if _, err := s.StoreEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		planned, _, err := s.PlanDeliveries(ctx, ev, 0, 10, func(int64) string { return "wf" })
		if err != nil || len(planned) != 1 {
			t.Fatalf("plan: %v %+v", err, planned)
		}
		job, err := s.LoadDeliveryJob(ctx, planned[0].DeliveryID)
		if err != nil {
			t.Fatal(err)
		}
		got := job.Subscriber
		if job.Delivery.ID != planned[0].DeliveryID || got.ID != sub.ID || got.Secret != "s3cret-value" || got.CustomHeaders["X-Token"] != "t" ||
			got.Timeout() != 7*time.Second || got.Status != models.StatusActive || len(got.Events) != 1 ||
			string(got.Events[0].Filters) != `{"query":"$.a","condition":"x => x"}` || got.Event(slug) == nil {
			t.Fatalf("job = %+v", job)
		}
		if err := s.DeleteSubscriber(ctx, models.Tenant{OrganizationID: "org1", ExtensionID: "ext"}, 1, sub.ID); err != nil {
			t.Fatal(err)
		}
		job, err = s.LoadDeliveryJob(ctx, planned[0].DeliveryID)
		if err != nil || !job.Subscriber.DeletedAt.Valid {
			t.Fatalf("after delete: %+v, %v; want the deleted subscriber", job, err)
		}
		if _, err := s.LoadDeliveryJob(ctx, 999999); models.ErrorCode(err) != models.ENOTFOUND {
			t.Fatalf("missing delivery: %v", err)
		}
	})
}
