package activities_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/transform"
	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/workflows"
)

// testRun is the purge run key of an activity run by the SDK's test environment: its
// workflow id and run id are fixed.
const testRun = "default-test-workflow-id/default-test-run-id"

// TestPurgeResumesFromRecordedProgress: a retried Purge activity (its worker died) goes
// on from the progress its last batch committed, not from its heartbeat (which can lag
// behind, or be lost with the worker) and not from the start, and its result counts the
// whole run exactly once, the dead try's rows included. A retry of a run that had ended
// reports the same counts and removes nothing more.
func TestPurgeResumesFromRecordedProgress(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, storetest.Databases(t)[0].URL)
	const slug = "company/product/create/v1"
	sub := mustSubscriber(t, s, "org1", slug, "")
	var ids []int64
	for i := range 6 {
		id := mustDelivery(t, s, sub, slug, "ev-"+strconv.Itoa(i))
		if err := s.FinishDelivery(ctx, id, models.DeliveryFiltered, "did not match", store.Run{}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	retention := store.Retention{Records: time.Minute, Payloads: time.Minute, Reports: time.Minute}
	acts, err := activities.New(activities.Deps{
		Store: s, Sender: webhook.NewClient(webhook.ClientOptions{}), Transform: transform.NewEngine(transform.Limits{}),
		Retry:     workflows.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 3},
		Retention: retention,
		// Two rows per transaction: the run takes several batches.
		PurgeBatch: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := workflows.PurgeInput{Now: time.Now().Add(time.Hour)} // everything is past retention

	// The dead try committed two batches (4 deliveries) before it died; its last
	// heartbeat to reach Temporal was sent after the first.
	p := store.PurgeProgress{Removed: map[string]int64{}}
	for range 2 {
		if p, _, err = s.PurgeRunBatch(ctx, testRun, retention.CutoffsAt(in.Now), p, 2); err != nil {
			t.Fatal(err)
		}
	}
	if p.Removed["deliveries"] != 4 {
		t.Fatalf("the dead try's two batches removed %v, want 4 deliveries", p.Removed)
	}
	env := newActivityEnv(acts)
	env.SetHeartbeatDetails(store.PurgeProgress{Cursor: store.PurgeCursor{After: ids[1]}, Removed: map[string]int64{"deliveries": 2}, Batches: 1})
	val, err := env.ExecuteActivity(workflows.ActivityPurge, in)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.PurgeResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Removed["deliveries"] != 6 {
		t.Errorf("resumed run reports %d deliveries removed, want the 4 before and the 2 left (%v)", res.Removed["deliveries"], res.Removed)
	}
	if res.Batches < 3 {
		t.Errorf("resumed run reports %d batches, want the dead try's 2 and its own", res.Batches)
	}
	for _, id := range ids {
		if _, err := s.DeliveryByID(ctx, id); err == nil {
			t.Errorf("delivery %d is left after the run", id)
		}
	}

	// A retry after the run had ended (its completion was not reported) reports the
	// same and takes nothing of what came since.
	late := mustDelivery(t, s, sub, slug, "ev-late")
	if err := s.FinishDelivery(ctx, late, models.DeliveryFiltered, "did not match", store.Run{}); err != nil {
		t.Fatal(err)
	}
	val, err = newActivityEnv(acts).ExecuteActivity(workflows.ActivityPurge, in)
	if err != nil {
		t.Fatal(err)
	}
	again := workflows.PurgeResult{}
	if err := val.Get(&again); err != nil {
		t.Fatal(err)
	}
	if again.Removed["deliveries"] != 6 || again.Batches != res.Batches {
		t.Errorf("retry of an ended run reports %v in %d batches, want %v in %d", again.Removed, again.Batches, res.Removed, res.Batches)
	}
	if _, err := s.DeliveryByID(ctx, late); err != nil {
		t.Errorf("the retry of an ended run removed a later delivery: %v", err)
	}
}
