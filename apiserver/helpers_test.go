package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

const adminToken = "test-admin-token-0123456789"

// partnerBase is the prefix of the partner routes of a tenant.
func partnerBase(org, ext string) string {
	return "/service/partner/webhook/v1.0/organization/" + org + "/extension/" + ext
}

// testServer is an apiserver.Server over a real store, a real webhook client that sends
// to a loopback receiver, a real transform engine, and a fake workflow engine.
type testServer struct {
	*apiserver.Server
	Store    *store.Store
	Engine   *fakeEngine
	Receiver *receiver
}

// MustNewServer builds a testServer on database db.
func MustNewServer(tb testing.TB, db storetest.Database) *testServer {
	tb.Helper()
	return MustNewServerWith(tb, db, func(*apiserver.Config, *apiserver.Deps) {})
}

// receiver is a webhook receiver on loopback that answers 200 and counts requests.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	hits []http.Header
}

func newReceiver(tb testing.TB) *receiver {
	tb.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.hits = append(r.hits, req.Header.Clone())
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	tb.Cleanup(r.Close)
	return r
}

// Hits returns the headers of the requests received so far.
func (r *receiver) Hits() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.hits...)
}

// doJSON sends a request to h and returns the answer. body is sent as is when it is a
// string or []byte, as JSON otherwise, and not at all when nil; token "" sends no
// Authorization header.
func doJSON(tb testing.TB, h http.Handler, method, path, token string, body any) *httptest.ResponseRecorder {
	tb.Helper()
	req := newRequest(tb, method, path, token, body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func newRequest(tb testing.TB, method, path, token string, body any) *http.Request {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(bodyBytes(tb, body))
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func bodyBytes(tb testing.TB, body any) []byte {
	tb.Helper()
	switch b := body.(type) {
	case string:
		return []byte(b)
	case []byte:
		return b
	}
	out, err := json.Marshal(body)
	if err != nil {
		tb.Fatalf("marshal request body: %v", err)
	}
	return out
}

// mustStatus fails the test unless rec answered want.
func mustStatus(tb testing.TB, rec *httptest.ResponseRecorder, want int) {
	tb.Helper()
	if rec.Code != want {
		tb.Fatalf("status %d, want %d; body %s", rec.Code, want, rec.Body.String())
	}
}

// mustDecode decodes a JSON answer into a T.
func mustDecode[T any](tb testing.TB, body []byte) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// idOf returns the integer field name of a JSON object answer.
func idOf(tb testing.TB, body []byte, name string) int64 {
	tb.Helper()
	m := mustDecode[map[string]json.RawMessage](tb, body)
	id, err := strconv.ParseInt(string(m[name]), 10, 64)
	if err != nil {
		tb.Fatalf("field %s of %s: %v", name, body, err)
	}
	return id
}

// MustCreateAPIKey creates an API key with the admin token and returns the key.
func MustCreateAPIKey(tb testing.TB, h http.Handler, org, ext, scope string) string {
	tb.Helper()
	rec := doJSON(tb, h, http.MethodPost, "/service/admin/webhook/v1.0/api_keys", adminToken,
		map[string]string{"organization_id": org, "extension_id": ext, "name": org + " " + scope, "scope": scope})
	mustStatus(tb, rec, http.StatusCreated)
	return mustDecode[struct{ Key string }](tb, rec.Body.Bytes()).Key
}

// subscriberBody is a valid subscriber of company/product/create/v1 sending to url.
func subscriberBody(name, url string) map[string]any {
	return map[string]any{
		"name": name, "webhook_url": url, "email_id": "ops@example.com",
		"custom_headers": map[string]string{"X-Team": "payments"},
		"events": []map[string]any{
			{"slug": "company/product/create/v1",
				"filters": map[string]any{"query": "$.brand.uid", "condition": "(uid) => uid === 238"},
				"reducer": map[string]any{"name": "$.name", "brand": "$.brand.name"}},
			{"slug": "application/order/placed/v1"},
		},
	}
}

// MustInstall installs extension ext of organization org on company with the admin
// token, as the platform does before the extension's partner subscribes there; an
// installation that exists already is kept.
func MustInstall(tb testing.TB, h http.Handler, org, ext string, company int64) {
	tb.Helper()
	rec := doJSON(tb, h, http.MethodPost, "/service/platform/webhook/v1.0/installation", adminToken,
		map[string]any{"organization_id": org, "extension_id": ext, "company_id": company})
	if rec.Code != http.StatusCreated && rec.Code != http.StatusConflict {
		tb.Fatalf("install %s/%s on company %d: status %d; body %s", org, ext, company, rec.Code, rec.Body.String())
	}
}

// MustCreateSubscriber installs the tenant's extension on company 1, creates a
// subscriber of the tenant there with the admin token and returns its id.
func MustCreateSubscriber(tb testing.TB, ts *testServer, org, ext, name string) int64 {
	tb.Helper()
	MustInstall(tb, ts, org, ext, 1)
	rec := doJSON(tb, ts, http.MethodPost, partnerBase(org, ext)+"/company/1/subscriber", adminToken,
		subscriberBody(name, ts.Receiver.URL+"/hook"))
	mustStatus(tb, rec, http.StatusCreated)
	return idOf(tb, rec.Body.Bytes(), "id")
}

// delivery is a delivery row made by MustCreateDelivery.
type delivery struct {
	ID         int64
	WorkflowID string
}

// MustCreateDelivery does what the event workflow and the delivery's first attempt would:
// it stores an event of company/product/create/v1 for company 1, plans its deliveries
// and, for a status other than pending, records an attempt that leads to status. It
// returns subscriberID's delivery.
func MustCreateDelivery(tb testing.TB, st *store.Store, subscriberID int64, eventID, status string) delivery {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	ev := &models.Event{CompanyID: 1, EventID: eventID, Slug: "company/product/create/v1", Payload: []byte(`{"uid":7501,"brand":{"uid":238}}`),
		AcceptedAt: now, WorkflowID: workflows.EventWorkflowID(1, eventID)}
	if _, err := st.StoreEvent(ctx, ev); err != nil {
		tb.Fatalf("store event: %v", err)
	}
	planned, _, err := st.PlanDeliveries(ctx, ev, 0, 1000, func(sub int64) string { return workflows.DeliveryWorkflowID(1, eventID, sub, 0) })
	if err != nil {
		tb.Fatalf("plan deliveries: %v", err)
	}
	for _, p := range planned {
		if p.SubscriberID != subscriberID {
			continue
		}
		if status != models.DeliveryPending {
			mustRecordAttempt(tb, st, p.DeliveryID, status, now)
		}
		return delivery{ID: p.DeliveryID, WorkflowID: p.WorkflowID}
	}
	tb.Fatalf("no delivery planned for subscriber %d", subscriberID)
	return delivery{}
}

func mustRecordAttempt(tb testing.TB, st *store.Store, deliveryID int64, status string, at time.Time) {
	tb.Helper()
	ctx := context.Background()
	d, err := st.DeliveryByID(ctx, deliveryID)
	if err != nil {
		tb.Fatalf("load delivery %d: %v", deliveryID, err)
	}
	a := models.Attempt{DeliveryID: d.ID, OrganizationID: d.OrganizationID, ExtensionID: d.ExtensionID, CompanyID: d.CompanyID,
		SubscriberID: d.SubscriberID, EventSlug: d.EventSlug, Attempt: d.Attempts + 1, AttemptedOn: at,
		ResponseCode: http.StatusInternalServerError, ResponseTimeMS: 42.5, Error: "HTTP 500 Internal Server Error",
		ErrorClass: models.ErrClassServer, ResponseBody: `{"error":"down"}`}
	if status == models.DeliverySucceeded {
		a.ResponseCode, a.Error, a.ErrorClass, a.ResponseBody = http.StatusOK, "", models.ErrClassNone, "ok"
	}
	if err := st.RecordAttempt(ctx, store.AttemptRecord{Attempt: a, Status: status}); err != nil {
		tb.Fatalf("record attempt: %v", err)
	}
}

// MustCreateNotification stores a subscriber_blocked notification for the tenant, sent.
func MustCreateNotification(tb testing.TB, st *store.Store, org, ext string, subscriberID int64) {
	tb.Helper()
	n := &models.Notification{OrganizationID: org, ExtensionID: ext, SubscriberID: subscriberID, Kind: models.NotifySubscriberBlocked,
		Email: "ops@example.com", Subject: fmt.Sprintf("subscriber %d blocked", subscriberID), Message: "retries exhausted"}
	if err := st.CreateNotification(context.Background(), n); err != nil {
		tb.Fatalf("create notification: %v", err)
	}
	if err := st.MarkNotificationSent(context.Background(), n.ID, nil); err != nil {
		tb.Fatalf("mark notification sent: %v", err)
	}
}

// ginToOpenAPI turns a Gin path pattern (:name, *name) into an OpenAPI path ({name}).
func ginToOpenAPI(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// expandPath fills a Gin path pattern's parameters from params.
func expandPath(tb testing.TB, pattern string, params map[string]string) string {
	tb.Helper()
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			v, ok := params[p[1:]]
			if !ok {
				tb.Fatalf("no value for path parameter %s of %s", p, pattern)
			}
			parts[i] = v
		}
	}
	return strings.Join(parts, "/")
}

// isDashboardRoute reports whether a route is a page of the admin dashboard, which is
// not part of the API and so neither in the document nor in the tenancy matrix.
func isDashboardRoute(path string) bool {
	return path == "/admin" || strings.HasPrefix(path, "/admin/")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// mustInstallationID returns the id of the installation of org's ext on company.
func mustInstallationID(tb testing.TB, ts *testServer, org, ext string, company int64) int64 {
	tb.Helper()
	list, err := ts.Store.ListInstallations(context.Background(), store.InstallationFilter{CompanyID: company, OrganizationID: org, ExtensionID: ext})
	if err != nil || len(list) != 1 {
		tb.Fatalf("installation of %s/%s on company %d: %v, %d found", org, ext, company, err, len(list))
	}
	return list[0].ID
}

// mustCreateCompanyKey creates an ingest key of organization org that may send events for
// companies only, and returns the key.
func mustCreateCompanyKey(tb testing.TB, h http.Handler, org string, companies ...int64) string {
	tb.Helper()
	rec := doJSON(tb, h, http.MethodPost, "/service/admin/webhook/v1.0/api_keys", adminToken,
		map[string]any{"organization_id": org, "name": org + " company key", "scope": models.ScopeCompany, "company_ids": companies})
	mustStatus(tb, rec, http.StatusCreated)
	return mustDecode[struct{ Key string }](tb, rec.Body.Bytes()).Key
}
