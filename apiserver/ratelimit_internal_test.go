package apiserver

import (
	"strconv"
	"testing"
	"time"
)

// TestRateLimiterEvictsIdleBuckets checks that the bucket map keeps only recent
// callers, and that a bucket still refilling is kept with its state.
func TestRateLimiterEvictsIdleBuckets(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// 1 request per second in bursts of 120: a drained bucket takes two minutes to
	// fill, longer than the sweep interval.
	l := newRateLimiter(1, 120)
	for i := range 1000 {
		if ok, _ := l.allow("key:"+strconv.Itoa(i), t0); !ok {
			t.Fatalf("first request of caller %d refused", i)
		}
	}
	for range 120 {
		if ok, _ := l.allow("drained", t0); !ok {
			t.Fatal("request within the burst refused")
		}
	}
	if ok, wait := l.allow("drained", t0); ok || wait != time.Second {
		t.Fatalf("request over the burst: allowed %v, wait %v; want refused, 1s", ok, wait)
	}
	if got := l.size(); got != 1001 {
		t.Fatalf("%d buckets, want 1001", got)
	}

	// After a sweep interval, the callers that made one request are full again and
	// dropped; the drained bucket has refilled 61 tokens and keeps counting.
	t1 := t0.Add(sweepEvery + time.Second)
	if ok, _ := l.allow("other", t1); !ok {
		t.Fatal("new caller refused")
	}
	if got := l.size(); got != 2 {
		t.Errorf("%d buckets after the sweep, want 2 (the drained caller and the new one)", got)
	}
	for i := range 61 {
		if ok, _ := l.allow("drained", t1); !ok {
			t.Fatalf("refilled token %d refused", i+1)
		}
	}
	if ok, _ := l.allow("drained", t1); ok {
		t.Error("the drained caller's bucket was reset by the sweep")
	}

	// Once every bucket has been idle long enough to be full, a sweep drops them all.
	t2 := t1.Add(3 * time.Minute)
	l.allow("last", t2)
	if got := l.size(); got != 1 {
		t.Errorf("%d buckets after everyone went idle, want 1", got)
	}
}

// TestNoRateLimiter checks that a limit of 0 makes no limiter.
func TestNoRateLimiter(t *testing.T) {
	if l := newRateLimiter(0, 10); l != nil {
		t.Errorf("newRateLimiter(0, 10) = %v, want nil", l)
	}
}
