package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// deliverWith runs one try of Deliver given the turn of an earlier throttled try.
func (f *deliveryFixture) deliverWith(attemptsKnown int, turn *workflows.Turn) (workflows.DeliverResult, error) {
	in := workflows.DeliverInput{DeliveryID: f.deliveryID, EventRowID: f.eventRowID, AttemptOffset: attemptsKnown, Turn: turn,
		Series: &workflows.AttemptSeries{Retry: deliverPolicy, Deadline: time.Now().Add(deliverPolicy.Expiration)}}
	v, err := f.env.ExecuteActivity(f.acts.Deliver, in)
	var res workflows.DeliverResult
	if err == nil {
		err = v.Get(&res)
	}
	return res, err
}

// TestDeliverFlow: a try that must wait for its turn longer than it waits itself answers
// throttled, sends nothing and records no attempt; the turn it was given is kept by the
// next try; a 429's Retry-After holds the subscriber's next delivery back.
func TestDeliverFlow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Run("RateLimit", func(t *testing.T) {
			rc := newReceiver(t, 500)
			f := newDeliveryFixtureWith(t, db, rc, func(s *models.Subscriber) { s.RateLimit = 0.2 }) // one every 5 s
			if _, err := f.deliver(0); appError(t, err).Type() != workflows.ErrAttemptFailed {
				t.Fatalf("first try: %v, want a failed attempt", err)
			}
			start := time.Now()
			res, err := f.deliver(1)
			if err != nil || res.Outcome != workflows.OutcomeThrottled || res.Turn == nil || !res.Turn.Reserved || res.Turn.Why != "rate_limit" {
				t.Fatalf("second try: %+v, %v; want throttled by rate_limit with a reserved turn", res, err)
			}
			if wait := res.Turn.At.Sub(start); wait < 4*time.Second || wait > 5*time.Second {
				t.Errorf("turn in %v, want about 5 s", wait)
			}
			again, err := f.deliverWith(1, res.Turn)
			if err != nil || again.Outcome != workflows.OutcomeThrottled || !again.Turn.At.Equal(res.Turn.At) {
				t.Fatalf("a try with its turn: %+v, %v; want throttled until the same turn %v", again, err, res.Turn.At)
			}
			if got := f.attempts(t); len(got) != 1 || len(rc.requests()) != 1 {
				t.Errorf("attempts %v and %d requests, want [1] and 1: a throttled try is not an attempt", got, len(rc.requests()))
			}
		})

		t.Run("MaxInFlight", func(t *testing.T) {
			rc := newReceiver(t)
			f := newDeliveryFixtureWith(t, db, rc, func(s *models.Subscriber) { s.MaxInFlight = 1 })
			ctx := context.Background()
			// Another delivery's request is in flight.
			if ok, err := f.store.TakeSlot(ctx, f.subscriberID, f.deliveryID+1000, 1, time.Now(), time.Now().Add(time.Minute)); err != nil || !ok {
				t.Fatalf("take the other slot: %v %v", ok, err)
			}
			start := time.Now()
			res, err := f.deliver(0)
			if err != nil || res.Outcome != workflows.OutcomeThrottled || res.Turn.Why != "max_in_flight" || res.Turn.Reserved {
				t.Fatalf("try with the slot taken: %+v, %v; want throttled by max_in_flight", res, err)
			}
			if waited := time.Since(start); waited < 2*time.Second {
				t.Errorf("the try waited %v for a slot, want 2 s before it is throttled", waited)
			}
			if len(rc.requests()) != 0 {
				t.Fatalf("%d requests sent while the slot was taken", len(rc.requests()))
			}
			// The other request ends while this try waits: it goes.
			go func() {
				time.Sleep(300 * time.Millisecond)
				_ = f.store.FreeSlot(ctx, f.subscriberID, f.deliveryID+1000)
			}()
			if res, err := f.deliverWith(0, res.Turn); err != nil || res.Outcome != workflows.OutcomeSucceeded {
				t.Fatalf("try after the slot was freed: %+v, %v; want succeeded", res, err)
			}
			// Its own slot is free again.
			if ok, err := f.store.TakeSlot(ctx, f.subscriberID, f.deliveryID+2000, 1, time.Now(), time.Now().Add(time.Minute)); err != nil || !ok {
				t.Errorf("the delivery kept its slot after the attempt: %v %v", ok, err)
			}
		})

		t.Run("RetryAfterPausesTheSubscriber", func(t *testing.T) {
			rc := newReceiver(t, 429)
			rc.retryAfter = "4"
			f := newDeliveryFixture(t, db, rc)
			if _, err := f.deliver(0); appError(t, err).Type() != workflows.ErrAttemptFailed {
				t.Fatalf("first try: %v, want a failed attempt", err)
			}
			start := time.Now()
			res, err := f.deliver(1)
			if err != nil || res.Outcome != workflows.OutcomeThrottled || res.Turn.Why != "push_back" {
				t.Fatalf("try after the 429: %+v, %v; want throttled by push_back", res, err)
			}
			if wait := res.Turn.At.Sub(start); wait < 3*time.Second || wait > 4*time.Second {
				t.Errorf("held back for %v, want about the Retry-After's 4 s", wait)
			}
			flows, err := f.store.SubscriberFlows(context.Background(), []int64{f.subscriberID})
			if err != nil {
				t.Fatal(err)
			}
			// Sent once, the subscriber is not slowed down beyond the pause (its rate is
			// lowered only when it was sent at least once a second: store.TestPushBack).
			if fl := flows[f.subscriberID]; fl.PushBackRate != 0 || fl.PausedUntil.IsZero() {
				t.Errorf("flow after one 429 with Retry-After: %+v, want paused, no lowered rate", fl)
			}
		})
	})
}

