package main_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// Fault tests: they break a running Hookflow on purpose (a killed worker, a killed
// embedded Temporal server) under load and check that every accepted event is delivered,
// and that the only duplicates are POSTs that were in flight when the process died,
// recognisable by their webhook-id.

// loadSize is the load of the fault tests: events × subscribers deliveries.
func loadSize() (events, subscribers int) {
	if testing.Short() {
		return 100, 5
	}
	return 500, 5
}

// countingReceiver is the loopback endpoint of every subscriber of a fault test. It
// counts the POSTs of each delivery by webhook-id and keeps the first body, so that a
// duplicate can be checked to be the same message, and it records the webhook-ids that
// each (event, subscriber) arrived under: more than one is a delivery that receivers
// cannot deduplicate. Only requests below its path token, for the test's own events
// (ids starting with Events), count; anything else is a stray (see reportStrays).
type countingReceiver struct {
	*httptest.Server
	URL    string // the server's URL and the path token: subscribers point below it
	Events string // the prefix of the ids of the test's events, unique to the run
	mu     sync.Mutex
	first  map[string]time.Time
	body   map[string]string
	count  map[string]int
	ids    map[deliveryKey]map[string]bool // webhook-ids by (event, subscriber)
	differ []string                        // webhook-ids whose repeated POSTs had another body
	strays []stray
}

// deliveryKey names a delivery as a receiver sees it: the event id and the path of the
// subscriber's URL below the receiver's token.
type deliveryKey struct{ event, path string }

// newCountingReceiver returns a receiver for the events whose ids start with name and a
// suffix unique to the run (rc.Events), as sendEvents(…, rc.Events) sends them.
func newCountingReceiver(t *testing.T, name string) *countingReceiver {
	t.Helper()
	token := "/" + newPathToken()
	rc := &countingReceiver{Events: name + "-" + newPathToken()[1:9], first: map[string]time.Time{}, body: map[string]string{},
		count: map[string]int{}, ids: map[deliveryKey]map[string]bool{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// When the POST arrived, before the work below: a POST that a process made just
		// before it was killed arrives before the kill.
		arrived := time.Now()
		body, _ := io.ReadAll(r.Body)
		path, ok := strings.CutPrefix(r.URL.Path, token)
		event := r.Header.Get("x-fp-event-id")
		why := ""
		switch {
		case !ok || !strings.HasPrefix(path, "/"):
			why = "not this receiver's path token"
		case !strings.HasPrefix(event, rc.Events+"-"):
			why = "not one of this test's events"
		}
		if why != "" {
			rc.mu.Lock()
			rc.strays = append(rc.strays, newStray(r, body, why))
			rc.mu.Unlock()
			w.WriteHeader(http.StatusNotFound)
			return
		}
		// A few milliseconds of work keeps POSTs in flight when a process is killed.
		time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
		id := r.Header.Get("webhook-id")
		key := deliveryKey{event: event, path: path}
		rc.mu.Lock()
		if _, ok := rc.first[id]; !ok {
			rc.first[id], rc.body[id] = arrived, string(body)
		} else if rc.body[id] != string(body) {
			rc.differ = append(rc.differ, id)
		}
		rc.count[id]++
		if rc.ids[key] == nil {
			rc.ids[key] = map[string]bool{}
		}
		rc.ids[key][id] = true
		rc.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	rc.URL = rc.Server.URL + token
	t.Cleanup(func() {
		rc.Close()
		rc.mu.Lock()
		defer rc.mu.Unlock()
		reportStrays(t, "receiver "+rc.URL, rc.strays)
	})
	return rc
}

func (rc *countingReceiver) unique() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.first)
}

