package activities

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/workflows"
)

// flowStore is what Deliver needs of the store for flow control.
type flowStore interface {
	TakeTurn(ctx context.Context, id int64, rate float64, burst int, notBefore time.Time) (store.Turn, error)
	TakeTurnWithin(ctx context.Context, id int64, rate float64, burst int, notBefore time.Time, within time.Duration) (store.Turn, bool, error)
	TakeSlot(ctx context.Context, id, deliveryID int64, limit int, now, expires time.Time) (bool, error)
	FreeSlot(ctx context.Context, id, deliveryID int64) error
	PushBack(ctx context.Context, sub *models.Subscriber, now time.Time, retryAfter time.Duration) (models.Flow, error)
}

const (
	// throttleInline is the longest wait for a turn or a slot that a try waits out
	// itself; a delivery that must wait longer is throttled: its workflow waits durably,
	// and wakes workflows.TurnLead (less than this) before its turn.
	throttleInline = 3500 * time.Millisecond
	// throttleInlineFirst is throttleInline for a first attempt made by the event
	// workflow (inline-first mode): handing a throttled delivery to its own workflow takes
	// longer than a timer, and a delivery that wakes late for its turn loses it.
	throttleInlineFirst = 5 * time.Second
	// slotGrace is how long past the subscriber's timeout a slot outlives a lost worker.
	slotGrace = 30 * time.Second
	// slotRecheck is the wait of a throttled delivery before it looks for a slot again;
	// it doubles with each look that found none, up to slotRecheckMax, so that a large
	// backlog behind a small max_in_flight does not keep the workers and the database
	// busy looking.
	slotRecheck    = time.Second
	slotRecheckMax = 8 * time.Second
)

// A throttled delivery that wakes workflows.TurnLead before its turn must be able to wait
// out the rest in its try: this fails to compile otherwise.
const _ = uint(throttleInline - workflows.TurnLead - 1)

// Names of the limits a throttled delivery waits for (workflows.Turn.Why).
const (
	limitRate     = "rate_limit"
	limitInFlight = "max_in_flight"
	limitPushBack = "push_back"
	// limitLate counts, in the throttled metric only, turns taken again by deliveries
	// that woke too late for theirs.
	limitLate = "late"
)

