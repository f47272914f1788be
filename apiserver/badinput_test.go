package apiserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

const (
	ingestPath = "/service/platform/webhook/v1.0/company/1/events"
	okSlug     = "company/product/create/v1"
	okURL      = "https://hooks.example.com/in"
)

// badCase is a request that must be refused with Status and an error naming Field. A
// Field ending in "*" matches every field that starts with the rest.
type badCase struct {
	Name   string
	Body   string
	Status int
	Field  string
}

// mustFieldError checks that rec is the error envelope with status want, and that its
// errors name field.
func mustFieldError(tb testing.TB, rec *httptest.ResponseRecorder, want int, field string) {
	tb.Helper()
	if rec.Code != want {
		tb.Fatalf("status %d, want %d; body %.500s", rec.Code, want, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type %q, want JSON", ct)
	}
	env := mustDecode[struct {
		Success *bool
		Message string
		Errors  []models.FieldError
	}](tb, rec.Body.Bytes())
	if env.Success == nil || *env.Success || env.Message == "" {
		tb.Fatalf("not the error envelope: %.500s", rec.Body.String())
	}
	for _, e := range env.Errors {
		if e.Field == field || strings.HasSuffix(field, "*") && strings.HasPrefix(e.Field, strings.TrimSuffix(field, "*")) {
			if e.Message == "" {
				tb.Errorf("the error of %s has no message", e.Field)
			}
			return
		}
	}
	tb.Errorf("no error names %s: %.500s", field, rec.Body.String())
}

// eventJSON is an event ingestion body of okSlug whose payload is the JSON text p.
func eventJSON(p string) string {
	return `{"event_slug":"` + okSlug + `","payload":` + p + `}`
}

// subscriberJSON is a subscriber body of okSlug with name and webhook_url given as JSON
// text.
func subscriberJSON(name, url string) string {
	return `{"name":` + name + `,"webhook_url":` + url + `,"events":[{"slug":"` + okSlug + `"}]}`
}

func nested(open, leaf, close string, depth int) string {
	return strings.Repeat(open, depth) + leaf + strings.Repeat(close, depth)
}

// startedPayload returns the payload of the event workflow workflowID, as started.
func (e *fakeEngine) startedPayload(workflowID string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	in, ok := e.started[workflowID]
	return string(in.Event.Payload), ok
}

// TestBadInputEvents sends malformed events: each is refused with a 4xx naming the
// field, and no event workflow starts.
func TestBadInputEvents(t *testing.T) {
	big := eventJSON(`{"s":"` + strings.Repeat("a", 20<<20) + `"}`)
	cases := []badCase{
		// Not JSON, or not one object.
		{"Empty", ``, 400, "body"},
		{"Whitespace", " \n\t ", 400, "body"},
		{"Truncated", `{"event_slug":"` + okSlug + `","payload":{"a":`, 400, "payload.a"},
		{"TruncatedString", `{"event_slug":"company/pro`, 400, "event_slug"},
		{"TrailingComma", eventJSON(`{"a":1,}`), 400, "payload"},
		{"SingleQuotes", `{'event_slug':'` + okSlug + `'}`, 400, "body"},
		{"TrailingData", eventJSON(`{}`) + `{}`, 400, "body"},
		{"ByteOrderMark", "\uFEFF" + eventJSON(`{}`), 400, "body"},
		{"Array", `[` + eventJSON(`{}`) + `]`, 400, "body"},
		{"Null", `null`, 400, "body"},
		{"NaN", eventJSON(`{"n":NaN}`), 400, "payload.n"},
		{"Comment", eventJSON(`{/* c */}`), 400, "payload"},

		// Wrong types.
		{"SlugNumber", `{"event_slug":5,"payload":{}}`, 400, "event_slug"},
		{"IDNumber", `{"id":7,"event_slug":"` + okSlug + `","payload":{}}`, 400, "id"},
		{"ApplicationIDObject", `{"application_id":{},"event_slug":"` + okSlug + `","payload":{}}`, 400, "application_id"},
		{"PayloadString", eventJSON(`"{}"`), 400, "payload"},
		{"PayloadArray", eventJSON(`[1]`), 400, "payload"},
		{"PayloadNull", eventJSON(`null`), 400, "payload"},
		{"PayloadMissing", `{"event_slug":"` + okSlug + `"}`, 400, "payload"},

		// Unknown fields. encoding/json alone would take a key that differs from a
		// field only by case for that field.
		{"UnknownField", `{"event_slug":"` + okSlug + `","payload":{},"priority":1}`, 400, "priority"},
		{"EmptyKey", `{"event_slug":"` + okSlug + `","payload":{},"":1}`, 400, `""`},
		{"FieldInOtherCase", `{"Event_Slug":"` + okSlug + `","payload":{}}`, 400, "Event_Slug"},
		{"SameFieldTwiceByCase", `{"event_slug":"` + okSlug + `","payload":{"a":1},"PAYLOAD":{"a":2}}`, 400, "PAYLOAD"},

		// Nesting: the decoder refuses at 64 levels, without recursing 10,000 deep.
		{"DeepArrays", eventJSON(nested("[", "", "]", 10000)), 400, "payload[0]*"},
		{"DeepObjects", eventJSON(nested(`{"a":`, "1", "}", 10000)), 400, "payload.a.a*"},
		{"DeepMixed", eventJSON(nested(`{"a":[`, "1", "]}", 5000)), 400, "payload.a[0]*"},

		// Sizes.
		{"Body20MB", big, 413, "body"},
		{"PayloadOver1MiB", eventJSON(`{"s":"` + strings.Repeat("a", 1<<20) + `"}`), 413, "payload"},
		// 256 KiB as sent, 1.1 MiB in canonical form (1e20 is 21 digits there), the bytes
		// stored and delivered, where the event workflow's limit applies.
		{"PayloadOver1MiBCanonical", eventJSON(`{"a":[` + strings.Repeat("1e20,", 1<<20/20) + `0]}`), 413, "payload"},

		// Text that is not UTF-8.
		{"InvalidUTF8InPayload", eventJSON("{\"s\":\"caf\xe9\"}"), 400, "payload.s"},
		{"InvalidUTF8InPayloadKey", eventJSON("{\"\xff\":1}"), 400, "payload"},
		{"EncodedSurrogateInPayload", eventJSON("{\"s\":\"\xed\xa0\x80\"}"), 400, "payload.s"},
		{"OverlongUTF8InSlug", "{\"event_slug\":\"company/product/create/v1\xc0\xaf\",\"payload\":{}}", 400, "event_slug"},
		{"LoneSurrogateInSlug", `{"event_slug":"company/product/create/v1\ud800","payload":{}}`, 400, "event_slug"},
		// PostgreSQL cannot store NUL in text; the payload is stored as bytes and keeps it.
		{"NULInApplicationID", `{"event_slug":"` + okSlug + `","application_id":"web\u0000","payload":{}}`, 400, "application_id"},

		// Numbers: a number beyond the float64 range would reach receivers as Infinity
		// (JSON.parse), which JSON.stringify prints as null; it is refused rather than
		// changed. (Huge integers within the range are accepted: see
		// TestBadInputEventsAccepted.)
		{"NumberOverflow", eventJSON(`{"n":1e400}`), 400, "payload.n"},
		{"NegativeNumberOverflow", eventJSON(`{"a":[0,-1.5e309]}`), 400, "payload.a[1]"},
		{"LeadingZero", eventJSON(`{"n":012}`), 400, "payload.n"},
		{"PlusSign", eventJSON(`{"n":+1}`), 400, "payload.n"},

		// Empty and blank strings.
		{"SlugEmpty", `{"event_slug":"","payload":{}}`, 400, "event_slug"},
		{"SlugBlank", `{"event_slug":"   ","payload":{}}`, 400, "event_slug"},
		{"SlugPadded", `{"event_slug":" ` + okSlug + ` ","payload":{}}`, 400, "event_slug"},
		{"IDEmpty", `{"id":"","event_slug":"` + okSlug + `","payload":{}}`, 400, "id"},
		{"IDBlank", `{"id":"  ","event_slug":"` + okSlug + `","payload":{}}`, 400, "id"},

		// Duplicate keys: JSON.parse keeps the last value and other parsers the first,
		// so a producer and a receiver would disagree on the event. The error's field
		// is the object that holds the key, and its message names the key.
		{"DuplicateTopLevelKey", `{"event_slug":"` + okSlug + `","event_slug":"company/product/delete/v1","payload":{}}`, 400, "body"},
		{"DuplicatePayloadKey", eventJSON(`{"amount":1,"amount":1000}`), 400, "payload"},
		{"DuplicateNestedKey", eventJSON(`{"order":{"id":1,"id":2}}`), 400, "payload.order"},
		{"DuplicateKeyByEscape", eventJSON(`{"a":1,"\u0061":2}`), 400, "payload"},
	}
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServer(t, db)
		for _, tc := range cases {
			t.Run(tc.Name, func(t *testing.T) {
				rec := doJSON(t, ts, http.MethodPost, ingestPath, adminToken, tc.Body)
				mustFieldError(t, rec, tc.Status, tc.Field)
				if n := ts.Engine.Started(); n != 0 {
					t.Fatalf("%d event workflows started after a refused event", n)
				}
			})
		}
		t.Run("DuplicateKeyNamed", func(t *testing.T) {
			rec := doJSON(t, ts, http.MethodPost, ingestPath, adminToken, eventJSON(`{"amount":1,"amount":1000}`))
			if !strings.Contains(rec.Body.String(), `duplicate key \"amount\"`) {
				t.Errorf("the error does not name the key: %s", rec.Body.String())
			}
		})
		t.Run("ContentType", func(t *testing.T) {
			req := newRequest(t, http.MethodPost, ingestPath, adminToken, eventJSON(`{}`))
			req.Header.Set("Content-Type", "text/plain")
			rec := httptest.NewRecorder()
			ts.ServeHTTP(rec, req)
			mustFieldError(t, rec, 400, "body")
		})
		if n := ts.Engine.Started(); n != 0 {
			t.Fatalf("%d event workflows started after refused events", n)
		}
	})
}