// checkDuplicates fails t unless every delivery was received, each (event, subscriber)
// under one webhook-id, every repeated POST carried the same body, and every repeated
// delivery was first POSTed before killedAt (by the process that was killed). It returns
// the number of duplicate POSTs.
func (rc *countingReceiver) checkDuplicates(t *testing.T, want int, killedAt []time.Time) int {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.first) != want || len(rc.ids) != want {
		t.Errorf("received %d distinct deliveries (webhook-ids) for %d (event, subscriber) pairs, want %d", len(rc.first), len(rc.ids), want)
	}
	for k, ids := range rc.ids {
		if len(ids) > 1 {
			t.Errorf("event %s was POSTed to %s under %d webhook-ids %v: one delivery with two ids, which receivers cannot deduplicate",
				k.event, k.path, len(ids), slices.Sorted(maps.Keys(ids)))
		}
	}
	if len(rc.differ) > 0 {
		t.Errorf("repeated POSTs with another body: %v", rc.differ)
	}
	dups := 0
	for id, n := range rc.count {
		if n == 1 {
			continue
		}
		dups += n - 1
		inFlight := false
		for _, k := range killedAt {
			// Within the delivery's attempt: POSTed before the kill.
			if rc.first[id].Before(k) {
				inFlight = true
			}
		}
		if !inFlight {
			t.Errorf("%s was POSTed %d times, first at %v, after every kill (%v)", id, n, rc.first[id], killedAt)
		}
	}
	return dups
}

// sendEvents sends events product-created events to company 1 at base, retrying each
// until it is accepted (202), as a producing service does while Hookflow restarts. It
// returns when every event is accepted, or sends the first other failure on errs.
func sendEvents(base string, events int, prefix string) <-chan error {
	done := make(chan error, 1)
	go func() {
		client := &http.Client{Timeout: 10 * time.Second}
		deadline := time.Now().Add(3 * time.Minute)
		for i := 0; i < events; i++ {
			body := fmt.Sprintf(`{"id":"%s-%d","event_slug":"company/product/create/v1","payload":{"uid":%d,"name":"product %d"}}`, prefix, i, i, i)
			for {
				req, _ := http.NewRequest("POST", base+eventsPath, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+testAdminToken)
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
						break
					}
					if resp.StatusCode != http.StatusServiceUnavailable {
						done <- fmt.Errorf("event %d: status %d", i, resp.StatusCode)
						return
					}
				}
				if time.Now().After(deadline) {
					done <- fmt.Errorf("event %d not accepted before the deadline: %v", i, err)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		done <- nil
	}()
	return done
}

// startWorkerProcess starts `hookflow worker` (this test binary acting as hookflow)
// against Temporal at temporalAddr and the database at dbURL, and waits until it serves
// its metrics.
func startWorkerProcess(t *testing.T, temporalAddr, dbURL string, env ...string) *process {
	t.Helper()
	metricsAddr := freeAddr(t)
	p := startProcess(t, append([]string{"HOOKFLOW_LOG_LEVEL=warn",
		"HOOKFLOW_TEMPORAL_ADDRESS=" + temporalAddr, "HOOKFLOW_DATABASE_URL=" + dbURL, "HOOKFLOW_METRICS_ADDR=" + metricsAddr,
		"HOOKFLOW_REQUIRE_HTTPS=false", "HOOKFLOW_ALLOW_LOOPBACK=true", "HOOKFLOW_ALLOW_PRIVATE_NETWORKS=true"}, env...), "worker")
	p.waitReady(t, "hookflow worker", "http://"+metricsAddr+"/metrics")
	return p
}

// retryEnv is a retry policy for processes started by fault tests: quick, with room for
// several failed tries.
var retryEnv = []string{"HOOKFLOW_RETRY_INITIAL_INTERVAL=500ms", "HOOKFLOW_RETRY_MAX_INTERVAL=2s", "HOOKFLOW_RETRY_MAX_ATTEMPTS=30"}

// TestWorkerKilledUnderLoad runs the worker as its own process beside a Temporal server
// and API in the test, kills it (SIGKILL) while deliveries are going out, starts a new
// one, and checks that every delivery completes exactly as the receiver can tell.
func TestWorkerKilledUnderLoad(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		events, subs := loadSize()
		total := events * subs
		dbs := storetest.Databases(t)
		db := dbs[len(dbs)-1] // PostgreSQL when available: two processes share it
		s := startStackParts(t, db, main.Parts{EmbeddedTemporal: true, API: true}, withMode(mode))
		env := append([]string{"HOOKFLOW_DELIVERY_MODE=" + mode}, retryEnv...)
		w := startWorkerProcess(t, s.Config.TemporalAddress, db.URL, env...)

		rc := newCountingReceiver(t, "kill")
		ids := make([]int64, subs)
		for i := range ids {
			ids[i] = s.createSubscriber(fmt.Sprintf("%s/s/%d", rc.URL, i), nil)
		}
		sent := sendEvents(s.APIURL(), events, rc.Events)
		waitFor(t, 3*time.Minute, "a quarter of the deliveries", func() bool { return rc.unique() >= total/4 })
		w.kill()
		killedAt := time.Now()
		before := rc.unique()
		t.Logf("%s: killed the worker after %d of %d deliveries", mode, before, total)

		startWorkerProcess(t, s.Config.TemporalAddress, db.URL, env...)
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		waitFor(t, 4*time.Minute, "every delivery", func() bool { return rc.unique() >= total })
		checkStoreSucceeded(t, s.Store(), ids, events)
		dups := rc.checkDuplicates(t, total, []time.Time{killedAt})
		t.Logf("%s: %d deliveries, %d duplicate POSTs (in flight at the kill), %v after the kill", mode, total, dups, time.Since(killedAt).Round(time.Millisecond))
	})
}

