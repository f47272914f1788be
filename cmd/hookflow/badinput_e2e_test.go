package main_test

import (
	"testing"

	"github.com/hookflow/hookflow/store/storetest"
)

// errorEnvelope is the JSON error every endpoint answers with.
type errorEnvelope struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	Errors  []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (e errorEnvelope) hasField(f string) bool {
	for _, x := range e.Errors {
		if x.Field == f {
			return true
		}
	}
	return false
}

func TestBadInputIsRefused(t *testing.T) {
	s := startStack(t, storetest.Databases(t)[0], nil)
	const events = "/service/platform/webhook/v1.0/company/1/events"
	const subs = partnerBase + "/company/1/subscriber"
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"MalformedJSON", "POST", events, `not json`, 400, "body"},
		{"TruncatedJSON", "POST", events, `{"event_slug": "company/product/create/v1", "payload": {`, 400, "payload"},
		{"MissingSlug", "POST", events, `{"id":"x1","payload":{"a":1}}`, 400, "event_slug"},
		{"PayloadNotObject", "POST", events, `{"event_slug":"company/product/create/v1","payload":[1,2]}`, 400, "payload"},
		{"PayloadString", "POST", events, `{"event_slug":"company/product/create/v1","payload":"x"}`, 400, "payload"},
		{"UnknownSlug", "POST", events, `{"event_slug":"company/nothing/here/v1","payload":{}}`, 422, "event_slug"},
		{"BadEventID", "POST", events, `{"id":"has space","event_slug":"company/product/create/v1","payload":{}}`, 400, "id"},
		{"UnknownField", "POST", events, `{"event_slug":"company/product/create/v1","payload":{},"extra":1}`, 400, "extra"},
		{"WrongType", "POST", events, `{"event_slug":5,"payload":{}}`, 400, "event_slug"},
		{"BadCompany", "POST", "/service/platform/webhook/v1.0/company/abc/events", `{}`, 400, "company_id"},
		{"InvalidURL", "POST", subs, subscriberBody("not a url", "secret-123456", "company/product/create/v1"), 400, "webhook_url"},
		{"FTPURL", "POST", subs, subscriberBody("ftp://example.com/x", "secret-123456", "company/product/create/v1"), 400, "webhook_url"},
		{"UnknownEvent", "POST", subs, subscriberBody("https://example.com/x", "secret-123456", "company/nothing/here/v1"), 422, "events[0].slug"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e errorEnvelope
			code := s.call(tc.method, tc.path, tc.body, &e)
			if code != tc.status || e.Success || e.Message == "" || !e.hasField(tc.field) {
				t.Fatalf("got %d %+v, want %d naming %q", code, e, tc.status, tc.field)
			}
		})
	}

	t.Run("NoCredentials", func(t *testing.T) {
		var e errorEnvelope
		if code := callAPI(t, s.APIURL(), "", "GET", "/service/common/webhook/v1.0/events", nil, &e); code != 401 || e.Message == "" {
			t.Fatalf("got %d %+v, want 401 with a message", code, e)
		}
	})
	t.Run("NothingStored", func(t *testing.T) {
		var list map[string]any
		// No subscriber was created by the refused requests.
		if code := s.call("GET", partnerBase+"/company/1/subscriber/1", nil, &list); code != 404 {
			t.Fatalf("subscriber 1 exists after refused creations: %d %v", code, list)
		}
	})
}
