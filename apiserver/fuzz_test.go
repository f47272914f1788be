package apiserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// The fuzz targets send arbitrary bodies to the API over every test database (SQLite,
// and PostgreSQL when HOOKFLOW_TEST_DATABASE_URL is set: it refuses more than SQLite).
// Their seeds are the f.Add calls and testdata/fuzz/<name>/, which holds the bad-input
// cases; `go test` runs them all, and `go test -fuzz=^FuzzIngestEvent$` explores further.
//
// The invariant: the answer is the success status, or a 4xx error envelope whose errors
// name a field; never a 5xx, never a panic.

// fuzzServers builds one server per test database.
func fuzzServers(f *testing.F) []*testServer {
	f.Helper()
	var out []*testServer
	for _, db := range storetest.Databases(f) {
		out = append(out, MustNewServerWith(f, db, func(*apiserver.Config, *apiserver.Deps) {}))
	}
	return out
}

// mustAnswerWell checks the invariant of the fuzz targets on rec, the answer to body.
func mustAnswerWell(t *testing.T, body []byte, rec *httptest.ResponseRecorder, ok int) {
	t.Helper()
	if rec.Code == ok {
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("body %q: %d with a body that is not JSON: %.300s", body, rec.Code, rec.Body.String())
		}
		return
	}
	if rec.Code < 400 || rec.Code >= 500 {
		t.Fatalf("body %q: status %d, want %d or a 4xx; answer %.500s", body, rec.Code, ok, rec.Body.String())
	}
	var env struct {
		Success *bool
		Message string
		Errors  []models.FieldError
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Success == nil || *env.Success || env.Message == "" {
		t.Fatalf("body %q: %d is not the error envelope: %.500s", body, rec.Code, rec.Body.String())
	}
	if len(env.Errors) == 0 {
		t.Fatalf("body %q: %d names no field: %.500s", body, rec.Code, rec.Body.String())
	}
	for _, e := range env.Errors {
		if e.Field == "" || e.Message == "" {
			t.Fatalf("body %q: %d has an error without field or message: %.500s", body, rec.Code, rec.Body.String())
		}
	}
}

// FuzzIngestEvent sends arbitrary bodies to event ingestion: 202, or a 4xx naming the
// field at fault.
func FuzzIngestEvent(f *testing.F) {
	for _, seed := range []string{
		`{"event_slug":"company/product/create/v1","payload":{"uid":7501,"brand":{"uid":238}}}`,
		`{"id":"evt-1","event_slug":"company/product/create/v1","application_id":"web","payload":{"items":[1,2.5,"x",null,true,{}]}}`,
		`{"id":"evt-1","event_slug":"company/product/create/v1","payload":{}}`,
		`{"event_slug":"company/widget/create/v1","payload":{}}`,
		`{"event_slug":"company/product/create/v1","payload":{"n":1e400}}`,
		`{"event_slug":"company/product/create/v1","payload":{"a":1,"a":2}}`,
		`{"Event_Slug":"company/product/create/v1","payload":{}}`,
		`{"event_slug":"company/product/create/v1","payload":{"s":"\ud800"}}`,
		`{"id":"","event_slug":"company/product/create/v1","payload":{}}`,
		`{"event_slug":5}`,
		`[]`,
		``,
	} {
		f.Add([]byte(seed))
	}
	servers := fuzzServers(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ts := range servers {
			rec := doJSON(t, ts, http.MethodPost, ingestPath, adminToken, body)
			mustAnswerWell(t, body, rec, http.StatusAccepted)
			if rec.Code == http.StatusAccepted {
				if got := mustDecode[struct {
					EventID    string `json:"event_id"`
					WorkflowID string `json:"workflow_id"`
				}](t, rec.Body.Bytes()); got.EventID == "" || got.WorkflowID == "" {
					t.Fatalf("body %q: 202 without event or workflow id: %s", body, rec.Body.String())
				}
			}
		}
	})
}

// FuzzSubscriberValidation sends arbitrary bodies to subscriber creation: 201, or a
// 4xx naming the field at fault.
func FuzzSubscriberValidation(f *testing.F) {
	for _, seed := range []string{
		`{"name":"orders","webhook_url":"https://hooks.example.com/in","events":[{"slug":"company/product/create/v1"}]}`,
		`{"name":"orders","webhook_url":"http://127.0.0.1:9/in","status":"inactive","inactive_policy":"discard","email_id":"ops@example.com",` +
			`"custom_headers":{"X-Team":"payments"},"auth_meta":{"type":"hmac","secret":"whsec_0123456789abcdef"},"timeout_ms":3000,` +
			`"events":[{"slug":"company/product/create/v1","filters":{"query":"$.brand.uid","condition":"(uid) => uid === 238"},` +
			`"reducer":{"name":"$.name"}},{"slug":"application/order/placed/v1","filters":null,"reducer":{}}]}`,
		`{"name":"x","webhook_url":"https://169.254.169.254/","events":[{"slug":"company/product/create/v1"}]}`,
		`{"name":"x","webhook_url":"javascript:alert(1)","events":[{"slug":"company/product/create/v1"}]}`,
		`{"name":" ","webhook_url":"","events":[]}`,
		`{"name":"x","webhook_url":"https://hooks.example.com/in","events":[{"slug":"company/widget/create/v1"}]}`,
		`{"name":"x","webhook_url":"https://hooks.example.com/in","events":[{"slug":"company/product/create/v1","filters":{"query":"$.a","condition":"(a) => {"}}]}`,
		`{"name":"x","name":"y"}`,
		`{"Name":"x"}`,
		`{"timeout_ms":1e400}`,
		`{"custom_headers":{"Content-Type":"text/plain","X-A":"a\r\nb"}}`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	servers := fuzzServers(f)
	for _, ts := range servers {
		MustInstall(f, ts, "o", "e", 1)
	}
	path := partnerBase("o", "e") + "/company/1/subscriber"
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ts := range servers {
			rec := doJSON(t, ts, http.MethodPost, path, adminToken, body)
			mustAnswerWell(t, body, rec, http.StatusCreated)
			if rec.Code == http.StatusCreated && idOf(t, rec.Body.Bytes(), "id") <= 0 {
				t.Fatalf("body %q: 201 without an id: %s", body, rec.Body.String())
			}
		}
	})
}
