package main_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// TestRetentionPurge: dev creates the purge schedule, whose runs (PurgeWorkflow, through
// the worker) remove ended deliveries once retention has passed and report it in their
// results, while a delivery still retrying keeps its row, its attempts and its event's
// payload; a purged delivery's API answer is a 404 with a message.
func TestRetentionPurge(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := startStack(t, db, func(c *main.Config) {
			c.Retention = store.Retention{Records: 2 * time.Second, Payloads: time.Second, Reports: 2 * time.Second}
			c.PurgeInterval = time.Second
			// The failing subscriber's delivery waits an hour for its retry: it stays
			// under way for the whole test.
			c.Retry = workflows.RetryPolicy{InitialInterval: time.Hour, BackoffCoefficient: 2, MaximumInterval: time.Hour, MaximumAttempts: 5, Expiration: 48 * time.Hour}
		})
		ok := newReceiver(t, func(int, *http.Request) int { return http.StatusOK })
		down := newReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
		good := s.createSubscriber(ok.URL, nil)
		failing := s.createSubscriber(down.URL, nil)
		const events = 5
		for i := range events {
			s.send("keep-" + strconv.Itoa(i))
		}
		var delivered []int64
		waitFor(t, 30*time.Second, "every delivery to succeed or wait for its retry", func() bool {
			g, f := s.deliveries(good), s.deliveries(failing)
			delivered = delivered[:0]
			for _, d := range g {
				if d.Status == models.DeliverySucceeded {
					delivered = append(delivered, d.ID)
				}
			}
			retrying := 0
			for _, d := range f {
				if d.Status == models.DeliveryRetrying {
					retrying++
				}
			}
			return len(delivered) == events && retrying == events
		})

		waitFor(t, 30*time.Second, "the purge to remove the succeeded deliveries", func() bool { return len(s.deliveries(good)) == 0 })
		f := s.deliveries(failing)
		if len(f) != events {
			t.Fatalf("the failing subscriber has %d deliveries left, want its %d under way", len(f), events)
		}
		ctx := context.Background()
		for id, d := range f {
			if d.Status != models.DeliveryRetrying {
				t.Errorf("delivery of %s is %s, want retrying", id, d.Status)
			}
			attempts, err := s.Store().ListAttempts(ctx, d.ID)
			if err != nil || len(attempts) != 1 {
				t.Errorf("delivery of %s: attempts %v, %v; want its one attempt kept", id, attempts, err)
			}
			ev, err := s.Store().EventByRowID(ctx, d.EventRowID)
			if err != nil || ev.PayloadExpungedAt != nil || len(ev.Payload) == 0 {
				t.Errorf("event %s of a delivery under way: %v (payload %q, expunged %v), want it whole", id, err, ev.Payload, ev.PayloadExpungedAt)
			}
		}

		var gone errorEnvelope
		if code := s.call("POST", partnerBase+"/delivery/"+strconv.FormatInt(delivered[0], 10)+"/retry", nil, &gone); code != http.StatusNotFound || gone.Message == "" {
			t.Errorf("retry of a purged delivery: %d %+v, want 404 with a message", code, gone)
		}

		// The runs are Temporal workflows with their results: together they removed the
		// deliveries and their attempts.
		var removed map[string]int64
		waitFor(t, 20*time.Second, "purge runs whose results count the removed deliveries", func() bool {
			removed = purgeRunResults(t, s)
			return removed["deliveries"] >= events && removed["attempts"] >= events
		})
		if removed["events"] != 0 {
			t.Errorf("purge runs removed %d events, whose deliveries to the failing subscriber are under way", removed["events"])
		}
		// dev's embedded namespace keeps runs as long as the setting says (72h by default,
		// where the embedded server creates it with 24h).
		if got := namespaceRetention(t, s.Client(), s.Config.TemporalNamespace); got != 72*time.Hour {
			t.Errorf("the embedded namespace's retention is %v, want HOOKFLOW_TEMPORAL_NAMESPACE_RETENTION's 72h", got)
		}
	})
}

// purgeRunResults adds up the results of the closed runs of the purge schedule.
func purgeRunResults(t *testing.T, s *stack) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	total := map[string]int64{}
	resp, err := s.Client().ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "WorkflowType = '" + workflows.PurgeWorkflowName + "' AND ExecutionStatus = 'Completed'",
	})
	if err != nil {
		t.Fatalf("list purge runs: %v", err)
	}
	for _, e := range resp.Executions {
		var res workflows.PurgeResult
		if err := s.Client().GetWorkflow(ctx, e.Execution.WorkflowId, e.Execution.RunId).Get(ctx, &res); err != nil {
			t.Fatalf("purge run %s: %v", e.Execution.WorkflowId, err)
		}
		for k, n := range res.Removed {
			total[k] += n
		}
	}
	return total
}

