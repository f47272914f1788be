package activities_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// wakingTemporal stands in for the Temporal client and the delivery workflows behind it
// (an embedded Temporal server is far heavier than what this test checks): a release
// signal to a delivery's workflow makes that delivery's attempt at once, as its workflow
// would, by recording it succeeded in the real store.
type wakingTemporal struct {
	recordingTemporal
	s          *store.Store
	deliveries map[string]int64 // workflow id → delivery id
	mu         sync.Mutex
	woken      []string
}

func (w *wakingTemporal) SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error {
	if signalName != workflows.SignalRelease {
		return w.recordingTemporal.SignalWorkflow(ctx, workflowID, runID, signalName, arg)
	}
	w.mu.Lock()
	w.woken = append(w.woken, workflowID)
	w.mu.Unlock()
	return w.s.FinishDelivery(ctx, w.deliveries[workflowID], models.DeliverySucceeded, "", store.Run{})
}

func TestReleaseQueued(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org-release-"+db.Name, slug, "")
		tenant := models.Tenant{OrganizationID: sub.OrganizationID, ExtensionID: sub.ExtensionID}
		if _, err := s.SetSubscriberStatus(ctx, tenant, sub.ID, models.StatusInactive); err != nil {
			t.Fatal(err)
		}
		w := &wakingTemporal{s: s, deliveries: map[string]int64{}}
		events := []string{"rq-1", "rq-2", "rq-3"}
		for _, e := range events {
			id := mustDelivery(t, s, sub, slug, e)
			w.deliveries["wf:"+e] = id
			if hold, err := s.HoldIfInactive(ctx, id, sub.ID, store.Run{}); err != nil || hold != store.HoldQueued {
				t.Fatalf("hold %s = %v, %v; want it queued", e, hold, err)
			}
		}
		acts := mustActivities(t, s, nil, w)
		env := newActivityEnv(acts)

		// Still inactive: nothing is woken.
		if res := mustRelease(t, env, acts, sub.ID); res.Released != 0 || len(w.woken) != 0 {
			t.Fatalf("released %d (woke %v) of an inactive subscriber's queue, want none", res.Released, w.woken)
		}

		// Active again: every queued delivery is woken, oldest first, each after the one
		// before has made its attempt.
		if _, err := s.SetSubscriberStatus(ctx, tenant, sub.ID, models.StatusActive); err != nil {
			t.Fatal(err)
		}
		res := mustRelease(t, env, acts, sub.ID)
		if want := []string{"wf:rq-1", "wf:rq-2", "wf:rq-3"}; res.Released != 3 || !slices.Equal(w.woken, want) {
			t.Fatalf("released %d, woke %v; want 3, in order %v", res.Released, w.woken, want)
		}
		for _, e := range events {
			if d, err := s.DeliveryByID(ctx, w.deliveries["wf:"+e]); err != nil || d.Status != models.DeliverySucceeded {
				t.Fatalf("delivery of %s = %+v, %v; want it delivered", e, d, err)
			}
		}
		// A second pass finds nothing more to wake.
		if res := mustRelease(t, env, acts, sub.ID); res.Released != 0 || len(w.woken) != 3 {
			t.Fatalf("second pass released %d (woke %v), want nothing more", res.Released, w.woken)
		}
	})
}

func mustRelease(t *testing.T, env *testsuite.TestActivityEnvironment, acts *activities.Activities, subscriberID int64) workflows.ReleaseResult {
	t.Helper()
	v, err := env.ExecuteActivity(acts.ReleaseQueued, workflows.ReleaseInput{SubscriberID: subscriberID})
	if err != nil {
		t.Fatalf("ReleaseQueued: %v", err)
	}
	var res workflows.ReleaseResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	return res
}
