package apiserver_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// subscriberOut is what the tests read of a subscriber answer.
type subscriberOut struct {
	ID       int64
	Name     string
	Status   string
	AuthMeta struct{ Type, Secret string } `json:"auth_meta"`
	Events   []struct {
		Slug    string
		Filters map[string]any
		Reducer map[string]any
	}
}

// conformSubscribers covers creating, reading, listing, changing and deleting subscribers,
// with secret masking and rotation.
func conformSubscribers(t *testing.T, c *conformer, fx *conformFixture) {
	hook := c.ts.Receiver.URL + "/hook"
	rec := c.do(t, call{Method: http.MethodPost, Path: fx.base + "/company/1/subscriber", Token: fx.partnerKey,
		Body: subscriberBody("orders hook", hook), Want: http.StatusCreated})
	created := mustDecode[subscriberOut](t, rec.Body.Bytes())
	fx.subscriberID = created.ID
	if !strings.HasPrefix(created.AuthMeta.Secret, "whsec_") || strings.Contains(created.AuthMeta.Secret, "*") {
		t.Errorf("created with a generated secret: auth_meta %+v, want it in full", created.AuthMeta)
	}
	if len(created.Events) != 2 || created.Events[0].Filters["query"] != "$.brand.uid" || len(created.Events[1].Filters) != 0 {
		t.Errorf("created events %+v", created.Events)
	}

	withSecret := subscriberBody("inventory hook", hook)
	withSecret["auth_meta"] = map[string]string{"type": "hmac", "secret": "my-signing-secret"}
	withSecret["status"], withSecret["inactive_policy"], withSecret["timeout_ms"] = "inactive", "discard", 10000
	rec = c.do(t, call{Method: http.MethodPost, Path: fx.base + "/company/1/subscriber", Token: adminToken, Body: withSecret, Want: http.StatusCreated})
	second := mustDecode[subscriberOut](t, rec.Body.Bytes())
	if second.AuthMeta.Secret != "my-signing-secret" || second.Status != "inactive" {
		t.Errorf("created %+v, want the given secret in full and status inactive", second)
	}
	rec = c.do(t, call{Method: http.MethodGet, Path: fx.sub(second.ID), Token: fx.partnerKey, Want: http.StatusOK})
	if got := mustDecode[subscriberOut](t, rec.Body.Bytes()).AuthMeta.Secret; got != "my-s********" {
		t.Errorf("GET shows secret %q, want it masked as my-s********", got)
	}

	list := fx.base + "/subscriber"
	rec = c.do(t, call{Method: http.MethodGet, Path: list, Token: fx.partnerKey, Want: http.StatusOK})
	page := mustDecode[struct {
		Items []subscriberOut
		Page  struct {
			ItemTotal int64 `json:"item_total"`
		}
	}](t, rec.Body.Bytes())
	if len(page.Items) != 2 || page.Page.ItemTotal != 2 || page.Items[0].ID != second.ID {
		t.Errorf("list: %d items of %d, want 2 newest first", len(page.Items), page.Page.ItemTotal)
	}
	for _, it := range page.Items {
		if !strings.HasSuffix(it.AuthMeta.Secret, "********") {
			t.Errorf("list shows secret %q unmasked", it.AuthMeta.Secret)
		}
	}
	c.do(t, call{Method: http.MethodGet, Path: list + "?page_no=1&page_size=5&status=active&company_id=1&search=ORDERS", Token: fx.partnerKey, Want: http.StatusOK})
	c.do(t, call{Method: http.MethodGet, Path: list + "?page_size=0", Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "page_size"})
	c.do(t, call{Method: http.MethodGet, Path: list + "?status=paused&company_id=x", Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "status"})

	// Rotation: the answer masks the new secret.
	rec = c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"name": "orders hook v2", "auth_meta": map[string]string{"secret": "rotated-secret-1"}}})
	if got := mustDecode[subscriberOut](t, rec.Body.Bytes()); got.AuthMeta.Secret != "rota********" || got.Name != "orders hook v2" || len(got.Events) != 2 {
		t.Errorf("after rotation: %+v", got)
	}
	c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"status": "inactive"}})
	c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"status": "active"}})
	if !slices.Contains(c.ts.Engine.Released(), fx.subscriberID) {
		t.Error("re-activating by PUT did not release the queue")
	}
	c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "status",
		Body: map[string]any{"status": "blocked"}})
	c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusBadRequest, Field: "events[0].filters",
		Body: map[string]any{"events": []map[string]any{{"slug": "company/product/create/v1",
			"filters": map[string]string{"query": "$.uid", "condition": "not a function ("}}}}})
	c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusUnprocessableEntity, Field: "events[0].slug",
		Body: map[string]any{"events": []map[string]any{{"slug": "company/widget/create/v1"}}}})
	c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusRequestEntityTooLarge, Invalid: true,
		Body: bigBody(300 << 10)})
	c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"status": "inactive"}})
	c.ts.Engine.SetDown(true)
	c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusServiceUnavailable,
		Body: map[string]any{"status": "active"}})
	c.ts.Engine.SetDown(false)
	rec = c.do(t, call{Method: http.MethodGet, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusOK})
	if got := mustDecode[subscriberOut](t, rec.Body.Bytes()).Status; got != "active" {
		t.Errorf("after a PUT whose release failed: status %q, want active (saved)", got)
	}
	// The subscriber is active now; the PUT sent again must still release its queue.
	released := len(c.ts.Engine.Released())
	c.do(t, call{Method: http.MethodPut, Path: fx.sub(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"status": "active"}})
	if len(c.ts.Engine.Released()) != released+1 {
		t.Error("a PUT repeated after a failed release did not release the queue")
	}

	c.do(t, call{Method: http.MethodDelete, Path: fx.sub(second.ID), Token: fx.partnerKey, Want: http.StatusOK})
	c.do(t, call{Method: http.MethodGet, Path: fx.sub(second.ID), Token: fx.partnerKey, Want: http.StatusNotFound})
	c.do(t, call{Method: http.MethodDelete, Path: fx.sub(second.ID), Token: fx.partnerKey, Want: http.StatusNotFound})
	c.do(t, call{Method: http.MethodGet, Path: fx.base + "/company/2/subscriber/" + itoa(fx.subscriberID), Token: fx.partnerKey, Want: http.StatusNotFound})
	c.do(t, call{Method: http.MethodGet, Path: fx.base + "/company/abc/subscriber/1", Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "company_id"})
	c.do(t, call{Method: http.MethodDelete, Path: fx.base + "/company/1/subscriber/0", Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "subscriber_id"})
	c.do(t, call{Method: http.MethodPost, Path: fx.base + "/company/1/subscriber", Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "webhook_url",
		Body: map[string]any{"name": "", "webhook_url": "ftp://example.com", "events": []any{}}})
	c.do(t, call{Method: http.MethodPost, Path: fx.base + "/company/1/subscriber", Token: fx.partnerKey, Want: http.StatusBadRequest, Field: "custom_headers.x-fp-signature",
		Body: map[string]any{"name": "n", "webhook_url": hook, "custom_headers": map[string]string{"x-fp-signature": "forged"},
			"events": []map[string]string{{"slug": "company/product/create/v1"}}}})
	rec = c.do(t, call{Method: http.MethodPost, Path: fx.base + "/company/1/subscriber", Token: fx.partnerKey, Want: http.StatusUnprocessableEntity, Field: "events[1].slug",
		Body: map[string]any{"name": "n", "webhook_url": hook, "events": []map[string]string{{"slug": "company/product/create/v1"}, {"slug": "company/widget/create/v1"}}}})
	// The store says what is missing; the API adds the route that lists the catalogue.
	if got, want := mustDecode[struct{ Message string }](t, rec.Body.Bytes()).Message,
		"events[1].slug: company/widget/create/v1 is not in the event catalogue (GET /service/common/webhook/v1.0/events lists it)"; got != want {
		t.Errorf("unknown event: message %q, want %q", got, want)
	}
	c.do(t, call{Method: http.MethodPost, Path: fx.base + "/company/1/subscriber", Token: fx.partnerKey, Want: http.StatusRequestEntityTooLarge, Invalid: true,
		Body: bigBody(300 << 10)})
	c.do(t, call{Method: http.MethodGet, Path: list, Want: http.StatusUnauthorized, Invalid: true})
	c.do(t, call{Method: http.MethodGet, Path: partnerBase("org-other", fx.ext) + "/subscriber", Token: fx.partnerKey, Want: http.StatusNotFound})
}