// TestDevKilledUnderLoad kills `hookflow dev` (embedded Temporal on SQLite files, the
// worker and the API in one process) while events are being sent and delivered, starts it
// again on the same data directory and checks that every accepted event is delivered.
func TestDevKilledUnderLoad(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		events, subs := loadSize()
		total := events * subs
		dataDir := t.TempDir()
		env := append([]string{"HOOKFLOW_DELIVERY_MODE=" + mode}, retryEnv...)
		p := startDev(t, dataDir, env...)
		addr := strings.TrimPrefix(p.apiURL, "http://")

		rc := newCountingReceiver(t, "restart")
		ids := make([]int64, subs)
		mustInstallExt(t, p.apiURL, 1)
		for i := range ids {
			var out map[string]any
			body := subscriberBody(fmt.Sprintf("%s/s/%d", rc.URL, i), "restart-secret", "company/product/create/v1")
			if code := callAPI(t, p.apiURL, testAdminToken, "POST", partnerBase+"/company/1/subscriber", body, &out); code != 201 {
				t.Fatalf("create subscriber: %d %v", code, out)
			}
			ids[i] = int64(out["id"].(float64))
		}
		sent := sendEvents(p.apiURL, events, rc.Events)
		waitFor(t, 3*time.Minute, "a quarter of the deliveries", func() bool { return rc.unique() >= total/4 })
		p.kill()
		killedAt := time.Now()
		t.Logf("%s: killed hookflow dev after %d of %d deliveries", mode, rc.unique(), total)

		p2 := startDevAt(t, dataDir, addr, env...)
		t.Logf("%s: restarted in %v", mode, time.Since(killedAt).Round(time.Millisecond))
		if err := <-sent; err != nil {
			t.Fatalf("%v\n%s", err, p2.log())
		}
		waitFor(t, 4*time.Minute, "every delivery", func() bool { return rc.unique() >= total })
		st := openDevStore(t, dataDir)
		checkStoreSucceeded(t, st, ids, events)
		dups := rc.checkDuplicates(t, total, []time.Time{killedAt})
		t.Logf("%s: %d deliveries, %d duplicate POSTs (in flight at the kill), %v after the kill", mode, total, dups, time.Since(killedAt).Round(time.Millisecond))
	})
}

// checkStoreSucceeded fails t unless each subscriber has events deliveries, all succeeded.
func checkStoreSucceeded(t *testing.T, st *store.Store, subs []int64, events int) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, time.Minute, "every delivery row to be final", func() bool {
		for _, sub := range subs {
			ids, err := st.DeliveryIDs(ctx, store.DeliveryQuery{
				Tenant: models.Tenant{OrganizationID: "org-1", ExtensionID: "ext-1"},
				Start:  time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), SubscriberIDs: []int64{sub},
				Status: models.DeliverySucceeded,
			}, 0, 100000)
			if err != nil || len(ids) != events {
				return false
			}
		}
		return true
	})
}

