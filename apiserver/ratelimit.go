package apiserver

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/hookflow/hookflow/models"
)

// Default rate limit of each caller, for Config.RateLimit and Config.RateBurst.
//
// One API process on a small machine accepts a few hundred events per second, and
// `hookflow bench` sends from 64 clients on one admin token as fast as events are
// accepted: a caller that stays under these figures is never slowed, and no normal use
// comes near them. What they stop is one runaway or abusive caller taking every request
// slot and database connection from the others.
const (
	DefaultRateLimit = 1000 // requests per second per caller, sustained
	DefaultRateBurst = 2000 // requests a caller may make at once after being idle
)

// Default limit of failed authentications per client address, for
// Config.AuthFailureLimit and Config.AuthFailureBurst. A client that sends a wrong or
// revoked key a few times (a typo, a rotation) is never slowed; one that keeps guessing
// is answered 429 without a database lookup until its bucket refills.
const (
	DefaultAuthFailureLimit = 5  // failed authentications per second per address, sustained
	DefaultAuthFailureBurst = 50 // failed authentications an address may make at once
)

// rateLimiter keeps a token bucket per caller. A bucket that is full again is the same
// as a new one, so sweeps drop it: the map holds only the callers of the last minute or
// so, however many keys have come and gone.
type rateLimiter struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

// sweepEvery is how often full buckets are dropped, at most.
const sweepEvery = time.Minute

// newRateLimiter returns a limiter of perSecond requests per second with bursts of
// burst, or nil when perSecond is 0 (no limit).
func newRateLimiter(perSecond, burst int) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{
		limit:   rate.Limit(perSecond),
		burst:   burst,
		buckets: map[string]*rate.Limiter{},
	}
}

// allow takes a token from caller's bucket at now. Without one, it returns false and
// how long until the bucket holds one again.
func (l *rateLimiter) allow(caller string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[caller]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[caller] = b
	}
	if b.AllowN(now, 1) {
		return true, 0
	}
	return false, l.untilToken(b, now)
}

// untilToken is how long after now b holds one token again.
func (l *rateLimiter) untilToken(b *rate.Limiter, now time.Time) time.Duration {
	return time.Duration((1 - b.TokensAt(now)) / float64(l.limit) * float64(time.Second))
}

// empty reports whether caller's bucket holds less than one token at now, and if so
// how long until it holds one, without taking any.
func (l *rateLimiter) empty(caller string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[caller]
	if !ok {
		return false, 0
	}
	if b.TokensAt(now) < 1 {
		return true, l.untilToken(b, now)
	}
	return false, 0
}

// size returns the number of buckets held.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// rateLimit answers 429, with Retry-After in whole seconds, to a caller over its limit.
// It runs after authenticate: requests without valid credentials are refused before
// they reach a bucket, so every bucket belongs to a real API key or to the admin token.
func (s *Server) rateLimit() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.limiter == nil {
			c.Next()
			return
		}
		ok, wait := s.limiter.allow(callerOf(principal(c)), s.now())
		if !ok {
			s.retryAfter(c, wait, "rate limit exceeded: each API key is limited to %d requests/s with bursts of %d",
				s.cfg.RateLimit, s.cfg.RateBurst)
			return
		}
		c.Next()
	}
}

// retryAfter answers 429 with Retry-After, in whole seconds, from wait and message.
func (s *Server) retryAfter(c *gin.Context, wait time.Duration, format string, args ...any) {
	seconds := max(1, int(math.Ceil(wait.Seconds())))
	s.writeError(c, &models.Error{Code: models.ERATELIMITED,
		Message: fmt.Sprintf(format, args...) + fmt.Sprintf("; retry after %d s", seconds),
		Err:     retryAfterError{seconds: seconds}})
}

// callerOf names p's bucket: the API key, or the admin token.
func callerOf(p models.Principal) string {
	if p.Admin {
		return "admin"
	}
	return "key:" + strconv.FormatInt(p.KeyID, 10)
}
