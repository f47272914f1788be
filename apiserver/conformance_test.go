package apiserver_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/hookflow/hookflow/store/storetest"
)

// TestConformance drives every operation of the document through the real server and
// validates each request it sends (unless the request breaks the document on purpose)
// and each answer it gets, successes and errors alike, against the document's schemas.
// It fails when an operation, or one of its documented 2xx answers, is never exercised.
func TestConformance(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServer(t, db)
		c := &conformer{ts: ts, doc: MustLoadDocument(t, ts), seen: map[string]map[int]bool{}}
		fx := &conformFixture{org: "org-c", ext: "ext-c"}
		fx.base = partnerBase(fx.org, fx.ext)
		groups := []struct {
			name string
			run  func(*testing.T, *conformer, *conformFixture)
		}{
			{"operations", conformOperations},
			{"keys and catalogue", conformKeysAndCatalogue},
			{"events", conformEvents},
			{"installations", conformInstallations},
			{"subscribers", conformSubscribers},
			{"subscriber status and ping", conformSubscriberStatus},
			{"filters and reducers", conformTransforms},
			{"redelivery", conformRedelivery},
			{"deliveries", conformDeliveries},
			{"reports", conformReports},
		}
		for _, g := range groups {
			if !t.Run(g.name, func(t *testing.T) { g.run(t, c, fx) }) {
				// Later groups build on earlier ones' data.
				t.FailNow()
			}
		}
		c.checkCoverage(t)
	})
}

// conformFixture carries what the groups of TestConformance create for the later ones.
type conformFixture struct {
	org, ext, base string
	partnerKey     string
	ingestKey      string
	subscriberID   int64
}

func (fx *conformFixture) sub(id int64) string {
	return fx.base + "/company/1/subscriber/" + strconv.FormatInt(id, 10)
}

// conformer sends requests to a server and holds them and its answers to the document.
type conformer struct {
	ts   *testServer
	doc  apiDocument
	seen map[string]map[int]bool // "METHOD /path" → statuses answered
}

// call is one request of TestConformance.
type call struct {
	Method string
	Path   string // with the query, if any
	Token  string // "" sends no credentials
	Body   any    // see doJSON
	// ContentType replaces application/json for a request with a body.
	ContentType string
	// Want is the status the answer must have.
	Want int
	// Invalid marks a request that breaks the document on purpose, to get an error: it is
	// not validated (its answer is).
	Invalid bool
	// Field is a field that the error envelope's errors must name.
	Field string
}

// requireBearer is the document's security scheme: a bearer token must be sent.
func requireBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

// do sends in and returns the answer, failing the test when the request (unless
// Invalid) or the answer does not match the document, or the status is not in.Want.
func (c *conformer) do(t *testing.T, in call) *httptest.ResponseRecorder {
	t.Helper()
	var body []byte
	if in.Body != nil {
		body = bodyBytes(t, in.Body)
	}
	newReq := func() *http.Request {
		var rd io.Reader
		if in.Body != nil {
			rd = bytes.NewReader(body)
		}
		req := httptest.NewRequest(in.Method, in.Path, rd)
		if in.Body != nil {
			req.Header.Set("Content-Type", cmp.Or(in.ContentType, "application/json"))
		}
		if in.Token != "" {
			req.Header.Set("Authorization", "Bearer "+in.Token)
		}
		return req
	}
	name := in.Method + " " + in.Path
	req := newReq()
	route, params, err := c.doc.Router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s is not in the document: %v", name, err)
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: requireBearer, MultiError: true}}
	ctx := context.Background()
	if !in.Invalid {
		if err := openapi3filter.ValidateRequest(ctx, reqIn); err != nil {
			t.Errorf("%s: the request does not match the document: %v", name, err)
		}
	}
	rec := httptest.NewRecorder()
	c.ts.ServeHTTP(rec, newReq())

	op := route.Method + " " + route.Path
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][rec.Code] = true
	if in.Want != 0 && rec.Code != in.Want {
		t.Errorf("%s: status %d, want %d; body %.400s", name, rec.Code, in.Want, rec.Body.String())
	}
	if route.Operation.Responses.Status(rec.Code) == nil {
		t.Errorf("%s: status %d is not documented for %s", name, rec.Code, op)
	}
	respIn := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: rec.Code, Header: rec.Header(),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	respIn.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(ctx, respIn); err != nil {
		t.Errorf("%s: the %d answer does not match the document: %v\nbody: %.600s", name, rec.Code, err, rec.Body.String())
	}
	c.checkErrorFields(t, name, rec, in.Field)
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && in.Path != "/openapi.json" {
		checkTimesUTC(t, name, mustDecode[any](t, rec.Body.Bytes()))
	}
	return rec
}