// takeTurn waits, before a send, for the delivery's turn under its subscriber's flow
// limits: a slot under max_in_flight, then a turn under the effective rate (the
// rate_limit, lowered while the receiver pushes back) and after a pause the receiver
// asked for. A wait of up to throttleInline is waited out here; a longer one throttles
// the delivery (done, with an OutcomeThrottled answer that carries the turn, which the
// next try uses). free frees the slot once the attempt is recorded. A subscriber
// without limits costs nothing here: its flow state came with the delivery.
func (a *Activities) takeTurn(ctx context.Context, t *try, job *store.DeliveryJob) (free func(), res workflows.DeliverResult, done bool, err error) {
	d, sub := &job.Delivery, &job.Subscriber
	free = func() {}
	now := a.now()
	if t.in.Series == nil || !models.Limited(sub, job.Flow, now) {
		return free, res, false, nil
	}
	throttled := func(turn workflows.Turn) (func(), workflows.DeliverResult, bool, error) {
		free()
		a.metrics.Throttled(turn.Why, false)
		t.log.DebugContext(ctx, "delivery throttled", "limit", turn.Why, "until", turn.At)
		return func() {}, workflows.DeliverResult{Outcome: workflows.OutcomeThrottled, Attempt: d.Attempts,
			SubscriberID: sub.ID, Turn: &turn}, true, nil
	}
	if sub.MaxInFlight > 0 {
		deadline := now.Add(throttleInline)
		for waited := false; ; waited = true {
			ok, err := a.store.TakeSlot(ctx, sub.ID, d.ID, sub.MaxInFlight, now, now.Add(sub.Timeout()+slotGrace))
			if err != nil {
				return free, res, true, a.internal(ctx, t, "take a slot", err)
			}
			if ok {
				if waited {
					a.metrics.Throttled(limitInFlight, true)
				}
				break
			}
			if !now.Before(deadline) {
				looks := 0
				if g := t.in.Turn; g != nil && g.Why == limitInFlight {
					looks = g.Looks + 1
				}
				wait := min(slotRecheck<<min(looks, 8), slotRecheckMax)
				return throttled(workflows.Turn{At: now.Add(jitter(wait)), Epoch: job.Flow.Epoch, Why: limitInFlight, Looks: looks})
			}
			if err := sleep(ctx, jitter(100*time.Millisecond)); err != nil {
				return free, res, true, a.internal(ctx, t, "wait for a slot", err)
			}
			now = a.now()
		}
		free = func() {
			// The try's context may be over; the slot must be freed all the same.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.dbWait)
			defer cancel()
			if err := a.store.FreeSlot(fctx, sub.ID, d.ID); err != nil {
				t.log.WarnContext(ctx, "free the slot (it expires by itself)", "error", err)
			}
		}
	}
	rate := models.EffectiveRate(sub, job.Flow, now)
	notBefore := now
	why := limitRate
	if job.Flow.PausedUntil.After(now) {
		notBefore, why = job.Flow.PausedUntil, limitPushBack
	} else if rate != sub.RateLimit {
		why = limitPushBack
	}
	var turn workflows.Turn
	given := t.in.Turn
	late := given != nil && given.Reserved && !given.Retaken && rate > 0 && now.After(given.At.Add(lateness(rate)))
	switch {
	case given != nil && given.Reserved && given.Epoch == job.Flow.Epoch && !given.At.Before(job.Flow.PausedUntil) && !late:
		// The turn given when the delivery was throttled: still its own unless the limits
		// changed since (a new epoch), the receiver asked for a pause that ends later, or
		// it woke too late for it. Sent now, that late, it would go out beside the next
		// turns' deliveries, over the rate in a window that starts after its own turn:
		// it takes a new turn instead, once.
		turn = *given
	case rate > 0 && t.in.Inline && given == nil:
		// A first attempt in the event workflow (inline-first) takes a turn only if it
		// comes soon enough to wait for it here. Otherwise it hands the delivery to its
		// own workflow without reserving one: the hand-off takes long enough that the
		// turn would often be missed. The workflow takes its turn when it wakes.
		got, reserved, err := a.store.TakeTurnWithin(ctx, sub.ID, rate, sub.Burst(), notBefore, throttleInlineFirst-notBefore.Sub(now))
		if err != nil {
			free()
			return func() {}, res, true, a.internal(ctx, t, "take a turn", err)
		}
		turn = workflows.Turn{At: got.At, Epoch: got.Epoch, Reserved: reserved, Why: why}
	case rate > 0:
		got, err := a.store.TakeTurn(ctx, sub.ID, rate, sub.Burst(), notBefore)
		if err != nil {
			free()
			return func() {}, res, true, a.internal(ctx, t, "take a turn", err)
		}
		turn = workflows.Turn{At: got.At, Epoch: got.Epoch, Reserved: true, Why: why}
		if late {
			turn.Retaken = true
			a.metrics.Throttled(limitLate, false)
		}
	default: // paused, without a rate
		turn = workflows.Turn{At: notBefore, Epoch: job.Flow.Epoch, Why: why}
	}
	wait := turn.At.Sub(now)
	if wait > throttleInline && (!t.in.Inline || wait > throttleInlineFirst) {
		return throttled(turn)
	}
	if wait > 0 {
		a.metrics.Throttled(turn.Why, true)
		if err := sleep(ctx, wait); err != nil {
			free()
			return func() {}, res, true, a.internal(ctx, t, "wait for the turn", err)
		}
	}
	return free, res, false, nil
}

// pushedBack slows the subscriber down after its receiver answered 429 or 503 (see
// store.PushBack). Failing to record it is logged, not the attempt's failure.
func (a *Activities) pushedBack(ctx context.Context, t *try, sub *models.Subscriber, at time.Time, resp webhook.Response) {
	if resp.StatusCode != 429 && resp.StatusCode != 503 {
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.dbWait)
	defer cancel()
	f, err := a.store.PushBack(pctx, sub, at, resp.RetryAfter)
	if err != nil {
		t.log.WarnContext(ctx, "record the receiver's push-back", "error", err)
		return
	}
	a.metrics.PushBack()
	t.log.InfoContext(ctx, "receiver pushed back", "status_code", resp.StatusCode,
		"effective_rate", models.EffectiveRate(sub, f, at), "paused_until", f.PausedUntil)
}

// lateness is how late for its turn under rate a delivery may wake and still take it:
// half the interval between turns, at least 20 ms.
func lateness(rate float64) time.Duration {
	return max(time.Duration(float64(time.Second)/rate/2), 20*time.Millisecond)
}

// jitter spreads d over [d/2, 3d/2), so that waiters do not wake together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
