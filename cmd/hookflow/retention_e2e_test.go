package main_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

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
