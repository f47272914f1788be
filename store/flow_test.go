package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestTakeTurn: turns taken at once by many callers on two connections to the database
// (two workers) are each their own, one interval apart after the burst, and a change of
// the subscriber's limits starts a new epoch with an empty schedule.
func TestTakeTurn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		a := storetest.MustOpen(t, db.URL)
		b := a
		if db.Name == "postgres" {
			b = storetest.MustOpen(t, db.URL) // a second worker's store
		}
		sub := mustSubscriber(t, a, "org1", "company/product/create/v1", func(s *models.Subscriber) { s.RateLimit, s.RateLimitBurst = 10, 3 })
		now := time.Now().Truncate(time.Millisecond)
		const n = 40
		turns := make([]time.Time, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				st := a
				if i%2 == 1 {
					st = b
				}
				turn, err := st.TakeTurn(ctx, sub.ID, 10, 3, now)
				if err != nil {
					t.Error(err)
					return
				}
				if turn.Epoch != 0 {
					t.Errorf("epoch %d, want 0", turn.Epoch)
				}
				turns[i] = turn.At
			})
		}
		wg.Wait()
		slices.SortFunc(turns, func(x, y time.Time) int { return x.Compare(y) })
		// The burst of 3 goes at once; the rest follow 100 ms apart.
		for i, at := range turns {
			want := now
			if i >= 3 {
				want = now.Add(time.Duration(i-2) * 100 * time.Millisecond)
			}
			if d := at.Sub(want); d < -time.Millisecond || d > time.Millisecond {
				t.Fatalf("turn %d at %v after now, want %v", i, at.Sub(now), want.Sub(now))
			}
		}

		// New limits: a new epoch, and the schedule starts again from now.
		sub.RateLimit = 2
		if err := a.UpdateSubscriber(ctx, sub, ""); err != nil {
			t.Fatal(err)
		}
		turn, err := a.TakeTurn(ctx, sub.ID, 2, 1, now)
		if err != nil {
			t.Fatal(err)
		}
		if turn.Epoch != 1 || !turn.At.Equal(now) {
			t.Errorf("after the change: turn at %v (epoch %d), want now (epoch 1)", turn.At.Sub(now), turn.Epoch)
		}
		// An update that leaves the limits alone keeps the schedule.
		sub.Name = "renamed"
		if err := a.UpdateSubscriber(ctx, sub, ""); err != nil {
			t.Fatal(err)
		}
		turn, err = a.TakeTurn(ctx, sub.ID, 2, 1, now)
		if err != nil {
			t.Fatal(err)
		}
		if turn.Epoch != 1 || turn.At.Sub(now) != 500*time.Millisecond {
			t.Errorf("after a rename: turn at %v (epoch %d), want 500ms (epoch 1)", turn.At.Sub(now), turn.Epoch)
		}
	})
}

