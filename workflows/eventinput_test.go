package workflows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/workflows"
)

// executeEvent runs EventWorkflow with in under its proper workflow id,
// EventWorkflowID of the event's company and id, as every producer must start it.
func executeEvent(env *testsuite.TestWorkflowEnvironment, in workflows.EventInput) {
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.EventWorkflowID(in.Event.CompanyID, in.Event.ID)})
	env.ExecuteWorkflow(workflows.EventWorkflowName, in)
}

// validEvent is an event as the REST API hands it to the workflow.
func validEvent() workflows.Event {
	return workflows.Event{CompanyID: 1, ID: "e1", Slug: "company/product/create/v1", ApplicationID: "app-1",
		TraceID: "c1556dc07f75469f343dc64dd6e3fd02", AcceptedAt: time.Unix(1700000000, 0).UTC(), Payload: []byte(`{"uid":1}`)}
}

// countPrepare stands in for PrepareDeliveries, counting its calls; it answers an event
// without subscribers.
func countPrepare(env *testsuite.TestWorkflowEnvironment) *int {
	calls := new(int)
	env.OnActivity(workflows.ActivityPrepareDeliveries, mock.Anything, mock.Anything).Return(
		func(context.Context, workflows.PrepareInput) (workflows.PrepareResult, error) {
			*calls++
			return workflows.PrepareResult{EventRowID: 5, Retry: testRetry}, nil
		}).Maybe()
	return calls
}

// mustInvalidEvent checks that the workflow failed at once with a non-retryable
// ErrInvalidEvent error naming field, and returns its message.
func mustInvalidEvent(t *testing.T, env *testsuite.TestWorkflowEnvironment, field string) string {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("workflow error = %v, want an application error", err)
	}
	if got, want := appErr.Type(), workflows.ErrInvalidEvent; got != want {
		t.Fatalf("error type = %q, want %q (%v)", got, want, err)
	}
	if !appErr.NonRetryable() {
		t.Fatalf("error %v is retryable, want non-retryable", err)
	}
	if !strings.Contains(appErr.Message(), field+": ") {
		t.Fatalf("error message %q does not name %s", appErr.Message(), field)
	}
	var fields []models.FieldError
	if err := appErr.Details(&fields); err != nil {
		t.Fatalf("error details: %v", err)
	}
	named := false
	for _, f := range fields {
		named = named || f.Field == field
	}
	if !named {
		t.Fatalf("error details %+v do not name %s", fields, field)
	}
	return appErr.Message()
}

