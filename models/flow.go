package models

import (
	"math"
	"time"
)

// Flow limits on a subscriber.
const (
	// MaxRateLimit is the highest rate_limit a subscriber may set, in deliveries per second.
	MaxRateLimit = 10000
	// MinRateLimit is the lowest: one delivery every 1,000 seconds.
	MinRateLimit = 0.001
	// MaxRateLimitBurst bounds rate_limit_burst.
	MaxRateLimitBurst = 10000
	// MaxMaxInFlight bounds max_in_flight.
	MaxMaxInFlight = 1000
	// MinPushBackRate is the lowest rate a receiver's push-back brings a subscriber to.
	MinPushBackRate = 0.1
	// PushBackFromRate is the pace below which a 429 or 503 does not slow a subscriber
	// without a rate_limit: sent less than once a second, its receiver is not overrun by
	// the pace, and the retry policy already spaces the retries of what failed.
	PushBackFromRate = 1.0
	// PushBackRecovery is how long a pushed-back rate takes to double again.
	PushBackRecovery = 30 * time.Second
	// MaxPushBackPause bounds the pause a receiver's Retry-After imposes on its subscriber.
	MaxPushBackPause = 5 * time.Minute
)

// HasLimits reports whether the subscriber has a rate limit or a concurrency cap.
func (s *Subscriber) HasLimits() bool { return s.RateLimit > 0 || s.MaxInFlight > 0 }

// Burst is the number of deliveries the rate limit lets go at once: RateLimitBurst, at
// least 1.
func (s *Subscriber) Burst() int { return max(s.RateLimitBurst, 1) }

// Flow is the state of a subscriber's flow control, shared by every worker: the
// receiver's push-back and the limiter's schedule. The zero Flow is a subscriber that
// never pushed back.
type Flow struct {
	// Epoch changes when the subscriber's limits change: a turn taken under another
	// epoch is taken again under the new limits.
	Epoch int64
	// PushBackRate is the rate the last push-back (a 429 or 503) set, at PushBackAt; 0
	// when the receiver never pushed back. It doubles every PushBackRecovery until it
	// reaches PushBackCeiling, and the push-back is over.
	PushBackRate    float64
	PushBackAt      time.Time
	PushBackCeiling float64
	// PausedUntil is the end of the wait a push-back's Retry-After asked for.
	PausedUntil time.Time
}

// pushBackRate is the rate the push-back allows at now, and whether it is still on.
func (f Flow) pushBackRate(now time.Time) (float64, bool) {
	if f.PushBackRate <= 0 {
		return 0, false
	}
	elapsed := max(now.Sub(f.PushBackAt), 0)
	r := f.PushBackRate * math.Exp2(float64(elapsed)/float64(PushBackRecovery))
	if r >= f.PushBackCeiling {
		return 0, false
	}
	return r, true
}

// EffectiveRate is the rate at which deliveries go to sub's receiver at now: its
// rate_limit, lowered while the receiver's push-back lasts; 0 when nothing limits it.
func EffectiveRate(sub *Subscriber, f Flow, now time.Time) float64 {
	r, on := f.pushBackRate(now)
	switch {
	case !on:
		return sub.RateLimit
	case sub.RateLimit > 0:
		return min(r, sub.RateLimit)
	}
	return r
}

// Limited reports whether a delivery to sub at now must take a turn (see EffectiveRate)
// or a slot (MaxInFlight) before it is sent.
func Limited(sub *Subscriber, f Flow, now time.Time) bool {
	return sub.MaxInFlight > 0 || EffectiveRate(sub, f, now) > 0 || now.Before(f.PausedUntil)
}

// PushedBack returns the flow after the receiver answered 429 or 503 at now: its rate is
// halved (from the effective rate, or from recent, the rate it was being sent at, when it
// had none and recent is at least PushBackFromRate), at most once per interval between
// its deliveries so that the answers of requests already in flight count once; and
// retryAfter, when the receiver sent one, pauses it until then (at most MaxPushBackPause).
func PushedBack(sub *Subscriber, f Flow, now time.Time, recent float64, retryAfter time.Duration) Flow {
	out := f
	if retryAfter > 0 {
		if until := now.Add(min(retryAfter, MaxPushBackPause)); until.After(out.PausedUntil) {
			out.PausedUntil = until
		}
	}
	cur := EffectiveRate(sub, f, now)
	if _, on := f.pushBackRate(now); on && now.Sub(f.PushBackAt) < max(time.Second, time.Duration(float64(time.Second)/cur)) {
		return out // this push-back was heard already
	}
	_, on := f.pushBackRate(now)
	if cur <= 0 {
		if recent < PushBackFromRate {
			return out
		}
		cur = recent
	}
	// The push-back ends when the rate is back where it was before the first one.
	ceiling := cur
	switch {
	case sub.RateLimit > 0:
		ceiling = sub.RateLimit
	case on:
		ceiling = f.PushBackCeiling
	}
	out.PushBackRate = max(cur/2, MinPushBackRate)
	out.PushBackAt = now
	out.PushBackCeiling = ceiling
	return out
}

func validateFlow(v *Validation, s *Subscriber) {
	switch r := s.RateLimit; {
	case math.IsNaN(r) || math.IsInf(r, 0):
		v.Add("rate_limit", "must be a number")
	case r < 0:
		v.Add("rate_limit", "must be greater than 0 (deliveries per second); null removes the limit")
	case r > MaxRateLimit:
		v.Add("rate_limit", "must be at most %d deliveries per second", MaxRateLimit)
	case r > 0 && r < MinRateLimit:
		v.Add("rate_limit", "must be at least %g deliveries per second", MinRateLimit)
	}
	switch b := s.RateLimitBurst; {
	case b < 0 || b > MaxRateLimitBurst:
		v.Add("rate_limit_burst", "must be between 1 and %d", MaxRateLimitBurst)
	case b > 0 && s.RateLimit == 0:
		v.Add("rate_limit_burst", "needs a rate_limit")
	}
	if n := s.MaxInFlight; n < 0 || n > MaxMaxInFlight {
		v.Add("max_in_flight", "must be between 1 and %d", MaxMaxInFlight)
	}
}