// TestBadInputEventsAccepted covers the unusual events that are accepted, and what they
// become.
func TestBadInputEventsAccepted(t *testing.T) {
	cases := []struct {
		Name    string
		Payload string
		Want    string // the canonical payload started
	}{
		// Payload numbers are IEEE-754 doubles, as receivers' JSON.parse sees them
		// (package payload). An integer beyond 2^53 is accepted and sent as
		// JSON.stringify(JSON.parse(…)) prints it: refusing it would break producers
		// whose receivers only read other fields, and keeping the literal would make
		// the signed body differ from what a receiver recomputes. Producers that need
		// exact large integers send them as strings, as the API document says.
		{"HugeInteger", `{"n":123456789012345678901234567890}`, `{"n":1.2345678901234568e+29}`},
		{"IntegerAbove2To53", `{"n":9007199254740993}`, `{"n":9007199254740992}`},
		{"HugeIntegerAsString", `{"n":"123456789012345678901234567890"}`, `{"n":"123456789012345678901234567890"}`},
		// Underflow rounds to zero, as in JSON.parse; nothing turns into null.
		{"Underflow", `{"n":1e-400}`, `{"n":0}`},
		{"NegativeZero", `{"n":-0}`, `{"n":0}`},
		// A lone surrogate escape is valid JSON and JSON.parse keeps it; the payload
		// keeps it too, escaped again on output.
		{"LoneSurrogateEscape", `{"s":"\ud800"}`, `{"s":"\ud800"}`},
		{"SurrogatePair", `{"s":"\ud83d\ude00"}`, `{"s":"😀"}`},
		{"NUL", `{"s":"a\u0000b"}`, `{"s":"a\u0000b"}`},
		// Keys that differ only by case are different keys.
		{"KeysDifferingByCase", `{"a":1,"A":2}`, `{"a":1,"A":2}`},
		// 62 levels inside the payload (64 with the body and the payload object).
		{"Depth64", nested(`{"a":`, "1", "}", 62), nested(`{"a":`, "1", "}", 62)},
		{"EmptyKey", `{"":1}`, `{"":1}`},
	}
	db := storetest.Databases(t)[0]
	ts := MustNewServer(t, db)
	for i, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			id := "accepted-" + itoa(int64(i))
			rec := doJSON(t, ts, http.MethodPost, ingestPath, adminToken, `{"id":"`+id+`","event_slug":"`+okSlug+`","payload":`+tc.Payload+`}`)
			mustStatus(t, rec, http.StatusAccepted)
			got, ok := ts.Engine.startedPayload("event:1:" + id)
			if !ok {
				t.Fatalf("no workflow started for %s", id)
			}
			if got != tc.Want {
				t.Errorf("payload %s, want %s", got, tc.Want)
			}
		})
	}
	t.Run("IDNull", func(t *testing.T) {
		// null is absent: the event gets an id.
		rec := doJSON(t, ts, http.MethodPost, ingestPath, adminToken, `{"id":null,"event_slug":"`+okSlug+`","payload":{}}`)
		mustStatus(t, rec, http.StatusAccepted)
		if id := mustDecode[struct {
			EventID string `json:"event_id"`
		}](t, rec.Body.Bytes()).EventID; id == "" {
			t.Error("no event id generated")
		}
	})
}

