package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// purgeFixture is a database with data of several ages and states, made by the store's
// own code as deliveries make it.
type purgeFixture struct {
	s   *store.Store
	sub *models.Subscriber
	now time.Time
}

const purgeSlug = "company/product/create/v1"

// event stores an event accepted age ago and plans its deliveries (unless fanOut is
// false); each delivery then gets attempts with the given codes (the last one's status
// sticks: a 2xx succeeds, anything else leaves it retrying).
func (f *purgeFixture) event(t *testing.T, id string, age time.Duration, fanOut bool, codes ...int) (*models.Event, []int64) {
	t.Helper()
	ctx := context.Background()
	at := f.now.Add(-age)
	f.s.Now = func() time.Time { return at }
	defer func() { f.s.Now = time.Now }()
	ev := &models.Event{CompanyID: 1, EventID: id, Slug: purgeSlug, Payload: []byte(`{"id":"` + id + `"}`), AcceptedAt: at}
	if _, err := f.s.StoreEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if !fanOut {
		return ev, nil
	}
	planned, _, err := f.s.PlanDeliveries(ctx, ev, 0, 100, func(sub int64) string { return fmt.Sprintf("d:%s:%d", id, sub) })
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, p := range planned {
		ids = append(ids, p.DeliveryID)
		for i, code := range codes {
			status := models.DeliveryRetrying
			if code/100 == 2 {
				status = models.DeliverySucceeded
			}
			err := f.s.RecordAttempt(ctx, store.AttemptRecord{Status: status, Run: store.Run{RunID: "run1"}, Attempt: models.Attempt{
				DeliveryID: p.DeliveryID, OrganizationID: f.sub.OrganizationID, ExtensionID: f.sub.ExtensionID, CompanyID: 1,
				SubscriberID: p.SubscriberID, EventSlug: purgeSlug, Attempt: i + 1, AttemptedOn: at, ResponseCode: code,
				ResponseTimeMS: 2, ResponseBody: "body of " + id,
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return ev, ids
}

func (f *purgeFixture) notification(t *testing.T, deliveryID int64, age time.Duration) int64 {
	t.Helper()
	n := &models.Notification{OrganizationID: f.sub.OrganizationID, ExtensionID: f.sub.ExtensionID, SubscriberID: f.sub.ID,
		DeliveryID: deliveryID, Kind: "test", Subject: "s", Message: "m", CreatedAt: f.now.Add(-age)}
	if err := store.DBForTest(f.s).Create(n).Error; err != nil {
		t.Fatal(err)
	}
	return n.ID
}

// purgeAll runs a purge to its end in batches of limit rows, as the purge activity does,
// and returns what it removed.
func purgeAll(t *testing.T, s *store.Store, c store.Cutoffs, limit int) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	run := "purge-test/" + t.Name()
	total := map[string]int64{}
	p := store.PurgeProgress{Removed: map[string]int64{}}
	for batches := 0; !p.Cursor.Done(); batches++ {
		if batches > 10000 {
			t.Fatalf("purge did not end (cursor %+v)", p.Cursor)
		}
		next, removed, err := s.PurgeRunBatch(ctx, run, c, p, limit)
		if err != nil {
			t.Fatalf("purge batch at %+v: %v", p.Cursor, err)
		}
		cur := p.Cursor
		if next.Cursor.Phase < cur.Phase || (next.Cursor.Phase == cur.Phase && next.Cursor.After <= cur.After) {
			t.Fatalf("purge cursor went from %+v to %+v", cur, next.Cursor)
		}
		for k, v := range removed {
			total[k] += v
		}
		p = next
	}
	// The database kept the run's progress with each batch.
	kept, err := s.PurgeRunProgress(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if !kept.Cursor.Done() || kept.Batches != p.Batches || fmt.Sprint(kept.Removed) != fmt.Sprint(total) {
		t.Errorf("recorded progress %+v, want done after %d batches with %v", kept, p.Batches, total)
	}
	return total
}

// TestPurge: a purge removes what retention allows and nothing a delivery under way
// needs — deliveries still retrying, queued or pending, their events and payloads, and
// events whose fan-out has not finished — and expunges old payloads and response bodies
// while their rows stay; an expunged event's delivery is refused for redelivery with 410.
func TestPurge(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		f := &purgeFixture{s: s, now: time.Now(), sub: mustSubscriber(t, s, "org1", purgeSlug, nil)}
		day := 24 * time.Hour

		oldDone, oldDoneDeliveries := f.event(t, "old-done", 3*day, true, 503, 200) // purged whole
		oldRetrying, oldRetryingDeliveries := f.event(t, "old-retrying", 3*day, true, 503)
		oldPending, _ := f.event(t, "old-pending", 3*day, true)                       // planned, not attempted yet
		oldFanningOut, _ := f.event(t, "old-fanning-out", 3*day, false)               // its fan-out has not run
		midDone, midDoneDeliveries := f.event(t, "mid-done", 36*time.Hour, true, 200) // payload expunged only
		newDone, newDoneDeliveries := f.event(t, "new-done", time.Hour, true, 200)    // kept whole
		oldNote := f.notification(t, oldDoneDeliveries[0], 3*day)
		oldLoneNote := f.notification(t, 0, 3*day)
		newNote := f.notification(t, newDoneDeliveries[0], time.Hour)

		// Records 2 days, payloads 1 day, reports 2.5 days: the old attempts' minutes go,
		// the mid ones stay.
		r := store.Retention{Records: 2 * day, Payloads: day, Reports: 60 * time.Hour}
		removed := purgeAll(t, s, r.CutoffsAt(f.now), 1)

		want := map[string]int64{"deliveries": 1, "attempts": 2, "notifications": 2, "events": 1, "payloads": 1, "response_bodies": 2}
		for k, n := range want {
			if removed[k] != n {
				t.Errorf("removed %s = %d, want %d (all: %v)", k, removed[k], n, removed)
			}
		}
		if removed["attempt_stats"] < 1 {
			t.Errorf("removed attempt_stats = %d, want the old minutes' rows", removed["attempt_stats"])
		}

		count := func(table, where string, args ...any) int64 {
			var n int64
			if err := store.DBForTest(s).Table(table).Where(where, args...).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count("deliveries", "id = ?", oldDoneDeliveries[0]); n != 0 {
			t.Errorf("the old succeeded delivery is still there")
		}
		if n := count("attempts", "delivery_id = ?", oldDoneDeliveries[0]); n != 0 {
			t.Errorf("%d attempts of the purged delivery are still there", n)
		}
		if n := count("events", "id = ?", oldDone.ID); n != 0 {
			t.Errorf("the old event without deliveries left is still there")
		}
		for _, ev := range []*models.Event{oldRetrying, oldPending, oldFanningOut, midDone, newDone} {
			if n := count("events", "id = ?", ev.ID); n != 1 {
				t.Errorf("event %s was removed", ev.EventID)
			}
		}
		for _, id := range append(append(oldRetryingDeliveries, midDoneDeliveries...), newDoneDeliveries...) {
			if n := count("deliveries", "id = ?", id); n != 1 {
				t.Errorf("delivery %d was removed", id)
			}
		}
		if n := count("attempts", "delivery_id = ? AND response_body <> ''", oldRetryingDeliveries[0]); n != 0 {
			// Older than the payload window: the body goes, the attempt stays.
			t.Errorf("the retrying delivery's old response body was kept")
		}
		if n := count("attempts", "delivery_id = ?", oldRetryingDeliveries[0]); n != 1 {
			t.Errorf("the retrying delivery has %d attempts, want its 1", n)
		}
		payload := func(ev *models.Event) (string, bool) {
			got, err := s.EventByRowID(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			return string(got.Payload), got.PayloadExpungedAt != nil
		}
		for _, ev := range []*models.Event{oldRetrying, oldPending, oldFanningOut, newDone} {
			if p, gone := payload(ev); gone || p == "" {
				t.Errorf("event %s: payload %q expunged %v; a delivery under way or a recent event needs it", ev.EventID, p, gone)
			}
		}
		if p, gone := payload(midDone); !gone || p != "" {
			t.Errorf("event mid-done: payload %q expunged %v, want expunged", p, gone)
		}
		if n := count("attempts", "delivery_id = ? AND response_body <> ''", newDoneDeliveries[0]); n != 1 {
			t.Errorf("the new attempt's response body was expunged")
		}
		if n := count("notifications", "id IN ?", []int64{oldNote, oldLoneNote}); n != 0 {
			t.Errorf("%d old notifications are still there", n)
		}
		if n := count("notifications", "id = ?", newNote); n != 1 {
			t.Errorf("the new notification was removed")
		}

		_, err := s.BeginRedelivery(ctx, models.Tenant{}, midDoneDeliveries[0])
		if models.ErrorCode(err) != models.EGONE {
			t.Errorf("redelivery of an expunged event's delivery = %v, want %s", err, models.EGONE)
		}
		if _, err := s.BeginRedelivery(ctx, models.Tenant{}, newDoneDeliveries[0]); err != nil {
			t.Errorf("redelivery of a recent delivery: %v", err)
		}

		// A second run finds nothing more to do.
		again := purgeAll(t, s, r.CutoffsAt(f.now), 1000)
		for k, n := range again {
			if n != 0 {
				t.Errorf("second run removed %d %s", n, k)
			}
		}
	})
}
