package apiserver_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// routeKind says who may call a route.
type routeKind int

const (
	kindOpen     routeKind = iota // anyone, without credentials
	kindCommon                    // any valid credentials
	kindIngest                    // the admin token, a platform key, or a company key of the path's company
	kindPlatform                  // the admin token or a platform key
	kindAdmin                     // the admin token only
	kindPartner                   // the admin token, or a partner key of the path's tenant
)

// matrixRow is how TestTenancyMatrix calls one route.
type matrixRow struct {
	kind   routeKind
	window bool                          // sends the fixture's report range as the query
	body   func(fx *tenancyFixture) any  // nil sends no body
	ok     int                           // the status of a call that may act
	fresh  string                        // a path parameter whose resource a successful call uses up: made anew for each
	pure   bool                          // the answer depends on nothing but the tenant's data
	check  func(tb testing.TB, b []byte) // checks the answer B's key gets on B's own path
}

const partnerPattern = "/service/partner/webhook/v1.0/organization/:organization_id/extension/:extension_id"

// matrixRows has a row for every route of the API. TestTenancyMatrix fails for a route
// without a row, so that a new route cannot skip the tenancy checks.
var matrixRows = map[string]matrixRow{
	"GET /healthz":      {kind: kindOpen, ok: http.StatusOK},
	"GET /readyz":       {kind: kindOpen, ok: http.StatusOK},
	"GET /metrics":      {kind: kindOpen, ok: http.StatusOK},
	"GET /openapi.json": {kind: kindOpen, ok: http.StatusOK},
	"GET /docs":         {kind: kindOpen, ok: http.StatusOK},

	"GET /service/common/webhook/v1.0/events": {kind: kindCommon, ok: http.StatusOK},
	"GET /service/common/webhook/v1.0/me":     {kind: kindCommon, ok: http.StatusOK},
	"POST /service/platform/webhook/v1.0/company/:company_id/events": {kind: kindIngest, ok: http.StatusAccepted,
		body: func(*tenancyFixture) any {
			return map[string]any{"id": "evt-t", "event_slug": "company/product/create/v1", "payload": map[string]int{"uid": 1}}
		}},
	"POST /service/admin/webhook/v1.0/api_keys": {kind: kindAdmin, ok: http.StatusCreated,
		body: func(*tenancyFixture) any { return map[string]string{"organization_id": "org-z"} }},
	"GET /service/admin/webhook/v1.0/api_keys": {kind: kindAdmin, ok: http.StatusOK},
	"POST /service/platform/webhook/v1.0/installation": {kind: kindPlatform, ok: http.StatusCreated,
		body: func(fx *tenancyFixture) any {
			fx.installs++
			return map[string]any{"organization_id": "org-z", "extension_id": "ext-" + itoa(int64(fx.installs)), "company_id": 9}
		}},
	"GET /service/platform/webhook/v1.0/installation":                     {kind: kindPlatform, ok: http.StatusOK},
	"DELETE /service/platform/webhook/v1.0/installation/:installation_id": {kind: kindPlatform, ok: http.StatusOK, fresh: "installation_id"},
	"GET " + partnerPattern + "/installation":                             {kind: kindPartner, ok: http.StatusOK, pure: true},
	"DELETE /service/admin/webhook/v1.0/api_keys/:key_id":                 {kind: kindAdmin, ok: http.StatusOK},

	"GET " + partnerPattern + "/subscriber": {kind: kindPartner, ok: http.StatusOK, pure: true},
	"PATCH " + partnerPattern + "/subscriber/:subscriber_id": {kind: kindPartner, ok: http.StatusOK,
		body: func(*tenancyFixture) any { return map[string]string{"status": "active"} }},
	"POST " + partnerPattern + "/company/:company_id/subscriber": {kind: kindPartner, ok: http.StatusCreated,
		body: func(fx *tenancyFixture) any { return subscriberBody("created", fx.ts.Receiver.URL+"/hook") }},
	"GET " + partnerPattern + "/company/:company_id/subscriber/:subscriber_id": {kind: kindPartner, ok: http.StatusOK},
	"PUT " + partnerPattern + "/company/:company_id/subscriber/:subscriber_id": {kind: kindPartner, ok: http.StatusOK,
		body: func(*tenancyFixture) any { return map[string]string{"name": "changed"} }},
	"DELETE " + partnerPattern + "/company/:company_id/subscriber/:subscriber_id":    {kind: kindPartner, ok: http.StatusOK, fresh: "subscriber_id"},
	"POST " + partnerPattern + "/company/:company_id/subscriber/:subscriber_id/ping": {kind: kindPartner, ok: http.StatusOK},
	"PUT " + partnerPattern + "/company/:company_id/subscriber/:subscriber_id/filter_reducer": {kind: kindPartner, ok: http.StatusOK,
		body: func(*tenancyFixture) any {
			return map[string]any{"event_slug": "company/product/create/v1", "reducer_configuration": map[string]string{"id": "$.uid"}}
		}},
	"POST " + partnerPattern + "/validate/filter": {kind: kindPartner, ok: http.StatusOK, pure: true,
		body: func(*tenancyFixture) any {
			return map[string]any{"sample_data": map[string]int{"uid": 1}, "filters": map[string]string{"query": "$.uid", "condition": "(x) => x === 1"}}
		}},
	"POST " + partnerPattern + "/validate/reducer": {kind: kindPartner, ok: http.StatusOK, pure: true,
		body: func(*tenancyFixture) any {
			return map[string]any{"sample_data": map[string]int{"uid": 1}, "reducer": map[string]string{"id": "$.uid"}}
		}},
	"POST " + partnerPattern + "/delivery/:delivery_id/retry": {kind: kindPartner, ok: http.StatusAccepted, fresh: "delivery_id"},
	"GET " + partnerPattern + "/delivery/:delivery_id":        {kind: kindPartner, ok: http.StatusOK},
	"POST " + partnerPattern + "/retry": {kind: kindPartner, ok: http.StatusAccepted,
		body: func(fx *tenancyFixture) any { return fx.window },
		check: func(tb testing.TB, b []byte) {
			if n := idOf(tb, b, "total"); n != 0 {
				tb.Errorf("B's bulk retry selected %d deliveries; B has none", n)
			}
		}},
	"GET " + partnerPattern + "/retry/:retry_id":         {kind: kindPartner, ok: http.StatusOK},
	"GET " + partnerPattern + "/notifications":           {kind: kindPartner, ok: http.StatusOK, pure: true},
	"GET " + partnerPattern + "/report/response_time_ts": {kind: kindPartner, ok: http.StatusOK, pure: true, window: true},
	"GET " + partnerPattern + "/report/delivery_summary": {kind: kindPartner, ok: http.StatusOK, pure: true, window: true},
	"GET " + partnerPattern + "/report/delivery_ts":      {kind: kindPartner, ok: http.StatusOK, pure: true, window: true},
	"GET " + partnerPattern + "/report/queue":            {kind: kindPartner, ok: http.StatusOK, pure: true},
	"POST " + partnerPattern + "/report/delivery_details": {kind: kindPartner, ok: http.StatusOK, pure: true,
		body: func(fx *tenancyFixture) any { return fx.window }},
}

