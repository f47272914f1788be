package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// producerNodeDir holds a producer written against the TypeScript SDK's client, with
// its dependencies pinned by a lockfile (testdata/producer-node).
const producerNodeDir = "testdata/producer-node"

// nodeRequired says whether a missing Node.js or npm fails the test rather than skips
// it: in CI (CI=true; .ci/run installs both), a skip would hide that the contract for
// other producers went untested.
func nodeRequired() bool { return os.Getenv("CI") == "true" }

// mustNodeProducer installs the Node producer's dependencies (npm ci, from the lockfile)
// in a directory of the test's and returns it.
func mustNodeProducer(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if nodeRequired() {
				t.Fatalf("%s is not on PATH, and CI=true requires it (.ci/run installs Node.js and npm)", tool)
			}
			t.Skipf("%s is not on PATH: skipping the Node producer test (set CI=true to make it required)", tool)
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", ".npmrc", "produce.mjs"} {
		data, err := os.ReadFile(filepath.Join(producerNodeDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	// --ignore-scripts: the client needs no install script (protobufjs' only checks
	// its version).
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in a copy of %s: %v\n%s", producerNodeDir, err, out)
	}
	return dir
}

// nodeStart is an event for produce.mjs to start, and what became of it.
type nodeStart struct {
	WorkflowID string         `json:"workflow_id,omitempty"`
	Event      map[string]any `json:"event"`
}

type nodeOutcome struct {
	WorkflowID string `json:"workflow_id"`
	Status     string `json:"status"`
	Failure    *struct {
		Message      string            `json:"message"`
		Type         string            `json:"type"`
		NonRetryable bool              `json:"non_retryable"`
		Details      []json.RawMessage `json:"details"`
	} `json:"failure"`
}

// runNodeProducer runs produce.mjs against s's Temporal frontend: it starts every event
// and waits for each workflow to end.
func runNodeProducer(t *testing.T, dir string, s *stack, starts []nodeStart) []nodeOutcome {
	t.Helper()
	spec, err := json.Marshal(map[string]any{"address": s.Config.TemporalAddress, "namespace": s.Config.TemporalNamespace, "events": starts})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "produce.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node produce.mjs: %v\n%s", err, stderr.Bytes())
	}
	var outcomes []nodeOutcome
	if err := json.Unmarshal(out, &outcomes); err != nil || len(outcomes) != len(starts) {
		t.Fatalf("node produce.mjs printed %s (%v), want %d outcomes", out, err, len(starts))
	}
	return outcomes
}

