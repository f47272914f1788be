package main

import (
	"hash/fnv"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"
)

// benchReceiver is the loopback endpoint of every benchmark subscriber. It counts each
// delivery (by webhook-id) once, notes when it first arrived, and can fail the first
// attempt of a share of the deliveries.
type benchReceiver struct {
	server   *http.Server
	url      string
	failPct  uint32    // fail the first attempt of this many in 100 deliveries
	accepted *sync.Map // event id → time.Time the API accepted it

	mu         sync.Mutex
	seen       map[string]bool // webhook-ids answered with a 2xx
	failed     map[string]bool // webhook-ids whose first attempt was failed on purpose
	duplicates int
	latencies  []time.Duration
	arrivals   map[string][]time.Time // by path: each subscriber has its own
	first      time.Time
	last       time.Time
}

func newBenchReceiver(failPct int, accepted *sync.Map) (*benchReceiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &benchReceiver{url: "http://" + l.Addr().String(), failPct: uint32(failPct), accepted: accepted,
		seen: map[string]bool{}, failed: map[string]bool{}, arrivals: map[string][]time.Time{}}
	r.server = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.server.Serve(l) }()
	return r, nil
}

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	now := time.Now()
	id := req.Header.Get("webhook-id")
	event := req.Header.Get("x-fp-event-id")
	r.mu.Lock()
	if r.failPct > 0 && !r.failed[id] && !r.seen[id] && hash(id)%100 < r.failPct {
		r.failed[id] = true
		r.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if r.seen[id] {
		r.duplicates++
	} else {
		r.seen[id] = true
		if at, ok := r.accepted.Load(event); ok {
			r.latencies = append(r.latencies, now.Sub(at.(time.Time)))
		}
		r.arrivals[req.URL.Path] = append(r.arrivals[req.URL.Path], now)
		if r.first.IsZero() {
			r.first = now
		}
		r.last = now
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func hash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}

// reset forgets what arrived, for the next measurement.
func (r *benchReceiver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen, r.failed, r.duplicates, r.latencies = map[string]bool{}, map[string]bool{}, 0, nil
	r.arrivals = map[string][]time.Time{}
	r.first, r.last = time.Time{}, time.Time{}
}

// received returns how many distinct deliveries arrived.
func (r *benchReceiver) received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// percentiles returns p50, p95, p99 and max of the latencies.
func (r *benchReceiver) percentiles() (p50, p95, p99, max time.Duration) {
	r.mu.Lock()
	l := append([]time.Duration(nil), r.latencies...)
	r.mu.Unlock()
	if len(l) == 0 {
		return
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	at := func(q float64) time.Duration { return l[int(q*float64(len(l)-1))] }
	return at(0.50), at(0.95), at(0.99), l[len(l)-1]
}

// flow measures each subscriber's deliveries against rate and burst: its rate from its
// first delivery to its last, and the most it got in any window of 30 s (or of the run,
// when shorter).
func (r *benchReceiver) flow(rate float64, burst int) *benchFlow {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := &benchFlow{RateLimit: rate, Burst: burst, ObservedRateMin: math.Inf(1), WindowSeconds: 30}
	for _, times := range r.arrivals {
		if len(times) > 1 {
			f.WindowSeconds = min(f.WindowSeconds, times[len(times)-1].Sub(times[0]).Seconds())
		}
	}
	window := time.Duration(f.WindowSeconds * float64(time.Second))
	for _, times := range r.arrivals {
		if len(times) < 2 {
			continue
		}
		observed := float64(len(times)-1) / times[len(times)-1].Sub(times[0]).Seconds()
		f.ObservedRateMin, f.ObservedRateMax = min(f.ObservedRateMin, observed), max(f.ObservedRateMax, observed)
		for i, at := range times {
			n, _ := slices.BinarySearchFunc(times[i:], at.Add(window), func(x, end time.Time) int { return x.Compare(end) })
			f.MostInWindow = max(f.MostInWindow, n)
		}
	}
	if math.IsInf(f.ObservedRateMin, 1) {
		f.ObservedRateMin = 0
	}
	f.ObservedRateMin, f.ObservedRateMax = round3(f.ObservedRateMin), round3(f.ObservedRateMax)
	f.WindowSeconds = round3(f.WindowSeconds)
	// The rate and the burst, as the rate limit promises: a window of w seconds holds
	// the turns of [0, w), rate×w of them, and one more to allow for the jitter of
	// the first one's send; the burst's others go at once after a quiet spell.
	f.Allowed = int(math.Ceil(rate*f.WindowSeconds)) + burst
	return f
}

func (r *benchReceiver) close() { _ = r.server.Close() }
