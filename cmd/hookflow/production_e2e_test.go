package main_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/producer"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// The production shape: PostgreSQL, a Temporal server on it (`hookflow temporal`),
// `hookflow migrate`, two `hookflow worker` processes and one `hookflow api`, each its own
// process, as an operator runs them from README.md's "Deploying without Docker".

// Connection budgets of the production-shape processes, small enough to leave the shared
// test server's connections to the tests running beside.
const (
	prodTemporalMaxConns    = 4
	prodTemporalVisMaxConns = 1
	prodHookflowMaxOpen     = 4
)

// prodStack is a running production shape.
type prodStack struct {
	t            *testing.T
	temporalAddr string
	temporalDB   string // Temporal's executions database URL
	appURL       string // the application database (with an application_name of its own)
	appName      string
	apiURL       string
	env          []string // the settings every Hookflow process gets
	temporal     *process
	api          *process
}

// newProdDatabases returns a fresh Temporal database URL (the visibility database is its
// name + "_visibility"; `hookflow temporal` creates both) and a fresh application schema
// whose connections carry an application_name unique to the test. Both are dropped when
// the test ends.
func newProdDatabases(t *testing.T) (temporalDB, appURL, appName string) {
	t.Helper()
	base := os.Getenv(storetest.EnvDatabaseURL)
	if base == "" {
		t.Skip("the production shape needs PostgreSQL (" + storetest.EnvDatabaseURL + ")")
	}
	var b [5]byte
	_, _ = rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	name := "hf_temporal_" + suffix
	t.Cleanup(func() { // runs after the processes were killed (cleanups run last first)
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		for _, db := range []string{name, name + "_visibility"} {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	temporalDB = u.String()
	appName = "hf_prod_" + suffix
	app, err := url.Parse(storetest.NewPostgresSchema(t, base))
	if err != nil {
		t.Fatal(err)
	}
	q := app.Query()
	q.Set("application_name", appName)
	app.RawQuery = q.Encode()
	return temporalDB, app.String(), appName
}

// startProdStack starts the production shape in mode, without workers. Its API runs a
// worker of its own (the default) in inline-first mode and none in child mode, so that
// both ways of running `hookflow api` are covered.
func startProdStack(t *testing.T, mode string) *prodStack {
	t.Helper()
	temporalDB, appURL, appName := newProdDatabases(t)
	s := &prodStack{t: t, temporalAddr: freeAddr(t), temporalDB: temporalDB, appURL: appURL, appName: appName}
	s.env = append([]string{"HOOKFLOW_LOG_LEVEL=warn", "HOOKFLOW_TEMPORAL_ADDRESS=" + s.temporalAddr, "HOOKFLOW_DATABASE_URL=" + appURL,
		"HOOKFLOW_DELIVERY_MODE=" + mode, "HOOKFLOW_DB_MAX_OPEN_CONNS=" + itoa64(prodHookflowMaxOpen), "HOOKFLOW_DB_MAX_IDLE_CONNS=2",
		"HOOKFLOW_REQUIRE_HTTPS=false", "HOOKFLOW_ALLOW_LOOPBACK=true", "HOOKFLOW_ALLOW_PRIVATE_NETWORKS=true"}, retryEnv...)
	s.startTemporal()
	s.migrate()
	apiAddr := freeAddr(t)
	apiEnv := append([]string{"HOOKFLOW_ADMIN_TOKEN=" + testAdminToken}, s.env...)
	if mode == "child" {
		apiEnv = append(apiEnv, "HOOKFLOW_API_WORKER=false")
	}
	s.api = startProcess(t, apiEnv, "api", "--http-addr", apiAddr)
	s.apiURL = "http://" + apiAddr
	s.api.waitReady(t, "hookflow api", s.apiURL+"/readyz")
	return s
}

// startTemporal starts `hookflow temporal` on the stack's database and address and waits
// until it serves.
func (s *prodStack) startTemporal() {
	s.t.Helper()
	p := startProcess(s.t, []string{"HOOKFLOW_LOG_LEVEL=warn", "HOOKFLOW_TEMPORAL_DATABASE_URL=" + s.temporalDB,
		"HOOKFLOW_TEMPORAL_DB_MAX_CONNS=" + itoa64(prodTemporalMaxConns), "HOOKFLOW_TEMPORAL_DB_MAX_IDLE_CONNS=2",
		"HOOKFLOW_TEMPORAL_VISIBILITY_DB_MAX_CONNS=" + itoa64(prodTemporalVisMaxConns)},
		"temporal", "--temporal-address", s.temporalAddr, "--no-ui")
	waitFor(s.t, 2*time.Minute, "hookflow temporal to serve", func() bool {
		select {
		case <-p.done:
			s.t.Fatalf("hookflow temporal exited during start:\n%s", p.log())
		default:
		}
		return strings.Contains(p.log(), "temporal is serving at "+s.temporalAddr)
	})
	s.temporal = p
}

// migrate runs `hookflow migrate` to its end.
func (s *prodStack) migrate() string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "migrate")
	cmd.Env = append(append(os.Environ(), envChild+"=1"), s.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("hookflow migrate: %v\n%s", err, out)
	}
	return string(out)
}

func (s *prodStack) startWorker() *process {
	s.t.Helper()
	return startWorkerProcess(s.t, s.temporalAddr, s.appURL, s.env...)
}

// connections returns the connections open now to Temporal's two databases and by
// the stack's Hookflow processes.
func (s *prodStack) connections(ctx context.Context, c *pgx.Conn) (temporal, hookflow int, err error) {
	name := strings.TrimPrefix(mustParseURL(s.t, s.temporalDB).Path, "/")
	err = c.QueryRow(ctx, `SELECT count(*) FILTER (WHERE datname IN ($1, $2)), count(*) FILTER (WHERE application_name = $3)
		FROM pg_stat_activity`, name, name+"_visibility", s.appName).Scan(&temporal, &hookflow)
	return temporal, hookflow, err
}

func mustParseURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// peakConnections samples the stack's connections every 100 ms until stop is closed
// and then returns the largest counts seen.
func (s *prodStack) peakConnections(stop <-chan struct{}) <-chan [2]int {
	out := make(chan [2]int, 1)
	go func() {
		var peak [2]int
		defer func() { out <- peak }()
		ctx := context.Background()
		c, err := pgx.Connect(ctx, os.Getenv(storetest.EnvDatabaseURL))
		if err != nil {
			return
		}
		defer c.Close(ctx)
		for {
			if tc, hc, err := s.connections(ctx, c); err == nil {
				peak[0], peak[1] = max(peak[0], tc), max(peak[1], hc)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return out
}

// emitEvents sends events product-created events to company 1 with the Go producer,
// straight to Temporal at addr, retrying each until it is accepted, as a producing
// service does while Temporal restarts.
func emitEvents(addr string, events int, prefix string) <-chan error {
	done := make(chan error, 1)
	go func() {
		c, err := client.Dial(client.Options{HostPort: addr, Logger: quietSDKLogger()})
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		deadline := time.Now().Add(4 * time.Minute)
		for i := 0; i < events; i++ {
			ev := producer.Event{CompanyID: 1, ID: fmt.Sprintf("%s-%d", prefix, i), Slug: "company/product/create/v1",
				Payload: fmt.Appendf(nil, `{"uid":%d,"name":"product %d"}`, i, i)}
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := producer.Emit(ctx, c, ev)
				cancel()
				if err == nil {
					break
				}
				if models.ErrorCode(err) != models.EUNAVAILABLE && ctx.Err() == nil {
					done <- fmt.Errorf("emit event %d: %w", i, err)
					return
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

// TestProductionShape runs Hookflow as it is deployed: `hookflow temporal` on
// PostgreSQL, `hookflow migrate`, two workers and an API, each its own process. Events
// go in through the API and through the Go producer; under load one worker is killed
// (SIGKILL), and later the Temporal server is killed and started again. Every accepted
// event must reach every subscriber under one webhook-id, the only repeated POSTs being
// those in flight at a kill or during Temporal's outage, and no process may hold more
// connections than its pool allows.
func TestProductionShape(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startProdStack(t, mode)
		out := s.migrate() // again: changes nothing
		if strings.Contains(out, "created") {
			t.Errorf("a second migrate created something:\n%s", out)
		}
		// The first made the purge schedule; the second found it as it was.
		if !strings.Contains(out, "temporal schedule hookflow-purge unchanged") {
			t.Errorf("the second migrate did not find the purge schedule:\n%s", out)
		}
		stopSampling := make(chan struct{})
		peak := s.peakConnections(stopSampling)
		w1 := s.startWorker()
		s.startWorker()

		events, subs := 120, 3
		if testing.Short() {
			events = 40
		}
		produced := events / 3
		total := (events + produced) * subs
		rc := newCountingReceiver(t, "prod")
		mustInstallExt(t, s.apiURL, 1)
		ids := make([]int64, subs)
		for i := range ids {
			var out map[string]any
			body := subscriberBody(fmt.Sprintf("%s/s/%d", rc.URL, i), "prod-secret", "company/product/create/v1")
			if code := callAPI(t, s.apiURL, testAdminToken, "POST", partnerBase+"/company/1/subscriber", body, &out); code != 201 {
				t.Fatalf("create subscriber: %d %v", code, out)
			}
			ids[i] = int64(out["id"].(float64))
		}
		started := time.Now()
		sent := sendEvents(s.apiURL, events, rc.Events+"-api")
		emitted := emitEvents(s.temporalAddr, produced, rc.Events+"-go")

		waitFor(t, 3*time.Minute, "a quarter of the deliveries", func() bool { return rc.unique() >= total/4 })
		w1.kill()
		workerKilled := time.Now()
		t.Logf("%s: killed a worker after %d of %d deliveries", mode, rc.unique(), total)

		waitFor(t, 3*time.Minute, "half of the deliveries", func() bool { return rc.unique() >= total/2 })
		s.temporal.kill()
		temporalKilled := time.Now()
		t.Logf("%s: killed hookflow temporal after %d of %d deliveries", mode, rc.unique(), total)
		s.startTemporal()
		temporalBack := time.Now()
		t.Logf("%s: hookflow temporal serves again after %v", mode, temporalBack.Sub(temporalKilled).Round(time.Millisecond))

		var wg sync.WaitGroup
		var sendErr, emitErr error
		wg.Go(func() { sendErr = <-sent })
		wg.Go(func() { emitErr = <-emitted })
		wg.Wait()
		if sendErr != nil || emitErr != nil {
			t.Fatalf("sending events: API %v, producer %v", sendErr, emitErr)
		}
		waitFor(t, 5*time.Minute, "every delivery", func() bool { return rc.unique() >= total })
		elapsed := time.Since(started)
		close(stopSampling)
		st, err := store.Open(context.Background(), s.appURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		checkStoreSucceeded(t, st, ids, events+produced)
		s.checkFirstTask(rc.Events+"-api-0", mode != "child")
		// A POST in flight at the worker's kill, or made while Temporal was away (its
		// completion could not be reported), may be repeated under its webhook-id.
		dups := rc.checkDuplicates(t, total, []time.Time{workerKilled, temporalBack})
		p := <-peak
		t.Logf("%s: %d deliveries in %v, %d duplicate POSTs; peak connections: Temporal %d, Hookflow %d",
			mode, total, elapsed.Round(time.Millisecond), dups, p[0], p[1])
		// Temporal: each of its four services opens a pool per store. Hookflow: two
		// workers and the API at most at once.
		if limit := 4 * (prodTemporalMaxConns + prodTemporalVisMaxConns); p[0] > limit+1 { // +1: the server's lock
			t.Errorf("Temporal held %d connections, more than its pools allow (%d + its lock)", p[0], limit)
		}
		if limit := 3 * prodHookflowMaxOpen; p[1] > limit {
			t.Errorf("Hookflow's processes held %d connections, more than their pools allow (%d)", p[1], limit)
		}
	})
}

// checkFirstTask checks who ran the first workflow task of the event workflow of eventID
// (sent through the API): the API's own worker when it has one (eager start: the task
// never went through matching), else one of the workers.
func (s *prodStack) checkFirstTask(eventID string, byAPI bool) {
	s.t.Helper()
	c, err := client.Dial(client.Options{HostPort: s.temporalAddr, Logger: quietSDKLogger()})
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, workflows.EventWorkflowID(1, eventID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.t.Fatal(err)
		}
		if a := ev.GetWorkflowTaskStartedEventAttributes(); a != nil {
			api := strconv.Itoa(s.api.cmd.Process.Pid) + "@"
			if got := strings.HasPrefix(a.GetIdentity(), api); got != byAPI {
				s.t.Errorf("event %s: the first workflow task ran on %q; by the API (pid %s): %v, want %v", eventID, a.GetIdentity(), api, got, byAPI)
			}
			return
		}
	}
	s.t.Errorf("event %s: no workflow task in its history", eventID)
}

// quietSDKLogger keeps the Temporal SDK's reconnection warnings out of the test log.
func quietSDKLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
}
