package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// Blocking stores the alert in the block's transaction, once; the alert waits to be
// mailed until it is sent or its tries run out.
func TestBlockSubscriberWithAlert(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, func(sub *models.Subscriber) { sub.EmailID = "ops@example.com" })
		id := mustDeliveries(t, s, sub, slug, "e1")[0]
		alert := func(got *models.Subscriber) *models.Notification {
			if got.ID != sub.ID || got.Status != models.StatusBlocked || got.EmailID != "ops@example.com" {
				t.Errorf("alert built from %+v; want the blocked subscriber", got)
			}
			return &models.Notification{DeliveryID: id, Kind: models.NotifySubscriberBlocked, Email: got.EmailID, Subject: "blocked", Message: "m"}
		}

		blocked, n, err := s.BlockSubscriberWithAlert(ctx, sub.ID, "retries exhausted", alert)
		if err != nil || !blocked || n == nil || n.ID == 0 || n.OrganizationID != "org1" || n.SubscriberID != sub.ID {
			t.Fatalf("block = %v, %+v, %v; want blocked with a stored alert of the subscriber's tenant", blocked, n, err)
		}
		if again, n2, err := s.BlockSubscriberWithAlert(ctx, sub.ID, "x", alert); err != nil || again || n2 != nil {
			t.Fatalf("blocking again = %v, %+v, %v; want no change and no second alert", again, n2, err)
		}

		const tries = 2
		wantUnsent := func(want int) {
			t.Helper()
			list, err := s.UnsentNotifications(ctx, id, tries)
			if err != nil || len(list) != want {
				t.Fatalf("unsent alerts of delivery %d = %+v, %v; want %d", id, list, err, want)
			}
		}
		wantUnsent(1)
		if list, _ := s.UnsentNotifications(ctx, id+1, tries); len(list) != 0 {
			t.Fatalf("another delivery's unsent alerts = %+v, want none", list)
		}
		for range tries {
			if err := s.BeginNotificationSend(ctx, n.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.MarkNotificationSent(ctx, n.ID, errors.New("connection refused")); err != nil {
				t.Fatal(err)
			}
		}
		wantUnsent(0) // its tries ran out
		list, err := s.ListNotifications(ctx, models.Tenant{OrganizationID: "org1", ExtensionID: "ext"}, 10)
		if err != nil || len(list) != 1 || list[0].SendAttempts != tries || list[0].SendError != "connection refused" || list[0].SentAt != nil {
			t.Fatalf("notifications = %+v, %v; want one unsent after %d tries, with the error", list, err, tries)
		}
	})
}

// A failure recorded twice (a retried activity) reports the change once.
func TestRecordDeliveryFailed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, nil)
		id := mustDeliveries(t, s, sub, slug, "e1")[0]
		for i, want := range []bool{true, false} {
			changed, err := s.RecordDeliveryFailed(ctx, id, "retries exhausted", store.Run{RunID: "r1"})
			if err != nil || changed != want {
				t.Fatalf("record %d = %v, %v; want %v", i+1, changed, err, want)
			}
		}
		d, err := s.DeliveryByID(ctx, id)
		if err != nil || d.Status != models.DeliveryFailed || d.LastError != "retries exhausted" || d.CompletedAt == nil || d.RunID != "r1" {
			t.Fatalf("delivery = %+v, %v; want failed with the reason", d, err)
		}
	})
}