// TestDeliverKeepsItsTurn: a try given back its turn once that turn has come sends at
// once, without taking another turn at the end of the schedule.
func TestDeliverKeepsItsTurn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		rc := newReceiver(t)
		f := newDeliveryFixtureWith(t, db, rc, func(s *models.Subscriber) { s.RateLimit = 0.1 }) // one every 10 s
		ctx := context.Background()
		// Turns up to 30 s ahead are taken by other deliveries.
		for range 3 {
			if _, err := f.store.TakeTurn(ctx, f.subscriberID, 0.1, 1, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		// This delivery's turn, given when it was throttled, has come.
		turn := &workflows.Turn{At: time.Now().Add(-time.Second), Reserved: true, Why: "rate_limit"}
		res, err := f.deliverWith(0, turn)
		if err != nil || res.Outcome != workflows.OutcomeSucceeded {
			t.Fatalf("try with its turn come: %+v, %v; want succeeded at once", res, err)
		}
		if n := len(rc.requests()); n != 1 {
			t.Fatalf("receiver got %d requests, want 1", n)
		}
	})
}

// TestDeliverLateForItsTurn: a try that wakes later for its turn than half the
// interval does not send beside the next turns' deliveries: it takes a new turn (once;
// late for that one too, it sends).
func TestDeliverLateForItsTurn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		rc := newReceiver(t)
		f := newDeliveryFixtureWith(t, db, rc, func(s *models.Subscriber) { s.RateLimit = 0.1 }) // one every 10 s
		ctx := context.Background()
		for range 3 {
			if _, err := f.store.TakeTurn(ctx, f.subscriberID, 0.1, 1, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		turn := &workflows.Turn{At: time.Now().Add(-8 * time.Second), Reserved: true, Why: "rate_limit"}
		res, err := f.deliverWith(0, turn)
		if err != nil || res.Outcome != workflows.OutcomeThrottled || res.Turn == nil || !res.Turn.Retaken || time.Until(res.Turn.At) < 20*time.Second {
			t.Fatalf("try 8 s late for its turn: %+v, %v; want throttled with a new turn after the three taken", res, err)
		}
		if n := len(rc.requests()); n != 0 {
			t.Fatalf("receiver got %d requests, want none", n)
		}
		late := *res.Turn
		late.At = time.Now().Add(-8 * time.Second)
		if res, err := f.deliverWith(0, &late); err != nil || res.Outcome != workflows.OutcomeSucceeded {
			t.Fatalf("try late for its retaken turn: %+v, %v; want succeeded", res, err)
		}
	})
}
