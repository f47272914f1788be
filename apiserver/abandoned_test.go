package apiserver_test

import (
	"net/http"
	"testing"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// A delivery under way whose workflow was closed from outside Hookflow is recorded as
// failed, with the reason, when the API reads or redelivers it; one that runs is not.
func TestDeliveryWorkflowClosedOutside(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServer(t, db)
		base := partnerBase("org-a", "ext-a")
		sub := MustCreateSubscriber(t, ts, "org-a", "ext-a", "receiver")
		status := func(id int64) (string, string) {
			d, err := ts.Store.DeliveryByID(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			return d.Status, d.LastError
		}

		running := MustCreateDelivery(t, ts.Store, sub, "evt-run", models.DeliveryRetrying)
		ts.Engine.SetRunning(running.WorkflowID, apiserver.LiveState{WorkflowStatus: "RUNNING", RunID: "run-r"})
		mustStatus(t, doJSON(t, ts, http.MethodGet, base+"/delivery/"+itoa(running.ID), adminToken, nil), http.StatusOK)
		mustStatus(t, doJSON(t, ts, http.MethodPost, base+"/delivery/"+itoa(running.ID)+"/retry", adminToken, nil), http.StatusConflict)
		if st, _ := status(running.ID); st != models.DeliveryRetrying {
			t.Fatalf("running delivery: %s, want retrying", st)
		}

		cancelled := MustCreateDelivery(t, ts.Store, sub, "evt-cancel", models.DeliveryRetrying)
		ts.Engine.SetRunning(cancelled.WorkflowID, apiserver.LiveState{WorkflowStatus: "CANCELED", RunID: "run-c"})
		rec := doJSON(t, ts, http.MethodGet, base+"/delivery/"+itoa(cancelled.ID), adminToken, nil)
		mustStatus(t, rec, http.StatusOK)
		got := mustDecode[struct {
			Status string
			Live   *struct{} `json:"live"`
		}](t, rec.Body.Bytes())
		if got.Status != models.DeliveryFailed || got.Live != nil {
			t.Fatalf("GET cancelled delivery: %s; want failed, no live state", rec.Body.String())
		}
		if st, reason := status(cancelled.ID); st != models.DeliveryFailed || reason != "workflow cancelled outside Hookflow" {
			t.Fatalf("cancelled delivery stored %s %q", st, reason)
		}

		terminated := MustCreateDelivery(t, ts.Store, sub, "evt-term", models.DeliveryRetrying)
		ts.Engine.SetRunning(terminated.WorkflowID, apiserver.LiveState{WorkflowStatus: "TERMINATED", RunID: "run-t"})
		rec = doJSON(t, ts, http.MethodPost, base+"/delivery/"+itoa(terminated.ID)+"/retry", adminToken, nil)
		mustStatus(t, rec, http.StatusAccepted)
		if st, reason := status(terminated.ID); st != models.DeliveryPending || reason != "workflow terminated outside Hookflow" {
			t.Fatalf("terminated delivery after redelivery: %s %q; want pending (its redelivery) after the recorded reason", st, reason)
		}
	})
}