// TestTakeSlot: at most limit deliveries hold a slot at once, whichever worker asks; a
// freed slot and an expired one (a lost worker's) are taken again; a delivery that holds
// one renews it.
func TestTakeSlot(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		a := storetest.MustOpen(t, db.URL)
		b := a
		if db.Name == "postgres" {
			b = storetest.MustOpen(t, db.URL)
		}
		sub := mustSubscriber(t, a, "org1", "company/product/create/v1", func(s *models.Subscriber) { s.MaxInFlight = 3 })
		now := time.Now()
		expires := now.Add(time.Minute)
		var mu sync.Mutex
		var holders []int64
		var wg sync.WaitGroup
		for d := int64(1); d <= 20; d++ {
			wg.Go(func() {
				st := a
				if d%2 == 0 {
					st = b
				}
				ok, err := st.TakeSlot(ctx, sub.ID, d, 3, now, expires)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					holders = append(holders, d)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(holders) != 3 {
			t.Fatalf("%d deliveries took a slot (%v), want 3", len(holders), holders)
		}
		if ok, err := a.TakeSlot(ctx, sub.ID, holders[0], 3, now, expires); err != nil || !ok {
			t.Errorf("a holder renewing its slot: %v %v, want true", ok, err)
		}
		if ok, _ := a.TakeSlot(ctx, sub.ID, 100, 3, now, expires); ok {
			t.Error("a fourth slot was taken")
		}
		if err := a.FreeSlot(ctx, sub.ID, holders[0]); err != nil {
			t.Fatal(err)
		}
		if ok, err := b.TakeSlot(ctx, sub.ID, 100, 3, now, expires); err != nil || !ok {
			t.Errorf("after a slot was freed: %v %v, want true", ok, err)
		}
		// Past the expiry, the slots of lost workers are free.
		later := expires.Add(time.Second)
		for d := int64(200); d < 203; d++ {
			if ok, err := a.TakeSlot(ctx, sub.ID, d, 3, later, later.Add(time.Minute)); err != nil || !ok {
				t.Fatalf("after expiry, delivery %d: %v %v, want true", d, ok, err)
			}
		}
	})
}

// TestPushBack: a 429 halves the subscriber's effective rate once however many
// deliveries in flight hear it, a Retry-After pauses it, and the flow comes with the
// delivery job.
func TestPushBack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		sub := mustSubscriber(t, s, "org1", "company/product/create/v1", func(s *models.Subscriber) { s.RateLimit = 8 })
		now := time.Now()
		var f models.Flow
		var err error
		for range 5 { // five answers of requests that were in flight together
			if f, err = s.PushBack(ctx, sub, now, 0); err != nil {
				t.Fatal(err)
			}
		}
		if r := models.EffectiveRate(sub, f, now); r < 3.999 || r > 4.001 {
			t.Errorf("effective rate after a push-back: %g, want 4", r)
		}
		later := now.Add(2 * time.Second)
		if f, err = s.PushBack(ctx, sub, later, 3*time.Second); err != nil {
			t.Fatal(err)
		}
		if r := models.EffectiveRate(sub, f, later); r < 2 || r > 2.2 {
			t.Errorf("effective rate after a second push-back: %g, want about 2", r)
		}
		if d := f.PausedUntil.Sub(later.Add(3 * time.Second)); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("paused until %v, want %v", f.PausedUntil, later.Add(3*time.Second))
		}
		flows, err := s.SubscriberFlows(ctx, []int64{sub.ID, sub.ID + 1000})
		if err != nil {
			t.Fatal(err)
		}
		if got := flows[sub.ID]; got.PushBackRate != f.PushBackRate || !got.PausedUntil.Equal(f.PausedUntil) || len(flows) != 1 {
			t.Errorf("SubscriberFlows: %+v, want %+v only", flows, f)
		}
		// A subscriber without a rate is halved from the rate it was being sent at.
		free := mustSubscriber(t, s, "org2", "company/product/create/v1", nil)
		for i := range 40 { // 4 a second over the last ten seconds
			err := s.RecordAttempt(ctx, store.AttemptRecord{Status: models.DeliveryRetrying, Attempt: models.Attempt{
				DeliveryID: int64(1000 + i), OrganizationID: "org2", ExtensionID: "ext", CompanyID: 1, SubscriberID: free.ID,
				EventSlug: "company/product/create/v1", Attempt: 1, AttemptedOn: now.Add(-time.Duration(i) * 200 * time.Millisecond).UTC(), ResponseCode: 429,
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
		if f, err = s.PushBack(ctx, free, now, 0); err != nil {
			t.Fatal(err)
		}
		if r := models.EffectiveRate(free, f, now); r < 1.999 || r > 2.001 {
			t.Errorf("unlimited subscriber's effective rate after a push-back: %g, want 2 (half of 4/s)", r)
		}
		if r := models.EffectiveRate(free, f, now.Add(31*time.Second)); r != 0 {
			t.Errorf("effective rate 31 s later: %g, want 0 (recovered: no limit)", r)
		}
		// A quiet one (five sends in ten seconds) is not slowed by a 503: its retries are
		// spaced by the policy. Its Retry-After still holds it back.
		quiet := mustSubscriber(t, s, "org3", "company/product/create/v1", nil)
		for i := range 5 {
			err := s.RecordAttempt(ctx, store.AttemptRecord{Status: models.DeliveryRetrying, Attempt: models.Attempt{
				DeliveryID: int64(2000 + i), OrganizationID: "org3", ExtensionID: "ext", CompanyID: 1, SubscriberID: quiet.ID,
				EventSlug: "company/product/create/v1", Attempt: 1, AttemptedOn: now.Add(-time.Duration(i) * time.Second).UTC(), ResponseCode: 503,
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
		if f, err = s.PushBack(ctx, quiet, now, 0); err != nil {
			t.Fatal(err)
		}
		if r := models.EffectiveRate(quiet, f, now); r != 0 || models.Limited(quiet, f, now) {
			t.Errorf("quiet subscriber after a 503: effective rate %g, limited %v; want 0, false", r, models.Limited(quiet, f, now))
		}
		if f, err = s.PushBack(ctx, quiet, now, 2*time.Second); err != nil {
			t.Fatal(err)
		}
		if !models.Limited(quiet, f, now) || models.Limited(quiet, f, now.Add(3*time.Second)) {
			t.Errorf("quiet subscriber after a 503 with Retry-After 2 s: %+v, want held back 2 s", f)
		}
	})
}

// TestTakeTurnWithin: a turn is reserved only when it comes within the bound; past it,
// nothing is reserved and the answer says when the next turn would be.
func TestTakeTurnWithin(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		sub := mustSubscriber(t, s, "org1", "company/product/create/v1", func(s *models.Subscriber) { s.RateLimit = 1 })
		now := time.Now().Truncate(time.Microsecond)
		for i := range 3 {
			turn, reserved, err := s.TakeTurnWithin(ctx, sub.ID, 1, 1, now, 2*time.Second)
			if err != nil || !reserved || !turn.At.Equal(now.Add(time.Duration(i)*time.Second)) {
				t.Fatalf("turn %d: %+v reserved %v, %v; want reserved at +%ds", i, turn, reserved, err, i)
			}
		}
		for range 2 {
			turn, reserved, err := s.TakeTurnWithin(ctx, sub.ID, 1, 1, now, 2*time.Second)
			if err != nil || reserved || !turn.At.Equal(now.Add(3*time.Second)) {
				t.Fatalf("turn past the bound: %+v reserved %v, %v; want none reserved, the next at +3s", turn, reserved, err)
			}
		}
		if turn, err := s.TakeTurn(ctx, sub.ID, 1, 1, now); err != nil || !turn.At.Equal(now.Add(3*time.Second)) {
			t.Fatalf("next turn: %+v, %v; want +3s (nothing was taken past the bound)", turn, err)
		}
	})
}