// TestEventWorkflowRefusesInvalidInput starts EventWorkflow as a producer that bypasses
// the REST API might, with one malformed field each: the workflow fails at once with a
// non-retryable error naming the field, and runs no activity (nothing is stored).
func TestEventWorkflowRefusesInvalidInput(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*workflows.EventInput)
		field string
		// workflowID, when set, is the id the workflow is started with instead of
		// EventWorkflowID of the edited event.
		workflowID string
	}{
		{"CompanyIDZero", func(in *workflows.EventInput) { in.Event.CompanyID = 0 }, "event.company_id", "event:0:e1"},
		{"CompanyIDNegative", func(in *workflows.EventInput) { in.Event.CompanyID = -3 }, "event.company_id", "event:-3:e1"},
		{"IDMissing", func(in *workflows.EventInput) { in.Event.ID = "" }, "event.id", "event:1:"},
		{"IDWithSpace", func(in *workflows.EventInput) { in.Event.ID = "e 1" }, "event.id", ""},
		{"IDTooLong", func(in *workflows.EventInput) { in.Event.ID = strings.Repeat("e", 129) }, "event.id", ""},
		{"SlugMissing", func(in *workflows.EventInput) { in.Event.Slug = "" }, "event.slug", ""},
		{"SlugMalformed", func(in *workflows.EventInput) { in.Event.Slug = "company/product/create" }, "event.slug", ""},
		{"SlugUppercase", func(in *workflows.EventInput) { in.Event.Slug = "Company/product/create/v1" }, "event.slug", ""},
		{"SlugBadVersion", func(in *workflows.EventInput) { in.Event.Slug = "company/product/create/v01" }, "event.slug", ""},
		{"ApplicationIDTooLong", func(in *workflows.EventInput) { in.Event.ApplicationID = strings.Repeat("a", 129) }, "event.application_id", ""},
		{"ApplicationIDNUL", func(in *workflows.EventInput) { in.Event.ApplicationID = "web\x00" }, "event.application_id", ""},
		{"TraceIDTooLong", func(in *workflows.EventInput) { in.Event.TraceID = strings.Repeat("t", 65) }, "event.trace_id", ""},
		{"TraceIDNUL", func(in *workflows.EventInput) { in.Event.TraceID = "t\x00" }, "event.trace_id", ""},
		{"AcceptedAtMissing", func(in *workflows.EventInput) { in.Event.AcceptedAt = time.Time{} }, "event.accepted_at", ""},
		{"PayloadMissing", func(in *workflows.EventInput) { in.Event.Payload = nil }, "event.payload", ""},
		{"PayloadNull", func(in *workflows.EventInput) { in.Event.Payload = []byte(`null`) }, "event.payload", ""},
		{"PayloadArray", func(in *workflows.EventInput) { in.Event.Payload = []byte(`[1,2]`) }, "event.payload", ""},
		{"PayloadString", func(in *workflows.EventInput) { in.Event.Payload = []byte(`"{}"`) }, "event.payload", ""},
		{"PayloadDuplicateKey", func(in *workflows.EventInput) { in.Event.Payload = []byte(`{"amount":1,"amount":1000}`) }, "event.payload", ""},
		{"PayloadNumberOverflow", func(in *workflows.EventInput) { in.Event.Payload = []byte(`{"n":1e400}`) }, "event.payload", ""},
		{"PayloadOver1MiB", func(in *workflows.EventInput) {
			in.Event.Payload = []byte(`{"s":"` + strings.Repeat("a", models.MaxPayloadBytes) + `"}`)
		}, "event.payload", ""},
		// 1e20 is 21 digits in canonical form: small as sent, over the limit as stored.
		{"PayloadOver1MiBCanonical", func(in *workflows.EventInput) {
			in.Event.Payload = []byte(`{"a":[` + strings.Repeat("1e20,", models.MaxPayloadBytes/20) + `0]}`)
		}, "event.payload", ""},
		{"RowIDSet", func(in *workflows.EventInput) { in.Event.RowID = 99 }, "event.row_id", ""},
		{"CursorSet", func(in *workflows.EventInput) { in.Cursor = 42 }, "cursor", ""},
		{"StartedSet", func(in *workflows.EventInput) { in.Started = 3 }, "started", ""},
		{"WorkflowIDOfAnotherEvent", func(*workflows.EventInput) {}, "workflow_id", workflows.EventWorkflowID(1, "e2")},
		{"WorkflowIDOfAnotherCompany", func(*workflows.EventInput) {}, "workflow_id", workflows.EventWorkflowID(2, "e1")},
		{"WorkflowIDRandom", func(*workflows.EventInput) {}, "workflow_id", "my-producer-7f3a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			prepared := countPrepare(env)
			in := workflows.EventInput{Event: validEvent()}
			tc.edit(&in)
			id := tc.workflowID
			if id == "" {
				id = workflows.EventWorkflowID(in.Event.CompanyID, in.Event.ID)
			}
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
			env.ExecuteWorkflow(workflows.EventWorkflowName, in)
			mustInvalidEvent(t, env, tc.field)
			if *prepared != 0 {
				t.Fatalf("PrepareDeliveries ran %d times, want none", *prepared)
			}
		})
	}

	t.Run("EveryFieldAtOnce", func(t *testing.T) {
		env := newEnv(t)
		prepared := countPrepare(env)
		env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "event:0:"})
		env.ExecuteWorkflow(workflows.EventWorkflowName, workflows.EventInput{})
		msg := mustInvalidEvent(t, env, "event.company_id")
		for _, field := range []string{"event.id", "event.slug", "event.accepted_at", "event.payload"} {
			if !strings.Contains(msg, field+": ") {
				t.Errorf("message %q does not name %s", msg, field)
			}
		}
		if *prepared != 0 {
			t.Fatalf("PrepareDeliveries ran %d times, want none", *prepared)
		}
	})
}