// TestPurgeWorkerKilled: a purge run whose worker is killed (SIGKILL) mid-run goes on in
// another worker from the last heartbeat's position: the run completes in a retried
// attempt and every row past retention is gone. It seeds PostgreSQL directly, so it needs HOOKFLOW_TEST_DATABASE_URL.
func TestPurgeWorkerKilled(t *testing.T) {
	base := os.Getenv(storetest.EnvDatabaseURL)
	if base == "" {
		t.Skip("set HOOKFLOW_TEST_DATABASE_URL to a PostgreSQL server")
	}
	db := storetest.Database{Name: "postgres", URL: storetest.NewPostgresSchema(t, base)}
	s := startStackParts(t, db, main.Parts{EmbeddedTemporal: true, API: true}, nil)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const seeded = 20_000
	old := time.Now().Add(-time.Hour)
	for _, q := range []string{
		`INSERT INTO events (company_id, event_id, slug, payload, accepted_at, fanned_out_at)
		 SELECT 1, 'kill-' || g, 'company/product/create/v1', convert_to('{}', 'UTF8'), $1, $1 FROM generate_series(1, $2) g`,
		`INSERT INTO deliveries (event_row_id, subscriber_id, event_id, company_id, organization_id, extension_id, event_slug,
		   status, attempts, series, last_response_code, last_response_time_ms, workflow_id, event_accepted_at, created_at, updated_at, completed_at)
		 SELECT id, 1, event_id, 1, 'org-1', 'ext-1', slug, 'succeeded', 1, 0, 200, 10, 'wf-' || id, $1, $1, $1, $1 FROM events WHERE $2 > 0`,
	} {
		if _, err := conn.Exec(ctx, q, old, seeded); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	remaining := func() int64 {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM deliveries").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Batches of 10 rows: the run takes long enough to be killed in the middle.
	env := []string{"HOOKFLOW_RETENTION=1m", "HOOKFLOW_PAYLOAD_RETENTION=1m", "HOOKFLOW_PURGE_BATCH=10"}
	// Only this test's run purges: the schedule's runs would share the rows, and the
	// counts, with it.
	if err := s.Client().ScheduleClient().GetHandle(ctx, workflows.PurgeScheduleID).Pause(ctx, client.SchedulePauseOptions{Note: "TestPurgeWorkerKilled"}); err != nil {
		t.Fatal(err)
	}
	w := startWorkerProcess(t, s.Config.TemporalAddress, db.URL, env...)
	run, err := s.Client().ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "purge-killed", TaskQueue: workflows.TaskQueue}, workflows.PurgeWorkflowName)
	if err != nil {
		t.Fatal(err)
	}
	// Past a heartbeat or two (they reach the server every second), well before the end.
	waitFor(t, time.Minute, "the purge to be under way", func() bool { return remaining() < seeded*3/4 })
	w.kill()
	atKill := remaining()
	time.Sleep(time.Second)
	if now := remaining(); now != atKill {
		t.Fatalf("deliveries still go after the kill: %d, then %d", atKill, now)
	}
	startWorkerProcess(t, s.Config.TemporalAddress, db.URL, env...)
	var res workflows.PurgeResult
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := run.Get(rctx, &res); err != nil {
		t.Fatalf("the purge run: %v", err)
	}
	if n := remaining(); n != 0 {
		t.Errorf("%d deliveries are left after the run", n)
	}
	var events int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&events); err != nil || events != 0 {
		t.Errorf("%d events are left after the run (%v)", events, err)
	}
	// The kill made Temporal retry the activity, and the retry finished the run; its
	// result counts every row once, the dead try's included (each batch commits the
	// run's progress with its deletes).
	attempt := int32(0)
	it := s.Client().GetWorkflowHistory(ctx, "purge-killed", "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
			attempt = a.GetAttempt()
		}
	}
	if attempt < 2 {
		t.Errorf("the purge activity completed in attempt %d, want a retry after the kill", attempt)
	}
	if res.Removed["deliveries"] != seeded || res.Removed["events"] != seeded {
		t.Errorf("the run reports %v removed, want %d deliveries and %d events", res.Removed, seeded, seeded)
	}
	t.Logf("killed with %d of %d left; the run reports %v in %d batches", atKill, seeded, res.Removed, res.Batches)
}