// checkOneAttemptEach checks that every delivery of subs has exactly one recorded
// attempt, numbered 1.
func checkOneAttemptEach(t *testing.T, st *store.Store, subs []int64) {
	t.Helper()
	ctx := context.Background()
	ids, err := st.DeliveryIDs(ctx, store.DeliveryQuery{
		Tenant: models.Tenant{OrganizationID: "org-1", ExtensionID: "ext-1"},
		Start:  time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), SubscriberIDs: subs,
	}, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, id := range ids {
		as, err := st.ListAttempts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 1 || as[0].Attempt != 1 {
			if bad++; bad <= 5 {
				numbers := make([]int, len(as))
				for i, a := range as {
					numbers[i] = a.Attempt
				}
				t.Errorf("delivery %d recorded attempts %v, want [1]: Hookflow's outage was billed to the receiver", id, numbers)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d deliveries recorded other attempts than [1]", bad, len(ids))
	}
}

// tcpProxy forwards a loopback port to a database server; block makes the database
// unreachable (open connections are cut, new ones refused) until unblock.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func startTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{addr: freeAddr(t), target: target, conns: map[net.Conn]struct{}{}}
	if err := p.unblock(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.block)
	return p
}

func (p *tcpProxy) unblock() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.ln != ln { // blocked meanwhile
				p.mu.Unlock()
				c.Close()
				u.Close()
				return
			}
			p.conns[c], p.conns[u] = struct{}{}, struct{}{}
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			go pipe(c, u)
			go pipe(u, c)
		}
	}()
	return nil
}

func (p *tcpProxy) block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// TestDatabaseOutage cuts the application database (PostgreSQL, through a proxy) for
// 10 s while deliveries are going out: the API answers 503 on writes, activities retry,
// nothing is lost, and everything recovers without a restart.
func TestDatabaseOutage(t *testing.T) {
	base := os.Getenv(storetest.EnvDatabaseURL)
	if base == "" {
		t.Skip("needs PostgreSQL: set " + storetest.EnvDatabaseURL + " (CI does)")
	}
	forEachMode(t, func(t *testing.T, mode string) {
		dsn := storetest.NewPostgresSchema(t, base)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		px := startTCPProxy(t, u.Host)
		u.Host = px.addr
		s := startStack(t, storetest.Database{Name: "postgres", URL: u.String()}, func(c *main.Config) {
			c.DeliveryMode = mode
			c.Retry = workflows.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2,
				MaximumInterval: 2 * time.Second, MaximumAttempts: 30, Expiration: 5 * time.Minute}
		})
		rc := newCountingReceiver(t, "outage")
		const events, subs = 60, 3
		ids := make([]int64, subs)
		for i := range ids {
			ids[i] = s.createSubscriber(fmt.Sprintf("%s/s/%d", rc.URL, i), nil)
		}
		sent := sendEvents(s.APIURL(), events, rc.Events)
		waitFor(t, time.Minute, "a third of the deliveries", func() bool { return rc.unique() >= events*subs/3 })

		px.block()
		t.Logf("%s: database cut after %d of %d deliveries", mode, rc.unique(), events*subs)
		var e errorEnvelope
		code := s.call("POST", partnerBase+"/company/1/subscriber", subscriberBody(rc.URL+"/s/x", "outage-secret", "company/product/create/v1"), &e)
		if code != http.StatusServiceUnavailable || !strings.Contains(e.Message, "database") {
			t.Errorf("create subscriber during the outage: %d %+v, want 503 naming the database", code, e)
		}
		time.Sleep(10 * time.Second)
		if err := px.unblock(); err != nil {
			t.Fatal(err)
		}
		restored := time.Now()

		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		waitFor(t, 2*time.Minute, "every delivery", func() bool { return rc.unique() >= events*subs })
		checkStoreSucceeded(t, s.Store(), ids, events)
		// The receiver answered every request with 200: the outage was Hookflow's, and
		// it used none of the receiver's attempts. Each delivery made attempt 1 only.
		checkOneAttemptEach(t, s.Store(), ids)
		// A POST whose attempt could not be recorded while the database was away is
		// repeated; it went out before the database came back.
		dups := rc.checkDuplicates(t, events*subs, []time.Time{restored})
		var out map[string]any
		if code := s.call("POST", partnerBase+"/company/1/subscriber", subscriberBody(rc.URL+"/s/x", "outage-secret", "company/product/create/v1"), &out); code != 201 {
			t.Errorf("create subscriber after the outage: %d %v", code, out)
		}
		t.Logf("%s: recovered; %d duplicate POSTs; all delivered %v after the database came back", mode, dups, time.Since(restored).Round(time.Millisecond))
	})
}