// tenancyFixture is organization A's data, and the keys of A, of B and of A's
// neighbours. Tenant C stays empty: its answers are what a tenant without data gets.
type tenancyFixture struct {
	ts       *testServer
	keys     map[string]string // partner A, partner A all extensions, partner A other extension, ingest A (a platform key), company 2's key, partner B
	paramsA  map[string]string // A's tenant and resources
	window   map[string]string
	query    string
	installs int // installations the matrix created, for fresh extension ids
}

func newTenancyFixture(t *testing.T, ts *testServer) *tenancyFixture {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	fx := &tenancyFixture{ts: ts, keys: map[string]string{
		"A":           MustCreateAPIKey(t, ts, "org-a", "ext-a", models.ScopePartner),
		"A any ext":   MustCreateAPIKey(t, ts, "org-a", "", models.ScopePartner),
		"A other ext": MustCreateAPIKey(t, ts, "org-a", "ext-x", models.ScopePartner),
		"A ingest":    MustCreateAPIKey(t, ts, "org-a", "", models.ScopeIngest),
		"B":           MustCreateAPIKey(t, ts, "org-b", "ext-b", models.ScopePartner),
		"company 2":   mustCreateCompanyKey(t, ts, "org-p", 2),
	}, window: map[string]string{"start_date": now.Add(-time.Hour).Format(time.RFC3339), "end_date": now.Add(time.Hour).Format(time.RFC3339)}}
	fx.query = "start_date=" + fx.window["start_date"] + "&end_date=" + fx.window["end_date"]
	sub := MustCreateSubscriber(t, ts, "org-a", "ext-a", "A's subscriber")
	d := MustCreateDelivery(t, ts.Store, sub, "evt-a1", models.DeliveryFailed)
	MustCreateNotification(t, ts.Store, "org-a", "ext-a", sub)
	retry := doJSON(t, ts, http.MethodPost, partnerBase("org-a", "ext-a")+"/retry", adminToken, fx.window)
	mustStatus(t, retry, http.StatusAccepted)
	key := doJSON(t, ts, http.MethodPost, "/service/admin/webhook/v1.0/api_keys", adminToken, map[string]string{"organization_id": "org-z"})
	mustStatus(t, key, http.StatusCreated)
	fx.paramsA = map[string]string{"organization_id": "org-a", "extension_id": "ext-a", "company_id": "1",
		"subscriber_id": itoa(sub), "delivery_id": itoa(d.ID), "retry_id": itoa(idOf(t, retry.Body.Bytes(), "id")),
		"key_id": itoa(idOf(t, key.Body.Bytes(), "id")), "installation_id": itoa(mustInstallationID(t, ts, "org-a", "ext-a", 1))}
	return fx
}

