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

// heartbeat is the Purge activity's heartbeat as Temporal keeps it (JSON), written here
// as a try that died would have left it.
type heartbeat struct {
	Cursor  store.PurgeCursor `json:"cursor"`
	Removed map[string]int64  `json:"removed"`
	Batches int               `json:"batches"`
}

// TestPurgeResumesFromHeartbeat: a retried Purge activity (its worker died) goes on from
// the last heartbeat's position rather than starting over, and its result counts the
// whole run, the dead try's rows included; a new run then finds what lay before that
// position.
func TestPurgeResumesFromHeartbeat(t *testing.T) {
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
	acts, err := activities.New(activities.Deps{
		Store: s, Sender: webhook.NewClient(webhook.ClientOptions{}), Transform: transform.NewEngine(transform.Limits{}),
		Retry:     workflows.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 3},
		Retention: store.Retention{Records: time.Minute, Payloads: time.Minute, Reports: time.Minute},
		// Two rows per transaction: the run takes several batches, each heartbeated.
		PurgeBatch: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := workflows.PurgeInput{Now: time.Now().Add(time.Hour)} // everything is past retention

	// The dead try had removed 3 deliveries (its heartbeat says so) and stood after the
	// third: the retry leaves the first three alone and removes the other three.
	env := newActivityEnv(acts)
	env.SetHeartbeatDetails(heartbeat{Cursor: store.PurgeCursor{After: ids[2]}, Removed: map[string]int64{"deliveries": 3}, Batches: 2})
	val, err := env.ExecuteActivity(workflows.ActivityPurge, in)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.PurgeResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Removed["deliveries"] != 6 {
		t.Errorf("resumed run removed %d deliveries in all, want the 3 before and 3 now (%v)", res.Removed["deliveries"], res.Removed)
	}
	for i, id := range ids {
		_, err := s.DeliveryByID(ctx, id)
		if kept := err == nil; kept != (i < 3) {
			t.Errorf("delivery %d (the %d. one): kept %v, err %v; want the first three kept by the resumed run", id, i+1, kept, err)
		}
	}

	// A new run starts from the beginning.
	val, err = newActivityEnv(acts).ExecuteActivity(workflows.ActivityPurge, in)
	if err != nil {
		t.Fatal(err)
	}
	res = workflows.PurgeResult{}
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Removed["deliveries"] != 3 || res.Batches < 2 {
		t.Errorf("new run removed %d deliveries in %d batches, want the 3 left in several", res.Removed["deliveries"], res.Batches)
	}
}