// TestHostileReceivers points subscribers at receivers that hang, reset the connection,
// answer slowly, send a 10 MB body or redirect to themselves, beside a healthy one: each
// is bounded by the subscriber's timeout and the body cap, none is followed anywhere, and
// the healthy subscriber's deliveries are not held up.
func TestHostileReceivers(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], func(c *main.Config) {
			c.DeliveryMode = mode
			c.Retry = workflows.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2,
				MaximumInterval: time.Second, MaximumAttempts: 2, Expiration: 5 * time.Minute}
		})
		var mu sync.Mutex
		hits := map[string]int{}
		var strays []stray
		// Every subscriber's URL is below a path token; any other request is a stray.
		base := "/" + newPathToken()
		mux := http.NewServeMux()
		count := func(r *http.Request) {
			mu.Lock()
			hits[strings.TrimPrefix(r.URL.Path, base)]++
			mu.Unlock()
		}
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			strays = append(strays, newStray(r, body, "not a path of this test's receivers"))
			mu.Unlock()
			w.WriteHeader(http.StatusNotFound)
		})
		mux.HandleFunc(base+"/healthy", func(w http.ResponseWriter, r *http.Request) { count(r) })
		stop, stall := make(chan struct{}), make(chan struct{})
		mux.HandleFunc(base+"/hang", func(w http.ResponseWriter, r *http.Request) {
			count(r)
			select { // until the client gives up
			case <-r.Context().Done():
			case <-stop:
			}
		})
		mux.HandleFunc(base+"/stall", func(w http.ResponseWriter, r *http.Request) {
			count(r)
			select { // until the test lets it answer 200
			case <-stall:
			case <-r.Context().Done():
			case <-stop:
			}
		})
		mux.HandleFunc(base+"/reset", func(w http.ResponseWriter, r *http.Request) {
			count(r)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with a reset
			}
			conn.Close()
		})
		mux.HandleFunc(base+"/slow", func(w http.ResponseWriter, r *http.Request) {
			count(r)
			time.Sleep(1500 * time.Millisecond)
		})
		mux.HandleFunc(base+"/huge", func(w http.ResponseWriter, r *http.Request) {
			count(r)
			chunk := []byte(strings.Repeat("x", 64<<10))
			for written := 0; written < 10<<20; written += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		})
		mux.HandleFunc(base+"/redirect", func(w http.ResponseWriter, r *http.Request) {
			count(r)
			http.Redirect(w, r, base+"/redirect", http.StatusFound)
		})
		srv := httptest.NewServer(mux)
		t.Cleanup(func() {
			srv.Close()
			mu.Lock()
			defer mu.Unlock()
			reportStrays(t, "receiver "+srv.URL+base, strays)
		})
		t.Cleanup(func() { close(stop) }) // runs first: lets hanging handlers end
		sub := map[string]int64{}
		for _, name := range []string{"healthy", "hang", "reset", "slow", "huge", "redirect", "stall"} {
			sub[name] = s.createSubscriber(srv.URL+base+"/"+name, func(b map[string]any) {
				if name == "stall" {
					b["timeout_ms"] = 30000 // the longest allowed
				}
			})
		}

		const events = 10
		began := time.Now()
		for i := 0; i < events; i++ {
			s.send(fmt.Sprintf("hostile-%d", i))
		}
		waitFor(t, time.Minute, "the healthy subscriber's deliveries", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return hits["/healthy"] == events
		})
		// Every healthy delivery arrived while the stalled receiver still held every one of
		// its first attempts open (it answers only when released, its timeout is 30 s): the
		// healthy subscriber did not wait for it.
		mu.Lock()
		stalled := hits["/stall"]
		mu.Unlock()
		for id, d := range s.deliveries(sub["stall"]) {
			if d.Attempts > 0 {
				t.Errorf("stall %s: an attempt ended before the healthy deliveries arrived: %+v", id, d)
			}
		}
		close(stall)
		t.Logf("%s: healthy deliveries done while %d stalled POSTs were open", mode, stalled)
		final := func(name string, statuses ...string) map[string]models.Delivery {
			var ds map[string]models.Delivery
			waitFor(t, time.Minute, name+"'s deliveries to settle", func() bool {
				ds = s.deliveries(sub[name])
				if len(ds) != events {
					return false
				}
				for _, d := range ds {
					if !slices.Contains(statuses, d.Status) {
						return false
					}
				}
				return true
			})
			t.Logf("%s: %s settled after %v", mode, name, time.Since(began).Round(time.Millisecond))
			return ds
		}
		attempts := func(d models.Delivery) []models.Attempt {
			a, err := s.Store().ListAttempts(context.Background(), d.ID)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		// Failing receivers end failed (or queued once their subscriber is blocked).
		for name, class := range map[string]string{"hang": models.ErrClassTimeout, "reset": models.ErrClassConnection, "redirect": models.ErrClassRedirect} {
			for id, d := range final(name, models.DeliveryFailed, models.DeliveryQueued) {
				for _, a := range attempts(d) {
					if a.ErrorClass != class {
						t.Errorf("%s %s attempt %d: class %q, want %q (%+v)", name, id, a.Attempt, a.ErrorClass, class, a)
					}
					if name == "hang" && (a.ResponseTimeMS < 4900 || a.ResponseTimeMS > 8000) {
						t.Errorf("hang %s attempt %d took %.0f ms, want the 5 s timeout", id, a.Attempt, a.ResponseTimeMS)
					}
					if name == "redirect" && a.ResponseCode != http.StatusFound {
						t.Errorf("redirect %s attempt %d: code %d", id, a.Attempt, a.ResponseCode)
					}
				}
			}
			if s.subscriberStatus(sub[name]) != models.StatusBlocked {
				t.Errorf("%s: subscriber %s, want blocked", name, s.subscriberStatus(sub[name]))
			}
		}
		for id, d := range final("stall", models.DeliverySucceeded) {
			if a := attempts(d); len(a) != 1 || a[0].ResponseCode != 200 {
				t.Errorf("stall %s: attempts %+v, want one that succeeded once released", id, a)
			}
		}
		for id, d := range final("slow", models.DeliverySucceeded) {
			if a := attempts(d); len(a) != 1 || a[0].ResponseTimeMS < 1500 {
				t.Errorf("slow %s: attempts %+v, want one of at least 1.5 s", id, a)
			}
		}
		for id, d := range final("huge", models.DeliverySucceeded) {
			if a := attempts(d); len(a) != 1 || len(a[0].ResponseBody) > models.MaxResponseBody || len(a[0].ResponseBody) == 0 {
				t.Errorf("huge %s: attempts %d, stored body %d bytes, want one attempt with at most %d bytes", id, len(a), len(a[0].ResponseBody), models.MaxResponseBody)
			}
		}
		// Redirects are not followed: one request per attempt.
		var redirectAttempts int
		for _, d := range s.deliveries(sub["redirect"]) {
			redirectAttempts += len(attempts(d))
		}
		mu.Lock()
		defer mu.Unlock()
		if hits["/redirect"] != redirectAttempts {
			t.Errorf("the redirecting receiver got %d requests for %d attempts", hits["/redirect"], redirectAttempts)
		}
	})
}