// countSubscribers returns the number of subscribers stored for the tenant o/e.
func countSubscribers(tb testing.TB, ts *testServer) int64 {
	tb.Helper()
	_, total, err := ts.Store.ListSubscribers(context.Background(), models.Tenant{OrganizationID: "o", ExtensionID: "e"},
		store.SubscriberFilter{PageNo: 1, PageSize: 1})
	if err != nil {
		tb.Fatalf("list subscribers: %v", err)
	}
	return total
}

// TestBadInputSubscribers sends malformed subscribers: each is refused with a 4xx
// naming the field, and nothing is stored.
func TestBadInputSubscribers(t *testing.T) {
	const u = `"` + okURL + `"`
	cases := []badCase{
		{"Empty", ``, 400, "body"},
		{"Truncated", `{"name":"n","webhook_url":"https://hooks.exa`, 400, "webhook_url"},
		{"MissingBrace", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}]`, 400, "body"},
		{"Garbage", `name=n&webhook_url=x`, 400, "body"},

		{"NameNumber", subscriberJSON(`5`, u), 400, "name"},
		{"NameNull", subscriberJSON(`null`, u), 400, "name"},
		{"URLArray", subscriberJSON(`"n"`, `["`+okURL+`"]`), 400, "webhook_url"},
		{"EventsObject", `{"name":"n","webhook_url":` + u + `,"events":{"slug":"` + okSlug + `"}}`, 400, "events"},
		{"EventSlugNumber", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":1}]}`, 400, "events[0].slug"},
		{"TimeoutString", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"timeout_ms":"5000"}`, 400, "timeout_ms"},
		{"TimeoutFraction", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"timeout_ms":1500.5}`, 400, "timeout_ms"},
		{"HeaderValueNumber", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-Team":1}}`, 400, "custom_headers.X-Team"},
		{"AuthMetaString", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"auth_meta":"hmac"}`, 400, "auth_meta"},

		{"UnknownField", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"url":"x"}`, 400, "url"},
		{"UnknownNestedField", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"auth_meta":{"key":"x"}}`, 400, "auth_meta.key"},
		{"UnknownEventField", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `","filter":{}}]}`, 400, "events[0].filter"},
		{"FieldInOtherCase", `{"Name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}]}`, 400, "Name"},
		{"URLTwiceByCase", `{"name":"n","webhook_url":` + u + `,"Webhook_URL":"https://10.0.0.1/","events":[{"slug":"` + okSlug + `"}]}`, 400, "Webhook_URL"},

		{"DeepFilter", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `","filters":` + nested("[", "", "]", 10000) + `}]}`, 400, "events[0].filters*"},
		{"DeepUnknown", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"x":` + nested(`{"a":`, "1", "}", 10000) + `}`, 400, "x*"},
		{"Body20MB", subscriberJSON(`"`+strings.Repeat("n", 20<<20)+`"`, u), 413, "body"},

		{"InvalidUTF8InName", subscriberJSON("\"caf\xc3\x28\"", u), 400, "name"},
		{"LoneSurrogateInName", subscriberJSON(`"bad \udc00 name"`, u), 400, "name"},
		{"LoneSurrogateInHeader", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-Team":"\ud800"}}`, 400, "custom_headers.X-Team"},
		{"NULInName", subscriberJSON(`"a\u0000b"`, u), 400, "name"},
		{"NULInEmail", `{"name":"n","webhook_url":` + u + `,"email_id":"ops\u0000@example.com","events":[{"slug":"` + okSlug + `"}]}`, 400, "email_id"},
		{"LoneSurrogateInHeaderName", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-\ud800":"a"}}`, 400, "custom_headers.*"},

		{"TimeoutOverflow", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"timeout_ms":1e400}`, 400, "timeout_ms"},
		{"TimeoutHuge", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"timeout_ms":123456789012345678901234567890}`, 400, "timeout_ms"},
		{"TimeoutNegative", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"timeout_ms":-1}`, 400, "timeout_ms"},

		{"NameEmpty", subscriberJSON(`""`, u), 400, "name"},
		{"NameBlank", subscriberJSON(`" \t\n "`, u), 400, "name"},
		{"NameMissing", `{"webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}]}`, 400, "name"},
		{"URLEmpty", subscriberJSON(`"n"`, `""`), 400, "webhook_url"},
		{"URLBlank", subscriberJSON(`"n"`, `"   "`), 400, "webhook_url"},
		{"URLMissing", `{"name":"n","events":[{"slug":"` + okSlug + `"}]}`, 400, "webhook_url"},
		{"EventSlugEmpty", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":""}]}`, 400, "events[0].slug"},
		{"EventSlugBlank", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"  "}]}`, 400, "events[0].slug"},
		{"EventsEmpty", `{"name":"n","webhook_url":` + u + `,"events":[]}`, 400, "events"},

		{"DuplicateTopLevelKey", `{"name":"n","webhook_url":` + u + `,"webhook_url":"https://10.0.0.1/","events":[{"slug":"` + okSlug + `"}]}`, 400, "body"},
		{"DuplicateHeader", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-A":"1","X-A":"2"}}`, 400, "custom_headers"},
		{"HeaderValueControlChar", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-Team":"a\u0001b"}}`, 400, "custom_headers.X-Team"},
		{"HeaderValueDEL", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-Team":"a\u007fb"}}`, 400, "custom_headers.X-Team"},
		{"HeaderValueEscape", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-Team":"\u001b[31m"}}`, 400, "custom_headers.X-Team"},
		{"HeaderValueLeadingSpace", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-Team":" a"}}`, 400, "custom_headers.X-Team"},
		{"HeaderValueTrailingTab", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-Team":"a\t"}}`, 400, "custom_headers.X-Team"},
		{"HeaderNamesDifferingByCase", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"custom_headers":{"X-Team":"1","x-team":"2"}}`, 400, "custom_headers.x-team"},
		{"DuplicateInFilter", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `","filters":{"query":"$.a","query":"$.b"}}]}`, 400, "events[0].filters"},

		{"RateLimitZero", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":0}`, 400, "rate_limit"},
		{"RateLimitNegative", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":-2}`, 400, "rate_limit"},
		{"RateLimitAbsurd", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":10001}`, 400, "rate_limit"},
		{"RateLimitTiny", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":0.0000001}`, 400, "rate_limit"},
		{"RateLimitString", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":"5"}`, 400, "rate_limit"},
		{"RateLimitBool", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":true}`, 400, "rate_limit"},
		{"RateLimitOverflow", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":1e400}`, 400, "rate_limit"},
		{"BurstZero", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":5,"rate_limit_burst":0}`, 400, "rate_limit_burst"},
		{"BurstFraction", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":5,"rate_limit_burst":1.5}`, 400, "rate_limit_burst"},
		{"BurstHuge", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit":5,"rate_limit_burst":20000}`, 400, "rate_limit_burst"},
		{"BurstWithoutRate", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"rate_limit_burst":3}`, 400, "rate_limit_burst"},
		{"MaxInFlightZero", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"max_in_flight":0}`, 400, "max_in_flight"},
		{"MaxInFlightNegative", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"max_in_flight":-1}`, 400, "max_in_flight"},
		{"MaxInFlightFraction", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"max_in_flight":2.5}`, 400, "max_in_flight"},
		{"MaxInFlightString", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"max_in_flight":"2"}`, 400, "max_in_flight"},
		{"MaxInFlightHuge", `{"name":"n","webhook_url":` + u + `,"events":[{"slug":"` + okSlug + `"}],"max_in_flight":5000}`, 400, "max_in_flight"},
	}
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServerWith(t, db, func(cfg *apiserver.Config, _ *apiserver.Deps) {
			cfg.Network = models.NetworkPolicy{RequireHTTPS: true}
		})
		MustInstall(t, ts, "o", "e", 1)
		path := partnerBase("o", "e") + "/company/1/subscriber"
		for _, tc := range cases {
			t.Run(tc.Name, func(t *testing.T) {
				rec := doJSON(t, ts, http.MethodPost, path, adminToken, tc.Body)
				mustFieldError(t, rec, tc.Status, tc.Field)
				if n := countSubscribers(t, ts); n != 0 {
					t.Fatalf("%d subscribers stored after a refused one", n)
				}
			})
		}

		t.Run("UpdateKeepsStored", func(t *testing.T) {
			rec := doJSON(t, ts, http.MethodPost, path, adminToken, subscriberJSON(`"kept"`, u))
			mustStatus(t, rec, http.StatusCreated)
			item := partnerBase("o", "e") + "/company/1/subscriber/" + itoa(idOf(t, rec.Body.Bytes(), "id"))
			before := doJSON(t, ts, http.MethodGet, item, adminToken, nil).Body.String()
			for _, body := range []string{
				`{"name":"changed","webhook_url":"https://127.0.0.1/"}`,
				`{"name":"changed","webhook_url":"` + okURL + `","Name":"x"}`,
				`{"name":"changed","name":"again"}`,
				`{"name":"\ud800"}`,
				`{"name":"   "}`,
				`{"rate_limit":0}`,
				`{"max_in_flight":0.5}`,
			} {
				rec := doJSON(t, ts, http.MethodPut, item, adminToken, body)
				if rec.Code != http.StatusBadRequest {
					t.Errorf("PUT %s: status %d, want 400; body %s", body, rec.Code, rec.Body.String())
				}
			}
			if after := doJSON(t, ts, http.MethodGet, item, adminToken, nil).Body.String(); after != before {
				t.Errorf("a refused update changed the subscriber:\nbefore %s\nafter  %s", before, after)
			}
		})
	})
}

// TestBadInputWebhookURLs checks webhook URLs against the deployment's network policy:
// production (the default of `hookflow api` and `worker`: https only, public addresses
// only) and dev (HOOKFLOW_ALLOW_LOOPBACK and HOOKFLOW_ALLOW_PRIVATE_NETWORKS, plain
// http allowed). A URL is checked when it is saved, for its scheme, form and IP-literal
// host; a host name is checked again at dial time, after DNS, by the webhook client, so
// a name that resolves to an internal address is refused there.
func TestBadInputWebhookURLs(t *testing.T) {
	cases := []struct {
		URL       string
		Prod, Dev bool // accepted under each policy
	}{
		{okURL, true, true},
		{"http://hooks.example.com/in", false, true},
		// Public IPv6 literals are accepted. 2001:db8::/32 is the documentation prefix:
		// not routable, but not internal either, so the guard has nothing against it;
		// deliveries to it fail like those to any unreachable host.
		{"https://[2001:db8::1]/in", true, true},
		{"https://[2606:4700:4700::1111]:8443/in", true, true},

		// Other schemes.
		{"ftp://hooks.example.com/in", false, false},
		{"javascript:alert(1)", false, false},
		{"file:///etc/passwd", false, false},
		{"data:text/plain,hello", false, false},
		{"ws://hooks.example.com/in", false, false},
		{"//hooks.example.com/in", false, false},
		{"hooks.example.com/in", false, false},

		// Credentials belong in custom_headers, where they are not shown in URLs.
		{"https://user:pass@hooks.example.com/in", false, false},
		{"https://user@hooks.example.com/in", false, false},
		{"https://:pass@hooks.example.com/in", false, false},

		// Malformed.
		{"https://hooks.example.com/in#part", false, false},
		{"https://hooks.example.com:99999/in", false, false},
		{"https:///in", false, false},
		{" https://hooks.example.com/in", false, false},
		{"https://hooks.example.com/in\n", false, false},
		{"https://hooks example.com/in", false, false},
		{"https://" + strings.Repeat("a", 2100) + ".example.com/", false, false},

		// Internal destinations: allowed only where the deployment allows them.
		{"https://127.0.0.1/in", false, true},
		{"https://127.1.2.3:8080/in", false, true},
		{"https://localhost/in", false, true},
		{"https://LOCALHOST./in", false, true},
		{"https://api.localhost/in", false, true},
		{"https://[::1]/in", false, true},
		{"https://[::ffff:127.0.0.1]/in", false, true},
		{"https://[64:ff9b::7f00:1]/in", false, true},
		{"https://10.0.0.1/in", false, true},
		{"https://192.168.1.20/in", false, true},
		{"https://100.64.0.1/in", false, true},
		{"https://[fd00::1]/in", false, true},
		{"https://[fe80::1]/in", false, true},

		// Refused under every policy: cloud metadata endpoints hand out credentials,
		// and the others are not destinations.
		{"https://169.254.169.254/latest/meta-data/", false, false},
		{"https://[::ffff:169.254.169.254]/", false, false},
		{"https://[fd00:ec2::254]/", false, false},
		{"https://100.100.100.200/", false, false},
		{"https://0.0.0.0/in", false, false},
		{"https://[::]/in", false, false},
		{"https://224.0.0.1/in", false, false},
		{"https://255.255.255.255/in", false, false},
		{"https://[fe80::1%25eth0]/in", false, false},
	}
	policies := []struct {
		Name   string
		Policy models.NetworkPolicy
		Want   func(prod, dev bool) bool
	}{
		{"Production", models.NetworkPolicy{RequireHTTPS: true}, func(prod, _ bool) bool { return prod }},
		{"Dev", models.NetworkPolicy{AllowLoopback: true, AllowPrivate: true}, func(_, dev bool) bool { return dev }},
	}
	for _, p := range policies {
		t.Run(p.Name, func(t *testing.T) {
			db := storetest.Databases(t)[0]
			ts := MustNewServerWith(t, db, func(cfg *apiserver.Config, _ *apiserver.Deps) { cfg.Network = p.Policy })
			MustInstall(t, ts, "o", "e", 1)
			path := partnerBase("o", "e") + "/company/1/subscriber"
			var stored int64
			for _, tc := range cases {
				t.Run(tc.URL, func(t *testing.T) {
					body := map[string]any{"name": "n", "webhook_url": tc.URL, "events": []map[string]string{{"slug": okSlug}}}
					rec := doJSON(t, ts, http.MethodPost, path, adminToken, body)
					if p.Want(tc.Prod, tc.Dev) {
						mustStatus(t, rec, http.StatusCreated)
						stored++
					} else {
						mustFieldError(t, rec, 400, "webhook_url")
					}
					if n := countSubscribers(t, ts); n != stored {
						t.Fatalf("%d subscribers stored, want %d", n, stored)
					}
				})
			}
		})
	}
}

// TestBadInputParams sends path parameters, query values and credentials that are not
// text: they are refused before they reach the database, which would fail on them
// (PostgreSQL refuses NUL and invalid UTF-8).
func TestBadInputParams(t *testing.T) {
	cases := []struct {
		Name, Method, Path string
		Body               string
		Status             int
		Field              string
	}{
		{"OrganizationNUL", "GET", partnerBase("a%00b", "e") + "/subscriber", "", 400, "organization_id"},
		{"OrganizationNotUTF8", "GET", partnerBase("a%FFb", "e") + "/subscriber", "", 400, "organization_id"},
		{"ExtensionNUL", "GET", partnerBase("o", "%00") + "/report/queue", "", 400, "extension_id"},
		{"SearchNUL", "GET", partnerBase("o", "e") + "/subscriber?search=a%00", "", 400, "search"},
		{"SearchNotUTF8", "GET", partnerBase("o", "e") + "/subscriber?search=%C3%28", "", 400, "search"},
		{"QueryNameNotUTF8", "GET", partnerBase("o", "e") + "/subscriber?%FF=1", "", 400, "query"},
		{"KeysOrganizationNUL", "GET", "/service/admin/webhook/v1.0/api_keys?organization_id=%00", "", 400, "organization_id"},
		{"KeyOrganizationNUL", "POST", "/service/admin/webhook/v1.0/api_keys", `{"organization_id":"o\u0000"}`, 400, "organization_id"},
		{"KeyNameNUL", "POST", "/service/admin/webhook/v1.0/api_keys", `{"organization_id":"o","name":"\u0000"}`, 400, "name"},
		{"SubscriberPathNUL", "POST", partnerBase("o%00", "e") + "/company/1/subscriber", subscriberJSON(`"n"`, `"`+okURL+`"`), 400, "organization_id"},
	}
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServer(t, db)
		for _, tc := range cases {
			t.Run(tc.Name, func(t *testing.T) {
				var body any
				if tc.Body != "" {
					body = tc.Body
				}
				mustFieldError(t, doJSON(t, ts, tc.Method, tc.Path, adminToken, body), tc.Status, tc.Field)
			})
		}
		t.Run("TokenNotUTF8", func(t *testing.T) {
			// Go's HTTP server passes bytes above 0x7F in header values through.
			for _, token := range []string{"hfk_\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff_x", "hfk_\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00_x"} {
				rec := doJSON(t, ts, http.MethodGet, "/service/common/webhook/v1.0/me", token, nil)
				mustStatus(t, rec, http.StatusUnauthorized)
			}
		})
		keys, err := ts.Store.ListAPIKeys(context.Background(), "")
		if err != nil {
			t.Fatalf("list API keys: %v", err)
		}
		if n := countSubscribers(t, ts); n != 0 || len(keys) != 0 {
			t.Errorf("%d subscribers and %d API keys stored after refused requests", n, len(keys))
		}
	})
}

// TestSubscriberFlowLimits: the limits round-trip, null removes them, an absent field
// keeps them, and the effective rate shows the configured one.
func TestSubscriberFlowLimits(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServer(t, db)
		MustInstall(t, ts, "o", "e", 1)
		path := partnerBase("o", "e") + "/company/1/subscriber"
		type limits struct {
			RateLimit          *float64 `json:"rate_limit"`
			RateLimitBurst     *int     `json:"rate_limit_burst"`
			MaxInFlight        *int     `json:"max_in_flight"`
			EffectiveRateLimit *float64 `json:"effective_rate_limit"`
		}
		show := func(l limits) string {
			f := func(p *float64) string {
				if p == nil {
					return "null"
				}
				return strconv.FormatFloat(*p, 'g', -1, 64)
			}
			i := func(p *int) string {
				if p == nil {
					return "null"
				}
				return strconv.Itoa(*p)
			}
			return f(l.RateLimit) + "/" + i(l.RateLimitBurst) + "/" + i(l.MaxInFlight) + "/" + f(l.EffectiveRateLimit)
		}
		rec := doJSON(t, ts, http.MethodPost, path, adminToken,
			`{"name":"n","webhook_url":"`+okURL+`","events":[{"slug":"`+okSlug+`"}],"rate_limit":2.5,"rate_limit_burst":4,"max_in_flight":3}`)
		mustStatus(t, rec, http.StatusCreated)
		if got := show(mustDecode[limits](t, rec.Body.Bytes())); got != "2.5/4/3/2.5" {
			t.Errorf("created: %s, want 2.5/4/3/2.5", got)
		}
		item := path + "/" + itoa(idOf(t, rec.Body.Bytes(), "id"))
		for _, step := range []struct{ body, want string }{
			{`{"name":"renamed"}`, "2.5/4/3/2.5"},                      // absent: kept
			{`{"rate_limit":0.5}`, "0.5/4/3/0.5"},                      // the burst stays
			{`{"max_in_flight":null}`, "0.5/4/null/0.5"},               // removed
			{`{"rate_limit":null}`, "null/null/null/null"},             // the burst goes with the rate
			{`{"rate_limit":7,"rate_limit_burst":null}`, "7/1/null/7"}, // the default burst
		} {
			rec := doJSON(t, ts, http.MethodPut, item, adminToken, step.body)
			mustStatus(t, rec, http.StatusOK)
			if got := show(mustDecode[limits](t, rec.Body.Bytes())); got != step.want {
				t.Errorf("PUT %s: %s, want %s", step.body, got, step.want)
			}
			if got := show(mustDecode[limits](t, doJSON(t, ts, http.MethodGet, item, adminToken, nil).Body.Bytes())); got != step.want {
				t.Errorf("GET after PUT %s: %s, want %s", step.body, got, step.want)
			}
		}
	})
}
