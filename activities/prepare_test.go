package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// prepare runs PrepareDeliveries for ev in an activity environment, as the event
// workflow of ev runs it.
func prepare(t *testing.T, acts *activities.Activities, ev workflows.Event) (workflows.PrepareResult, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	val, err := env.ExecuteActivity(acts.PrepareDeliveries, workflows.PrepareInput{Event: ev, Limit: workflows.FanOutPage})
	var res workflows.PrepareResult
	if err == nil {
		err = val.Get(&res)
	}
	return res, err
}

// TestPrepareDeliveriesCatalogue checks the one rule of an event that needs the
// database: its slug is in the catalogue. An event with an unknown slug, which only a
// producer that starts the workflow itself can send, fails for good with the field in
// the details, and nothing is stored for it; a known slug is stored as before.
func TestPrepareDeliveriesCatalogue(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		st := storetest.MustOpen(t, db.URL)
		acts := mustActivities(t, st, nil, nil)
		ctx := context.Background()
		ev := workflows.Event{CompanyID: 1, ID: "e1", Slug: "company/product/launch/v1", AcceptedAt: time.Unix(1700000000, 0).UTC(),
			Payload: []byte(`{"uid":1}`)}

		t.Run("ErrNotInCatalogue", func(t *testing.T) {
			_, err := prepare(t, acts, ev)
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != workflows.ErrPermanent || !appErr.NonRetryable() {
				t.Fatalf("error = %v, want a non-retryable %s", err, workflows.ErrPermanent)
			}
			var fields []models.FieldError
			if err := appErr.Details(&fields); err != nil || len(fields) != 1 || fields[0].Field != "event.slug" {
				t.Fatalf("details = %+v (%v), want the field event.slug", fields, err)
			}
			if exists, err := st.EventExists(ctx, 1, "e1"); err != nil || exists {
				t.Fatalf("event stored = %v (%v), want nothing stored", exists, err)
			}
		})

		t.Run("OK", func(t *testing.T) {
			ev := ev
			ev.ID, ev.Slug = "e2", "company/product/create/v1"
			res, err := prepare(t, acts, ev)
			if err != nil {
				t.Fatalf("prepare: %v", err)
			}
			if res.EventRowID == 0 {
				t.Fatal("no event row id")
			}
			if exists, err := st.EventExists(ctx, 1, "e2"); err != nil || !exists {
				t.Fatalf("event stored = %v (%v), want it stored", exists, err)
			}
		})
	})
}