// conformSubscriberStatus covers PATCH …/subscriber/{id} and the test connection.
func conformSubscriberStatus(t *testing.T, c *conformer, fx *conformFixture) {
	path := fx.base + "/subscriber/" + itoa(fx.subscriberID)
	c.do(t, call{Method: http.MethodPatch, Path: path, Token: fx.partnerKey, Body: map[string]string{"status": "inactive"}, Want: http.StatusOK})
	before := len(c.ts.Engine.Released())
	rec := c.do(t, call{Method: http.MethodPatch, Path: path, Token: fx.partnerKey, Body: map[string]string{"status": "active"}, Want: http.StatusOK})
	if msg := rec.Body.String(); !strings.Contains(msg, "released") || len(c.ts.Engine.Released()) != before+1 {
		t.Errorf("re-activation: %s, %d releases, want one more", msg, len(c.ts.Engine.Released()))
	}
	c.do(t, call{Method: http.MethodPatch, Path: path, Token: fx.partnerKey, Body: map[string]string{"status": "blocked"},
		Want: http.StatusBadRequest, Invalid: true, Field: "status"})
	c.do(t, call{Method: http.MethodPatch, Path: path, Token: fx.partnerKey, Body: map[string]any{}, Want: http.StatusBadRequest, Invalid: true, Field: "status"})
	c.do(t, call{Method: http.MethodPatch, Path: path, Token: fx.partnerKey, Body: bigBody(300 << 10), Want: http.StatusRequestEntityTooLarge, Invalid: true})
	c.do(t, call{Method: http.MethodPatch, Path: fx.base + "/subscriber/999999", Token: fx.partnerKey, Body: map[string]string{"status": "active"}, Want: http.StatusNotFound})
	c.do(t, call{Method: http.MethodPatch, Path: fx.base + "/subscriber/abc", Token: fx.partnerKey, Body: map[string]string{"status": "active"},
		Want: http.StatusBadRequest, Invalid: true, Field: "subscriber_id"})
	c.ts.Engine.SetDown(true)
	c.do(t, call{Method: http.MethodPatch, Path: path, Token: fx.partnerKey, Body: map[string]string{"status": "active"}, Want: http.StatusServiceUnavailable})
	c.ts.Engine.SetDown(false)

	hits := len(c.ts.Receiver.Hits())
	rec = c.do(t, call{Method: http.MethodPost, Path: fx.sub(fx.subscriberID) + "/ping", Token: fx.partnerKey, Want: http.StatusOK})
	got := mustDecode[struct {
		Status string
		Code   int
	}](t, rec.Body.Bytes())
	if got.Status != "SUCCESS" || got.Code != http.StatusOK || len(c.ts.Receiver.Hits()) != hits+1 {
		t.Fatalf("ping: %s; the receiver got %d requests, want 1", rec.Body.String(), len(c.ts.Receiver.Hits())-hits)
	}
	if h := c.ts.Receiver.Hits()[hits]; h.Get("X-Fp-Signature") == "" || h.Get("Webhook-Signature") == "" {
		t.Errorf("ping not signed: %v", h)
	}
	// A receiver that does not answer is a FAILED ping, not an error.
	closed := subscriberBody("nobody home", "http://127.0.0.1:1/hook")
	rec = c.do(t, call{Method: http.MethodPost, Path: fx.base + "/company/1/subscriber", Token: fx.partnerKey, Body: closed, Want: http.StatusCreated})
	rec = c.do(t, call{Method: http.MethodPost, Path: fx.sub(idOf(t, rec.Body.Bytes(), "id")) + "/ping", Token: fx.partnerKey, Want: http.StatusOK})
	if got := mustDecode[struct {
		Status string
		Code   int
	}](t, rec.Body.Bytes()); got.Status != "FAILED" || got.Code != 0 {
		t.Errorf("ping of a closed port: %s", rec.Body.String())
	}
	c.do(t, call{Method: http.MethodPost, Path: fx.base + "/company/1/subscriber/999999/ping", Token: fx.partnerKey, Want: http.StatusNotFound})
	c.do(t, call{Method: http.MethodPost, Path: fx.base + "/company/x/subscriber/1/ping", Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "company_id"})
}