// TestNodeProducer starts EventWorkflow from Node.js with the TypeScript SDK's client,
// as a service that bypasses the REST API does (docs/PRODUCERS.md): a valid event is
// delivered signed, byte for byte as the same event sent through the API; malformed
// ones — a payload that is not an object (checked in workflow code), a slug outside the
// catalogue (checked by PrepareDeliveries), another workflow id than the contract's, a
// company id of the wrong JSON type (refused by the SDK's decoding) — end Failed at
// once, naming the field, with nothing stored. Sent again under the recommended id reuse
// policy, a corrected event is delivered and a delivered one is a duplicate.
func TestNodeProducer(t *testing.T) {
	dir := mustNodeProducer(t)
	forEachMode(t, func(t *testing.T, mode string) {
		storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
			s := startStack(t, db, withMode(mode))
			rc := newReceiver(t, nil)
			sub := s.createSubscriber(rc.URL, nil)

			// The same payload through the API, for comparison.
			const payloadJSON = `{"uid":7501,"name":"Air Zoom <Pegasus> & Co","price":9596.5,"big":1e21,"tags":["running"],"sizes":{"9":"UK 9","10":"UK 10"}}`
			var accepted map[string]any
			if code := s.call("POST", eventsPath, map[string]any{
				"id": "api-1", "event_slug": "company/product/create/v1", "application_id": "app-9", "payload": json.RawMessage(payloadJSON),
			}, &accepted); code != 202 {
				t.Fatalf("send through the API: %d %v", code, accepted)
			}
			// As JSON text, so that Node's JSON.parse keeps the members' order.
			nodePayload := json.RawMessage(payloadJSON)

			started := time.Now()
			outcomes := runNodeProducer(t, dir, s, []nodeStart{
				{Event: map[string]any{"company_id": 1, "id": "node-1", "slug": "company/product/create/v1", "application_id": "app-9",
					"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "payload": nodePayload}},
				{Event: map[string]any{"company_id": 1, "id": "node-bad-payload", "slug": "company/product/create/v1", "payload": []int{1, 2}}},
				{Event: map[string]any{"company_id": 1, "id": "node-bad-slug", "slug": "company/product/launch/v1", "payload": map[string]any{"uid": 1}}},
				{WorkflowID: "node-producer-7f3a", Event: map[string]any{"company_id": 1, "id": "node-bad-wfid", "slug": "company/product/create/v1", "payload": map[string]any{"uid": 1}}},
				{Event: map[string]any{"company_id": "1", "id": "node-bad-type", "slug": "company/product/create/v1", "payload": map[string]any{"uid": 1}}},
			})
			t.Logf("node started 5 events and saw them end in %v", time.Since(started).Round(time.Millisecond))

			if o := outcomes[0]; o.Status != "completed" {
				t.Fatalf("the valid event's workflow: %+v, want completed", o)
			}
			malformed := []struct {
				outcome  nodeOutcome
				eventID  string
				typ      string // the failure's type
				mentions string // in the failure's message
			}{
				{outcomes[1], "node-bad-payload", workflows.ErrInvalidEvent, "event.payload: "},
				{outcomes[2], "node-bad-slug", workflows.ErrInvalidEvent, `event.slug: "company/product/launch/v1" is not in the event catalogue`},
				{outcomes[3], "node-bad-wfid", workflows.ErrInvalidEvent, `workflow_id: must be "event:1:node-bad-wfid"`},
				{outcomes[4], "node-bad-type", "", "company_id"},
			}
			for _, m := range malformed {
				o := m.outcome
				if o.Status != "failed" || o.Failure == nil {
					t.Errorf("%s: %+v, want failed", m.eventID, o)
					continue
				}
				t.Logf("%s: %s failure: %s", m.eventID, o.Failure.Type, o.Failure.Message)
				if !strings.Contains(o.Failure.Message, m.mentions) {
					t.Errorf("%s: failure %q does not say %q", m.eventID, o.Failure.Message, m.mentions)
				}
				if m.typ != "" && (o.Failure.Type != m.typ || !o.Failure.NonRetryable || len(o.Failure.Details) == 0) {
					t.Errorf("%s: failure %+v, want a non-retryable %s with the fields in its details", m.eventID, o.Failure, m.typ)
				}
				mustFailedAtOnce(t, s, o.WorkflowID)
				if exists, err := s.Store().EventExists(t.Context(), 1, m.eventID); err != nil || exists {
					t.Errorf("%s: event stored = %v (%v), want nothing stored", m.eventID, exists, err)
				}
			}

			// A failed event's id may be sent again, corrected (docs/PRODUCERS.md: the id
			// reuse policy ALLOW_DUPLICATE_FAILED_ONLY); a delivered one is a duplicate.
			again := runNodeProducer(t, dir, s, []nodeStart{
				{Event: map[string]any{"company_id": 1, "id": "node-bad-payload", "slug": "company/product/create/v1", "payload": map[string]any{"uid": 2}}},
				{Event: map[string]any{"company_id": 1, "id": "node-1", "slug": "company/product/create/v1", "payload": map[string]any{"uid": 3}}},
			})
			if again[0].Status != "completed" || again[1].Status != "duplicate" {
				t.Fatalf("sent again: %+v, want the corrected event completed and the delivered one a duplicate", again)
			}

			waitFor(t, 30*time.Second, "three deliveries", func() bool { return len(rc.requests()) >= 3 })
			bodies := map[string][]byte{}
			for _, req := range rc.requests() {
				if !verifyFP("lifecycle-secret", req.Body, req.Header.Get("x-fp-signature")) || !verifyStandard("lifecycle-secret", req.Header, req.Body) {
					t.Errorf("delivery of %s: signatures do not verify", req.Header.Get("x-fp-event-id"))
				}
				bodies[req.Header.Get("x-fp-event-id")] = req.Body
			}
			api, node := normalizeEnvelope(t, bodies["api-1"]), normalizeEnvelope(t, bodies["node-1"])
			if api != node {
				t.Errorf("the Node producer's event reached the receiver as\n%s\nthe API's as\n%s", node, api)
			}
			if !bytes.Contains(bodies["node-1"], []byte(`"trace_id":["4bf92f3577b34da6a3ce929d0e0e4736"]`)) {
				t.Errorf("the Node producer's trace id is not in %s", bodies["node-1"])
			}
			deliveries := s.deliveries(sub)
			for _, m := range malformed[1:] {
				if _, ok := deliveries[m.eventID]; ok {
					t.Errorf("%s: a delivery was planned", m.eventID)
				}
			}
			if len(deliveries) != 3 {
				t.Errorf("%d deliveries, want 3 (api-1, node-1, node-bad-payload corrected): %v", len(deliveries), deliveries)
			}
			if n := len(rc.requests()); n != 3 {
				t.Errorf("the receiver got %d requests, want 3", n)
			}
		})
	})
}

// envelopeVaries matches what differs between two deliveries of the same payload: the
// event id, its time and its trace id.
var envelopeVaries = regexp.MustCompile(`"id":"[^"]*"|"created_timestamp":\d+|"trace_id":\["[^"]*"\]`)

func normalizeEnvelope(t *testing.T, body []byte) string {
	t.Helper()
	if body == nil {
		t.Fatal("no delivery")
	}
	return envelopeVaries.ReplaceAllString(string(body), "…")
}

// mustFailedAtOnce checks that workflow id ended Failed within seconds of its start,
// without a workflow task failing (which Temporal would retry without end).
func mustFailedAtOnce(t *testing.T, s *stack, id string) {
	t.Helper()
	desc, err := s.Client().DescribeWorkflowExecution(t.Context(), id, "")
	if err != nil {
		t.Errorf("describe %s: %v", id, err)
		return
	}
	info := desc.WorkflowExecutionInfo
	if info.Status != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
		t.Errorf("%s: status %v, want failed", id, info.Status)
		return
	}
	if took := info.CloseTime.AsTime().Sub(info.StartTime.AsTime()); took > 5*time.Second {
		t.Errorf("%s: failed %v after its start, want at once", id, took)
	} else {
		t.Logf("%s: failed %v after its start, %d history events", id, took.Round(time.Millisecond), info.HistoryLength)
	}
	iter := s.Client().GetWorkflowHistory(t.Context(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Errorf("history of %s: %v", id, err)
			return
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
			t.Errorf("%s: a workflow task failed (event %d): %v", id, ev.GetEventId(), ev.GetWorkflowTaskFailedEventAttributes().GetFailure().GetMessage())
		}
	}
}
