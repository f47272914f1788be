package apiserver_test

import (
	"net/http"
	"strings"
	"testing"
)

// conformOperations covers the open endpoints: health, readiness, metrics, the document.
func conformOperations(t *testing.T, c *conformer, _ *conformFixture) {
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"} {
		c.do(t, call{Method: http.MethodGet, Path: path, Want: http.StatusOK})
	}
	c.ts.Engine.SetDown(true)
	rec := c.do(t, call{Method: http.MethodGet, Path: "/readyz", Want: http.StatusServiceUnavailable})
	c.ts.Engine.SetDown(false)
	got := mustDecode[struct{ Checks map[string]string }](t, rec.Body.Bytes())
	if got.Checks["temporal"] != "unavailable" || got.Checks["database"] != "ok" {
		t.Errorf("GET /readyz with Temporal down: checks %v", got.Checks)
	}
}

// conformKeysAndCatalogue covers the admin API-key endpoints, the catalogue and /me, and
// creates the fixture's keys.
func conformKeysAndCatalogue(t *testing.T, c *conformer, fx *conformFixture) {
	const keys = "/service/admin/webhook/v1.0/api_keys"
	create := func(scope string) (key string, id int64) {
		rec := c.do(t, call{Method: http.MethodPost, Path: keys, Token: adminToken, Want: http.StatusCreated,
			Body: map[string]string{"organization_id": fx.org, "extension_id": fx.ext, "name": scope + " key", "scope": scope}})
		k := mustDecode[struct{ Key string }](t, rec.Body.Bytes()).Key
		if !strings.HasPrefix(k, "hfk_") || strings.Contains(k, "*") {
			t.Errorf("created key %q is not a full key", k)
		}
		return k, idOf(t, rec.Body.Bytes(), "id")
	}
	fx.partnerKey, _ = create("partner")
	fx.ingestKey, _ = create("ingest")
	rec := c.do(t, call{Method: http.MethodPost, Path: keys, Token: adminToken, Want: http.StatusCreated,
		Body: map[string]string{"organization_id": fx.org}})
	revoked, revokedID := mustDecode[struct{ Key, Scope string }](t, rec.Body.Bytes()), idOf(t, rec.Body.Bytes(), "id")
	if revoked.Scope != "partner" {
		t.Errorf("default scope %q, want partner", revoked.Scope)
	}

	rec = c.do(t, call{Method: http.MethodGet, Path: keys + "?organization_id=" + fx.org, Token: adminToken, Want: http.StatusOK})
	if strings.Contains(rec.Body.String(), fx.partnerKey) || !strings.Contains(rec.Body.String(), "_********") {
		t.Errorf("listed keys are not masked: %s", rec.Body.String())
	}
	c.do(t, call{Method: http.MethodGet, Path: keys, Token: adminToken, Want: http.StatusOK})
	c.do(t, call{Method: http.MethodDelete, Path: keys + "/" + itoa(revokedID), Token: adminToken, Want: http.StatusOK})
	c.do(t, call{Method: http.MethodDelete, Path: keys + "/" + itoa(revokedID), Token: adminToken, Want: http.StatusOK})
	c.do(t, call{Method: http.MethodGet, Path: "/service/common/webhook/v1.0/me", Token: revoked.Key, Want: http.StatusUnauthorized})
	rec = c.do(t, call{Method: http.MethodGet, Path: keys + "?organization_id=" + fx.org, Token: adminToken, Want: http.StatusOK})
	if !strings.Contains(rec.Body.String(), `"revoked_at":"`) {
		t.Errorf("the revoked key is not listed as revoked: %s", rec.Body.String())
	}
	c.do(t, call{Method: http.MethodDelete, Path: keys + "/999999", Token: adminToken, Want: http.StatusNotFound})
	c.do(t, call{Method: http.MethodDelete, Path: keys + "/abc", Token: adminToken, Want: http.StatusBadRequest, Invalid: true, Field: "key_id"})
	c.do(t, call{Method: http.MethodPost, Path: keys, Token: adminToken, Want: http.StatusBadRequest, Invalid: true, Field: "scope",
		Body: map[string]string{"organization_id": "", "scope": "root"}})
	c.do(t, call{Method: http.MethodPost, Path: keys, Token: adminToken, Want: http.StatusBadRequest, Invalid: true, Field: "body",
		Body: `{"organization_id":"a","organization_id":"b"}`})
	c.do(t, call{Method: http.MethodPost, Path: keys, Token: adminToken, Want: http.StatusRequestEntityTooLarge, Invalid: true, Field: "body",
		Body: bigBody(300 << 10)})
	c.do(t, call{Method: http.MethodPost, Path: keys, Token: fx.partnerKey, Want: http.StatusForbidden,
		Body: map[string]string{"organization_id": fx.org}})
	c.do(t, call{Method: http.MethodGet, Path: keys, Token: fx.partnerKey, Want: http.StatusForbidden})
	c.do(t, call{Method: http.MethodDelete, Path: keys + "/1", Token: fx.ingestKey, Want: http.StatusForbidden})

	rec = c.do(t, call{Method: http.MethodGet, Path: "/service/common/webhook/v1.0/events", Token: fx.partnerKey, Want: http.StatusOK})
	if n := len(mustDecode[struct {
		EventConfigs []any `json:"event_configs"`
	}](t, rec.Body.Bytes()).EventConfigs); n < 17 {
		t.Errorf("the catalogue has %d event types, want the 17 shipped", n)
	}
	for token, scope := range map[string]string{adminToken: "admin", fx.partnerKey: "partner", fx.ingestKey: "platform"} {
		rec := c.do(t, call{Method: http.MethodGet, Path: "/service/common/webhook/v1.0/me", Token: token, Want: http.StatusOK})
		if got := mustDecode[struct{ Scope string }](t, rec.Body.Bytes()).Scope; got != scope {
			t.Errorf("GET /me: scope %q, want %q", got, scope)
		}
	}
	rec = c.do(t, call{Method: http.MethodGet, Path: "/service/common/webhook/v1.0/me", Want: http.StatusUnauthorized, Invalid: true})
	if rec.Header().Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	c.do(t, call{Method: http.MethodGet, Path: "/service/common/webhook/v1.0/events", Token: "hfk_0123456789ab_nope", Want: http.StatusUnauthorized})
}

