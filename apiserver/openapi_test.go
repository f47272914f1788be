package apiserver_test

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"gopkg.in/yaml.v3"

	"github.com/hookflow/hookflow/store/storetest"
)

// apiDocument is the OpenAPI document as the server serves it, loaded and validated.
type apiDocument struct {
	Doc    *openapi3.T
	Router routers.Router
}

var registerHTMLDecoder sync.Once

// MustLoadDocument fetches GET /openapi.json from h, checks that it is a valid OpenAPI
// 3.1 document, and builds a router over it.
func MustLoadDocument(tb testing.TB, h http.Handler) apiDocument {
	tb.Helper()
	// kin-openapi decodes the bodies it validates; /docs answers HTML, which it reads as
	// text like text/plain.
	registerHTMLDecoder.Do(func() { openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder) })
	rec := doJSON(tb, h, http.MethodGet, "/openapi.json", "", nil)
	mustStatus(tb, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("GET /openapi.json: Content-Type %q", ct)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rec.Body.Bytes())
	if err != nil {
		tb.Fatalf("load the document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		tb.Fatalf("the document is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		tb.Fatalf("the document is not valid: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		tb.Fatalf("route the document: %v", err)
	}
	return apiDocument{Doc: doc, Router: router}
}

// operations lists the document's operations as "METHOD /path".
func (d apiDocument) operations() []string {
	var out []string
	for path, item := range d.Doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIDocumentMatchesRoutes holds the document to the router both ways: every
// route Gin serves (but the dashboard's pages under /admin) is documented with the same
// method and path, and every documented operation is served.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	ts := MustNewServer(t, storetest.Databases(t)[0])
	doc := MustLoadDocument(t, ts)

	served := map[string]bool{}
	for _, r := range ts.Routes() {
		if isDashboardRoute(r.Path) {
			continue
		}
		served[r.Method+" "+ginToOpenAPI(r.Path)] = true
	}
	documented := map[string]bool{}
	for _, op := range doc.operations() {
		documented[op] = true
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("route %s is not in openapi.yaml", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("openapi.yaml documents %s, which the server does not serve", op)
		}
	}
	if len(served) < 30 {
		t.Errorf("only %d routes: is Routes() complete?", len(served))
	}
}

// TestOpenAPIDocumentOperations checks what every operation must say: an id, a summary,
// its path parameters, a 2xx answer, the error envelope for every error status, and
// whether it needs credentials (and so answers 401 and 429).
func TestOpenAPIDocumentOperations(t *testing.T) {
	ts := MustNewServer(t, storetest.Databases(t)[0])
	doc := MustLoadDocument(t, ts)
	open := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/openapi.json": true, "/docs": true}
	ids := map[string]string{}
	for path, item := range doc.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" || op.Description == "" {
				t.Errorf("%s: operationId, summary and description are required", name)
			}
			if other, ok := ids[op.OperationID]; ok {
				t.Errorf("%s: operationId %s is also %s's", name, op.OperationID, other)
			}
			ids[op.OperationID] = name
			params := map[string]*openapi3.Parameter{}
			for _, p := range append(item.Parameters, op.Parameters...) {
				params[p.Value.In+":"+p.Value.Name] = p.Value
			}
			for _, seg := range strings.Split(path, "/") {
				if param := strings.Trim(seg, "{}"); param != seg {
					if p := params["path:"+param]; p == nil || !p.Required || p.Schema == nil {
						t.Errorf("%s: path parameter %s is not documented as required with a schema", name, seg)
					}
				}
			}
			isOpen := op.Security != nil && len(*op.Security) == 0
			if isOpen != open[path] {
				t.Errorf("%s: open (security: []) is %v, want %v", name, isOpen, open[path])
			}
			var ok2xx bool
			for code, resp := range op.Responses.Map() {
				if strings.HasPrefix(code, "2") {
					ok2xx = true
				}
				isError := code == "default" || code[0] == '4' || code[0] == '5'
				if isError && path != "/readyz" {
					if mt := resp.Value.Content.Get("application/json"); mt == nil || mt.Schema.Ref != "#/components/schemas/Error" {
						t.Errorf("%s: response %s is not the error envelope", name, code)
					}
				}
			}
			if !ok2xx {
				t.Errorf("%s: no 2xx response", name)
			}
			if !open[path] && op.Responses.Status(http.StatusUnauthorized) == nil {
				t.Errorf("%s: needs credentials but does not document 401", name)
			}
			if !open[path] && op.Responses.Status(http.StatusBadRequest) == nil {
				t.Errorf("%s: needs credentials, so it refuses path and query values that are not text, but does not document 400", name)
			}
			if !open[path] && op.Responses.Status(http.StatusTooManyRequests) == nil {
				t.Errorf("%s: needs credentials, so it is rate limited, but does not document 429", name)
			}
			if strings.HasPrefix(path, "/service/partner/") && op.Responses.Status(http.StatusNotFound) == nil {
				t.Errorf("%s: partner operations answer 404 for other tenants; document it", name)
			}
		}
	}
}

// TestOpenAPIServedMatchesYAML checks that GET /openapi.json is openapi.yaml, key for
// key and in the same order.
func TestOpenAPIServedMatchesYAML(t *testing.T) {
	ts := MustNewServer(t, storetest.Databases(t)[0])
	rec := doJSON(t, ts, http.MethodGet, "/openapi.json", "", nil)
	mustStatus(t, rec, http.StatusOK)
	src, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var fromYAML any
	if err := yaml.Unmarshal(src, &fromYAML); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	// Round-trip through encoding/json so that both sides have JSON's types.
	roundTrip, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	want := mustDecode[any](t, roundTrip)
	got := mustDecode[any](t, rec.Body.Bytes())
	if !reflect.DeepEqual(got, want) {
		t.Fatal("GET /openapi.json differs from openapi.yaml")
	}
	// The served document keeps the YAML's order (the page shows fields in it).
	body := rec.Body.String()
	if a, b := strings.Index(body, `"/healthz"`), strings.Index(body, `"/service/platform/`); a < 0 || b < 0 || a > b {
		t.Error("GET /openapi.json does not keep the order of openapi.yaml")
	}
}

// TestDocsPage checks that GET /docs is a self-contained page: the document inside it,
// no resource from the network, and a policy that forbids loading any.
func TestDocsPage(t *testing.T) {
	ts := MustNewServer(t, storetest.Databases(t)[0])
	rec := doJSON(t, ts, http.MethodGet, "/docs", "", nil)
	mustStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "connect-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	page := rec.Body.String()
	for _, bad := range []string{`src="http`, `href="http`, "@import", "url(http", "/*OPENAPI_JSON*/"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	start := strings.Index(page, `<script id="openapi" type="application/json">`)
	end := strings.Index(page[max(start, 0):], "</script>")
	if start < 0 || end < 0 {
		t.Fatal("the page does not embed the document")
	}
	embedded := page[start+len(`<script id="openapi" type="application/json">`) : start+end]
	spec := doJSON(t, ts, http.MethodGet, "/openapi.json", "", nil).Body.String()
	if embedded != spec {
		t.Error("the page does not embed GET /openapi.json as is")
	}
}