// TestEventWorkflowAcceptsValidInput checks the edges of the rules from the valid side:
// what the REST API accepts, the workflow accepts.
func TestEventWorkflowAcceptsValidInput(t *testing.T) {
	cases := []struct {
		name string
		edit func(*workflows.EventInput)
	}{
		{"AsTheAPISendsIt", func(*workflows.EventInput) {}},
		{"NoApplicationNorTrace", func(in *workflows.EventInput) { in.Event.ApplicationID, in.Event.TraceID = "", "" }},
		{"LongestFields", func(in *workflows.EventInput) {
			in.Event.ID = strings.Repeat("e", models.MaxEventIDLength)
			in.Event.ApplicationID = strings.Repeat("a", models.MaxApplicationIDLength)
			in.Event.TraceID = strings.Repeat("t", models.MaxTraceIDLength)
		}},
		{"EmptyObject", func(in *workflows.EventInput) { in.Event.Payload = []byte(`{}`) }},
		// Not canonical (spaces, an escape, an exponent): PrepareDeliveries stores the
		// canonical form, so a producer need not send it.
		{"NotCanonical", func(in *workflows.EventInput) { in.Event.Payload = []byte(` { "a" : "\u003c", "n": 1E3 } `) }},
		// Escaped <, > and & as a JSON payload converter sends them: six bytes each as
		// sent, one each in canonical form, where the limit applies.
		{"EscapedUpTo1MiBCanonical", func(in *workflows.EventInput) {
			in.Event.Payload = []byte(`{"s":"` + strings.Repeat(`\u003c`, models.MaxPayloadBytes-8) + `"}`)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			prepared := countPrepare(env)
			in := workflows.EventInput{Event: validEvent()}
			tc.edit(&in)
			executeEvent(env, in)
			var res workflows.EventResult
			mustResult(t, env, &res)
			if *prepared != 1 {
				t.Fatalf("PrepareDeliveries ran %d times, want once", *prepared)
			}
		})
	}

	// A run continued as new carries the stored event without its payload, and the
	// cursor: Hookflow's own input, not checked again.
	t.Run("ContinuedRun", func(t *testing.T) {
		env := newEnv(t)
		prepared := countPrepare(env)
		env.SetContinuedExecutionRunID("previous-run")
		ev := validEvent()
		ev.Payload, ev.RowID = nil, 5
		executeEvent(env, workflows.EventInput{Event: ev, Cursor: 200, Started: 200})
		var res workflows.EventResult
		mustResult(t, env, &res)
		if *prepared != 1 || res.Deliveries != 200 {
			t.Fatalf("PrepareDeliveries ran %d times, %d deliveries; want once, 200", *prepared, res.Deliveries)
		}
	})
}

// TestEventWorkflowSlugNotInCatalogue checks the catalogue's refusal, which only
// PrepareDeliveries can make (it reads the database): a permanent failure naming the
// field becomes the workflow's own non-retryable ErrInvalidEvent failure, at the first
// attempt, and no delivery starts.
func TestEventWorkflowSlugNotInCatalogue(t *testing.T) {
	env := newEnv(t)
	calls := 0
	env.OnActivity(workflows.ActivityPrepareDeliveries, mock.Anything, mock.Anything).Return(
		func(context.Context, workflows.PrepareInput) (workflows.PrepareResult, error) {
			calls++
			msg := `"company/product/launch/v1" is not in the event catalogue`
			return workflows.PrepareResult{}, temporal.NewNonRetryableApplicationError("event.slug: "+msg, workflows.ErrPermanent, nil,
				[]models.FieldError{{Field: "event.slug", Message: msg}})
		})
	ev := validEvent()
	ev.Slug = "company/product/launch/v1"
	executeEvent(env, workflows.EventInput{Event: ev})
	msg := mustInvalidEvent(t, env, "event.slug")
	if !strings.Contains(msg, "company/product/launch/v1") {
		t.Errorf("message %q does not name the slug", msg)
	}
	if calls != 1 {
		t.Fatalf("PrepareDeliveries ran %d times, want once", calls)
	}
}

// BenchmarkValidateEventInput measures the check every event workflow's first run makes
// in workflow code (and again on each replay of its first task): a ~1 KiB payload, as
// the benchmarks send, and the largest one.
func BenchmarkValidateEventInput(b *testing.B) {
	const benchItem = `{"sku":"NK-PEG40-BLK","quantity":1,"price":9596.5},`
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"1KiB", []byte(`{"uid":7501,"item_code":"NK-PEG40-BLK","name":"Air Zoom Pegasus 40","slug":"air-zoom-pegasus-40","brand":{"uid":238,"name":"Nike","logo":"https://cdn.example.com/brands/nike.png"},"category":{"uid":31,"name":"Running Shoes","slug":"running-shoes"},"price":{"currency":"INR","marked":11995,"effective":9596,"discount_percent":20},"sizes":[{"size":"UK 8","quantity":12,"sellable":true},{"size":"UK 9","quantity":3,"sellable":true}],"images":["https://cdn.example.com/p/7501/1.jpg","https://cdn.example.com/p/7501/2.jpg"],"tags":["running","men"],"is_active":true,"created_on":"2024-05-01T09:30:00Z","modified_on":"2024-05-02T10:15:00Z","description":"` + strings.Repeat("a", 300) + `"}`)},
		{"1MiB", []byte(`{"items":[` + strings.Repeat(benchItem, (models.MaxPayloadBytes-100)/len(benchItem)) + `{}]}`)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ev := validEvent()
			ev.Payload = tc.payload
			in := workflows.EventInput{Event: ev}
			id := workflows.EventWorkflowID(ev.CompanyID, ev.ID)
			b.SetBytes(int64(len(tc.payload)))
			b.ReportAllocs()
			for b.Loop() {
				if err := workflows.ValidateEventInput(in, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