// conformEvents covers event ingestion: acceptance, duplicates, rights, bad input, size
// limits, the catalogue check and an unreachable engine.
func conformEvents(t *testing.T, c *conformer, fx *conformFixture) {
	const path = "/service/platform/webhook/v1.0/company/1/events"
	event := func(id string) map[string]any {
		return map[string]any{"id": id, "event_slug": "company/product/create/v1", "application_id": "app-1",
			"payload": map[string]any{"uid": 7501, "brand": map[string]any{"uid": 238, "name": "Nike"}}}
	}
	type accepted struct {
		EventID    string `json:"event_id"`
		WorkflowID string `json:"workflow_id"`
		Duplicate  bool
	}
	first := mustDecode[accepted](t, c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Body: event("evt-1"), Want: http.StatusAccepted}).Body.Bytes())
	again := mustDecode[accepted](t, c.do(t, call{Method: http.MethodPost, Path: path, Token: fx.ingestKey, Body: event("evt-1"), Want: http.StatusAccepted}).Body.Bytes())
	if first.Duplicate || !again.Duplicate || first.WorkflowID != again.WorkflowID || first.WorkflowID != "event:1:evt-1" {
		t.Errorf("sent twice: %+v then %+v; want one workflow event:1:evt-1, the second a duplicate", first, again)
	}
	noID := event("")
	delete(noID, "id")
	generated := mustDecode[accepted](t, c.do(t, call{Method: http.MethodPost, Path: path, Token: fx.ingestKey, Body: noID, Want: http.StatusAccepted}).Body.Bytes())
	if generated.EventID == "" || generated.Duplicate {
		t.Errorf("without id: %+v", generated)
	}
	if n := c.ts.Engine.Started(); n != 2 {
		t.Errorf("%d event workflows started, want 2", n)
	}

	c.do(t, call{Method: http.MethodPost, Path: path, Token: fx.partnerKey, Body: event("evt-2"), Want: http.StatusForbidden})
	c.do(t, call{Method: http.MethodPost, Path: path, Body: event("evt-2"), Want: http.StatusUnauthorized, Invalid: true})
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Want: http.StatusBadRequest, Invalid: true, Field: "id",
		Body: map[string]any{"id": "bad id!", "event_slug": "Company/x", "payload": []int{1}}})
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Want: http.StatusBadRequest, Invalid: true, Field: "payload",
		Body: map[string]any{"id": "evt-3", "event_slug": "company/product/create/v1", "payload": []int{1}}})
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Want: http.StatusBadRequest, Invalid: true, Field: "colour",
		Body: map[string]any{"id": "evt-3", "event_slug": "company/product/create/v1", "payload": map[string]int{}, "colour": "red"}})
	c.do(t, call{Method: http.MethodPost, Path: "/service/platform/webhook/v1.0/company/0/events", Token: adminToken, Body: event("evt-3"),
		Want: http.StatusBadRequest, Invalid: true, Field: "company_id"})
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Body: "id=evt-3", ContentType: "application/x-www-form-urlencoded",
		Want: http.StatusBadRequest, Invalid: true, Field: "body"})
	widget := event("evt-3")
	widget["event_slug"] = "company/widget/create/v1"
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Body: widget, Want: http.StatusUnprocessableEntity, Field: "event_slug"})
	big := event("evt-4")
	big["payload"] = map[string]string{"blob": strings.Repeat("x", 1<<20)}
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Body: big, Want: http.StatusRequestEntityTooLarge, Field: "payload"})
	big["payload"] = map[string]string{"blob": strings.Repeat("x", 1<<20+100<<10)}
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Body: big, Want: http.StatusRequestEntityTooLarge, Field: "body"})

	c.ts.Engine.SetDown(true)
	rec := c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Body: event("evt-5"), Want: http.StatusServiceUnavailable})
	c.ts.Engine.SetDown(false)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}