// params returns A's parameters with the tenant replaced by org and ext.
func (fx *tenancyFixture) params(org, ext string) map[string]string {
	p := map[string]string{}
	for k, v := range fx.paramsA {
		p[k] = v
	}
	p["organization_id"], p["extension_id"] = org, ext
	return p
}

// call sends route's request with params and token.
func (fx *tenancyFixture) call(t *testing.T, route string, row matrixRow, params map[string]string, token string) *httptest.ResponseRecorder {
	t.Helper()
	method, pattern, _ := strings.Cut(route, " ")
	path := expandPath(t, pattern, params)
	if row.window {
		path += "?" + fx.query
	}
	var body any
	if row.body != nil {
		body = row.body(fx)
	}
	return doJSON(t, fx.ts, method, path, token, body)
}

// mustDeny checks that rec is an error envelope with status want.
func mustDeny(t *testing.T, who string, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Errorf("%s: status %d, want %d; body %s", who, rec.Code, want, rec.Body.String())
		return
	}
	env := mustDecode[struct {
		Success *bool
		Message string
		Errors  []any
	}](t, rec.Body.Bytes())
	if env.Success == nil || *env.Success || env.Message == "" || env.Errors == nil {
		t.Errorf("%s: %d is not the error envelope: %s", who, want, rec.Body.String())
	}
	if want == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s: 401 without WWW-Authenticate", who)
	}
}

// TestTenancyMatrix calls every route with every kind of credentials: another
// organization's key, a key of the same organization bound to another extension, an
// ingest key, an invalid key and none, then the keys that may act and the admin token.
func TestTenancyMatrix(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServer(t, db)
		var routes []string
		for _, r := range ts.Routes() {
			if isDashboardRoute(r.Path) {
				continue
			}
			route := r.Method + " " + r.Path
			if _, ok := matrixRows[route]; !ok {
				t.Errorf("route %s has no row in the tenancy matrix", route)
				continue
			}
			routes = append(routes, route)
		}
		for route := range matrixRows {
			if !slices.Contains(routes, route) {
				t.Errorf("the tenancy matrix has a row for %s, which the server does not serve", route)
			}
		}
		fx := newTenancyFixture(t, ts)
		// First, while B and C have no data at all: what B sees on its own path is what
		// an empty tenant sees.
		for _, route := range routes {
			if row := matrixRows[route]; row.pure {
				b := fx.call(t, route, row, fx.params("org-b", "ext-b"), fx.keys["B"])
				c := fx.call(t, route, row, fx.params("org-c", "ext-c"), adminToken)
				if b.Code != row.ok || !bytes.Equal(b.Body.Bytes(), c.Body.Bytes()) {
					t.Errorf("%s: B on its own path got %d %s; an empty tenant gets %d %s", route, b.Code, b.Body.String(), c.Code, c.Body.String())
				}
			}
		}
		// B's extension is installed on A's company too, so that B may subscribe there on
		// its own path (without it, B's subscribe answers 403: TestSubscribeNeedsInstallation).
		MustInstall(t, ts, "org-b", "ext-b", 1)
		for _, route := range routes {
			t.Run(route, func(t *testing.T) { checkDenials(t, fx, route, matrixRows[route]) })
		}
		checkAUnchanged(t, fx)
		for _, route := range routes {
			t.Run(route, func(t *testing.T) { checkAllowed(t, fx, route, matrixRows[route]) })
		}
	})
}

