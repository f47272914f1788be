package producer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/producer"
	"github.com/hookflow/hookflow/workflows"
)

var now = time.Date(2026, 11, 28, 20, 26, 12, 0, time.UTC)

func validEvent() producer.Event {
	return producer.Event{CompanyID: 7, ID: "ord-1", Slug: "company/product/create/v1", ApplicationID: "app-1", Payload: []byte(`{"uid":7501}`)}
}

// TestPrepareMakesValidInput checks that what Prepare accepts, the event workflow
// accepts: the REST API's events never fail the workflow's own check.
func TestPrepareMakesValidInput(t *testing.T) {
	cases := []struct {
		name string
		edit func(*producer.Event)
	}{
		{"OK", func(*producer.Event) {}},
		{"GeneratedID", func(ev *producer.Event) { ev.ID = "" }},
		{"NoApplication", func(ev *producer.Event) { ev.ApplicationID = "" }},
		{"LongestFields", func(ev *producer.Event) {
			ev.ID = strings.Repeat("i", models.MaxEventIDLength)
			ev.ApplicationID = strings.Repeat("a", models.MaxApplicationIDLength)
		}},
		{"NotCanonical", func(ev *producer.Event) { ev.Payload = []byte(` { "a" : "\u003c&", "n" : 1.50 } `) }},
		{"LargestPayload", func(ev *producer.Event) {
			ev.Payload = []byte(`{"s":"` + strings.Repeat("a", models.MaxPayloadBytes-8) + `"}`)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := validEvent()
			tc.edit(&ev)
			in, err := producer.Prepare(ev, now)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if err := workflows.ValidateEventInput(in, producer.WorkflowID(in)); err != nil {
				t.Fatalf("the workflow refuses what the API prepared: %v", err)
			}
		})
	}
}

// TestPrepareAndWorkflowRefuseAlike checks that the REST API (Prepare) and the event
// workflow (ValidateEventInput) refuse the same malformed events, each naming the field
// as its input does: event_slug in the API's body is event.slug in the workflow's input.
func TestPrepareAndWorkflowRefuseAlike(t *testing.T) {
	cases := []struct {
		name       string
		edit       func(*producer.Event)
		apiField   string
		inputField string
		code       string // the API's error code
	}{
		{"CompanyIDZero", func(ev *producer.Event) { ev.CompanyID = 0 }, "company_id", "event.company_id", models.EINVALID},
		{"IDWithSpace", func(ev *producer.Event) { ev.ID = "ord 1" }, "id", "event.id", models.EINVALID},
		{"IDTooLong", func(ev *producer.Event) { ev.ID = strings.Repeat("i", 129) }, "id", "event.id", models.EINVALID},
		{"SlugMissing", func(ev *producer.Event) { ev.Slug = "" }, "event_slug", "event.slug", models.EINVALID},
		{"SlugMalformed", func(ev *producer.Event) { ev.Slug = "company/product" }, "event_slug", "event.slug", models.EINVALID},
		{"ApplicationIDTooLong", func(ev *producer.Event) { ev.ApplicationID = strings.Repeat("a", 129) }, "application_id", "event.application_id", models.EINVALID},
		{"ApplicationIDNUL", func(ev *producer.Event) { ev.ApplicationID = "web\x00" }, "application_id", "event.application_id", models.EINVALID},
		{"PayloadMissing", func(ev *producer.Event) { ev.Payload = nil }, "payload", "event.payload", models.EINVALID},
		{"PayloadArray", func(ev *producer.Event) { ev.Payload = []byte(`[1]`) }, "payload", "event.payload", models.EINVALID},
		{"PayloadDuplicateKey", func(ev *producer.Event) { ev.Payload = []byte(`{"a":1,"a":2}`) }, "payload", "event.payload", models.EINVALID},
		{"PayloadOver1MiB", func(ev *producer.Event) {
			ev.Payload = []byte(`{"s":"` + strings.Repeat("a", models.MaxPayloadBytes) + `"}`)
		}, "payload", "event.payload", models.ETOOLARGE},
		// Under the limit as sent, over it in canonical form (1e20 is 21 digits there).
		{"PayloadOver1MiBCanonical", func(ev *producer.Event) {
			ev.Payload = []byte(`{"a":[` + strings.Repeat("1e20,", models.MaxPayloadBytes/20) + `0]}`)
		}, "payload", "event.payload", models.ETOOLARGE},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := validEvent()
			tc.edit(&ev)
			_, err := producer.Prepare(ev, now)
			if got := models.ErrorCode(err); got != tc.code {
				t.Fatalf("Prepare: code %q (%v), want %q", got, err, tc.code)
			}
			if !namesField(err, tc.apiField) {
				t.Fatalf("Prepare: %v does not name %s", err, tc.apiField)
			}

			// The same event as a producer would start the workflow with it directly.
			in := workflows.EventInput{Event: workflows.Event{
				CompanyID: ev.CompanyID, ID: ev.ID, Slug: ev.Slug, ApplicationID: ev.ApplicationID,
				AcceptedAt: now, Payload: ev.Payload,
			}}
			err = workflows.ValidateEventInput(in, workflows.EventWorkflowID(ev.CompanyID, ev.ID))
			if !namesField(err, tc.inputField) {
				t.Fatalf("ValidateEventInput: %v does not name %s", err, tc.inputField)
			}
		})
	}
}

func namesField(err error, field string) bool {
	me, ok := err.(*models.Error)
	if !ok {
		return false
	}
	for _, f := range me.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