// checkTimesUTC checks the document's promise that times are RFC 3339 in UTC.
func checkTimesUTC(t *testing.T, name string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			checkTimesUTC(t, name, e)
		}
	case []any:
		for _, e := range v {
			checkTimesUTC(t, name, e)
		}
	case string:
		if _, err := time.Parse(time.RFC3339Nano, v); err == nil && !strings.HasSuffix(v, "Z") {
			t.Errorf("%s: time %s is not in UTC", name, v)
		}
	}
}

// checkErrorFields checks that answers about input (400, 413, 422) name the fields at
// fault, and that field, when given, is one of them.
func (c *conformer) checkErrorFields(t *testing.T, name string, rec *httptest.ResponseRecorder, field string) {
	t.Helper()
	if rec.Code < 400 {
		if field != "" {
			t.Errorf("%s: succeeded (%d), want an error naming %s", name, rec.Code, field)
		}
		return
	}
	env := mustDecode[struct {
		Errors []struct{ Field, Message string }
	}](t, rec.Body.Bytes())
	var fields []string
	for _, e := range env.Errors {
		fields = append(fields, e.Field)
	}
	switch {
	case (rec.Code == http.StatusBadRequest || rec.Code == http.StatusRequestEntityTooLarge ||
		rec.Code == http.StatusUnprocessableEntity) && len(fields) == 0:
		t.Errorf("%s: %d names no field: %s", name, rec.Code, rec.Body.String())
	case field != "" && !slices.ContainsFunc(fields, func(f string) bool { return f == field || strings.HasPrefix(f, field+".") }):
		t.Errorf("%s: errors name %v, want %s", name, fields, field)
	}
}

// checkCoverage fails for every documented operation, and every documented 2xx answer,
// that was never exercised, and for error statuses the API has but no request got.
func (c *conformer) checkCoverage(t *testing.T) {
	t.Helper()
	all := map[int]bool{}
	for _, op := range c.doc.operations() {
		method, path, _ := strings.Cut(op, " ")
		seen := c.seen[op]
		if len(seen) == 0 {
			t.Errorf("%s was never exercised", op)
			continue
		}
		for code := range seen {
			all[code] = true
		}
		var untested []string
		for code := range c.doc.Doc.Paths.Value(path).GetOperation(method).Responses.Map() {
			n, err := strconv.Atoi(code)
			switch {
			case err != nil || seen[n]:
			case code[0] == '2':
				t.Errorf("%s: the documented %s answer was never exercised", op, code)
			default:
				untested = append(untested, code)
			}
		}
		if len(untested) > 0 {
			slices.Sort(untested)
			t.Logf("%s: documented but not exercised here: %v", op, untested)
		}
	}
	for _, code := range []int{400, 401, 403, 404, 409, 413, 422, 503} {
		if !all[code] {
			t.Errorf("no request got a %d", code)
		}
	}
}

// rangeQuery is a report range around now.
func rangeQuery(before, after time.Duration) string {
	now := time.Now().UTC().Truncate(time.Second)
	return "start_date=" + now.Add(-before).Format(time.RFC3339) + "&end_date=" + now.Add(after).Format(time.RFC3339)
}

// bigBody is a JSON object of about n bytes.
func bigBody(n int) map[string]string {
	return map[string]string{"name": strings.Repeat("a", n)}
}