// checkDenials makes the calls that must not act, and checks their answers.
func checkDenials(t *testing.T, fx *tenancyFixture, route string, row matrixRow) {
	a := fx.paramsA
	switch row.kind {
	case kindOpen:
		if rec := fx.call(t, route, row, a, ""); rec.Code != row.ok {
			t.Errorf("without credentials: status %d, want %d", rec.Code, row.ok)
		}
		return
	case kindAdmin:
		for _, who := range []string{"A", "A any ext", "A ingest", "B"} {
			mustDeny(t, who, fx.call(t, route, row, a, fx.keys[who]), http.StatusForbidden)
		}
	case kindIngest:
		// A's path is company 1's: company 2's key may not send there.
		for _, who := range []string{"A", "A any ext", "B", "company 2"} {
			mustDeny(t, who, fx.call(t, route, row, a, fx.keys[who]), http.StatusForbidden)
		}
	case kindPlatform:
		for _, who := range []string{"A", "A any ext", "B", "company 2"} {
			mustDeny(t, who, fx.call(t, route, row, a, fx.keys[who]), http.StatusForbidden)
		}
	case kindPartner:
		for _, who := range []string{"B", "A other ext", "A ingest"} {
			mustDeny(t, who+" on A's path", fx.call(t, route, row, a, fx.keys[who]), http.StatusNotFound)
		}
		onB := fx.call(t, route, row, fx.params("org-b", "ext-b"), fx.keys["B"])
		switch {
		case hasResourceID(route):
			mustDeny(t, "B on its own path with A's ids", onB, http.StatusNotFound)
		case onB.Code != row.ok:
			t.Errorf("B on its own path: status %d, want %d; %s", onB.Code, row.ok, onB.Body.String())
		case row.check != nil:
			row.check(t, onB.Body.Bytes())
		}
	}
	mustDeny(t, "no credentials", fx.call(t, route, row, a, ""), http.StatusUnauthorized)
	mustDeny(t, "an invalid key", fx.call(t, route, row, a, "hfk_0123456789ab_forged"), http.StatusUnauthorized)
	mustDeny(t, "a malformed token", fx.call(t, route, row, a, "not-a-key"), http.StatusUnauthorized)
}

// checkAUnchanged checks that none of the denied calls changed A's data.
func checkAUnchanged(t *testing.T, fx *tenancyFixture) {
	t.Helper()
	a := fx.paramsA
	rec := doJSON(t, fx.ts, http.MethodGet, partnerBase("org-a", "ext-a")+"/company/1/subscriber/"+a["subscriber_id"], adminToken, nil)
	mustStatus(t, rec, http.StatusOK)
	if sub := mustDecode[subscriberOut](t, rec.Body.Bytes()); sub.Name != "A's subscriber" || sub.Status != models.StatusActive ||
		sub.Events[0].Reducer["name"] != "$.name" {
		t.Errorf("denied calls changed A's subscriber: %s", rec.Body.String())
	}
	rec = doJSON(t, fx.ts, http.MethodGet, partnerBase("org-a", "ext-a")+"/delivery/"+a["delivery_id"], adminToken, nil)
	mustStatus(t, rec, http.StatusOK)
	if st := mustDecode[struct{ Status string }](t, rec.Body.Bytes()).Status; st != models.DeliveryFailed {
		t.Errorf("denied calls changed A's delivery: status %s", st)
	}
	if id := mustInstallationID(t, fx.ts, "org-a", "ext-a", 1); itoa(id) != a["installation_id"] {
		t.Errorf("denied calls changed A's installation: %d, was %s", id, a["installation_id"])
	}
}

// checkAllowed makes the calls that may act: A's keys on A's path and the admin token.
func checkAllowed(t *testing.T, fx *tenancyFixture, route string, row matrixRow) {
	var who []string
	switch row.kind {
	case kindOpen:
		return
	case kindCommon:
		who = []string{"A", "A ingest", "B", "admin"}
	case kindIngest:
		who = []string{"A ingest", "admin"}
	case kindPlatform:
		who = []string{"A ingest", "admin"}
	case kindAdmin:
		who = []string{"admin"}
	case kindPartner:
		who = []string{"A", "A any ext", "admin"}
	}
	for _, w := range who {
		token := fx.keys[w]
		if w == "admin" {
			token = adminToken
		}
		params := fx.params("org-a", "ext-a")
		switch row.fresh {
		case "installation_id":
			fx.installs++
			ext := "ext-" + itoa(int64(fx.installs))
			MustInstall(t, fx.ts, "org-z", ext, 9)
			params["installation_id"] = itoa(mustInstallationID(t, fx.ts, "org-z", ext, 9))
		case "subscriber_id":
			params["subscriber_id"] = itoa(MustCreateSubscriber(t, fx.ts, "org-a", "ext-a", "to delete"))
		case "delivery_id":
			sub, _ := strconv.ParseInt(fx.paramsA["subscriber_id"], 10, 64)
			event := "evt-" + strings.ReplaceAll(w, " ", "-")
			params["delivery_id"] = itoa(MustCreateDelivery(t, fx.ts.Store, sub, event, models.DeliveryFailed).ID)
		}
		if rec := fx.call(t, route, row, params, token); rec.Code != row.ok {
			t.Errorf("%s: status %d, want %d; %s", w, rec.Code, row.ok, rec.Body.String())
		}
	}
}

// hasResourceID reports whether a route's path names one of a tenant's resources.
func hasResourceID(route string) bool {
	return strings.Contains(route, ":subscriber_id") || strings.Contains(route, ":delivery_id") || strings.Contains(route, ":retry_id")
}
