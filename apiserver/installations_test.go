package apiserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestSubscribeNeedsInstallation: an organization's partner key cannot subscribe to a
// company that has not installed its extension (403 saying why and what to do), nor can
// the admin token; once installed it can, and an uninstall refuses further updates.
func TestSubscribeNeedsInstallation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServer(t, db)
		MustInstall(t, ts, "org-a", "ext-a", 1)
		partnerB := MustCreateAPIKey(t, ts, "org-b", "ext-b", models.ScopePartner)
		create := partnerBase("org-b", "ext-b") + "/company/1/subscriber"
		for who, token := range map[string]string{"B's partner key": partnerB, "the admin token": adminToken} {
			rec := doJSON(t, ts, http.MethodPost, create, token, subscriberBody("into A's company", ts.Receiver.URL+"/hook"))
			mustDeny(t, who, rec, http.StatusForbidden)
			if msg := rec.Body.String(); !strings.Contains(msg, "company 1 has not installed extension ext-b of organization org-b") ||
				!strings.Contains(msg, "; install it first (POST /service/platform/webhook/v1.0/installation with the admin token or a platform key, or hookflow installation create)") {
				t.Errorf("%s: the 403 does not say why and how to fix it: %s", who, msg)
			}
		}
		if n := countSubscribers(t, ts); n != 0 {
			t.Fatalf("%d subscribers stored after refused subscriptions", n)
		}

		MustInstall(t, ts, "org-b", "ext-b", 1)
		body := subscriberBody("installed", ts.Receiver.URL+"/hook")
		body["association"] = map[string]any{"company_id": 1, "extension_id": "ext-b", "application_id": []string{"app-1"}, "criteria": "SPECIFIC-EVENTS"}
		rec := doJSON(t, ts, http.MethodPost, create, partnerB, body)
		mustStatus(t, rec, http.StatusCreated)
		got := mustDecode[struct {
			Association struct {
				CompanyID     int64    `json:"company_id"`
				ApplicationID []string `json:"application_id"`
				ExtensionID   string   `json:"extension_id"`
				Criteria      string
			}
		}](t, rec.Body.Bytes()).Association
		if got.CompanyID != 1 || got.ExtensionID != "ext-b" || got.Criteria != "SPECIFIC-EVENTS" || len(got.ApplicationID) != 1 || got.ApplicationID[0] != "app-1" {
			t.Errorf("association %+v", got)
		}
		id := itoa(idOf(t, rec.Body.Bytes(), "id"))
		moved := doJSON(t, ts, http.MethodPut, partnerBase("org-b", "ext-b")+"/company/1/subscriber/"+id, partnerB,
			map[string]any{"association": map[string]any{"company_id": 2}})
		mustFieldError(t, moved, http.StatusBadRequest, "association.company_id")

		inst := mustInstallationID(t, ts, "org-b", "ext-b", 1)
		mustStatus(t, doJSON(t, ts, http.MethodDelete, "/service/platform/webhook/v1.0/installation/"+itoa(inst), adminToken, nil), http.StatusOK)
		rec = doJSON(t, ts, http.MethodPut, partnerBase("org-b", "ext-b")+"/company/1/subscriber/"+id, partnerB, map[string]string{"name": "renamed"})
		mustDeny(t, "an update after the uninstall", rec, http.StatusForbidden)

		// A partner sees its own extension's installations only.
		rec = doJSON(t, ts, http.MethodGet, partnerBase("org-b", "ext-b")+"/installation", partnerB, nil)
		mustStatus(t, rec, http.StatusOK)
		if items := mustDecode[struct{ Items []any }](t, rec.Body.Bytes()).Items; len(items) != 0 {
			t.Errorf("B lists %d installations after its uninstall: %s", len(items), rec.Body.String())
		}
		mustDeny(t, "B listing A's installations", doJSON(t, ts, http.MethodGet, partnerBase("org-a", "ext-a")+"/installation", partnerB, nil), http.StatusNotFound)
	})
}

// TestCompanyKeyIngest: a company key sends events for its companies only (403 naming
// the company otherwise), and cannot claim or block another company's event ids.
func TestCompanyKeyIngest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ts := MustNewServer(t, db)
		company2 := mustCreateCompanyKey(t, ts, "org-p", 2)
		platform := MustCreateAPIKey(t, ts, "org-p", "", models.ScopeIngest)
		event := map[string]any{"id": "order-42", "event_slug": "company/product/create/v1", "payload": map[string]int{"uid": 1}}
		send := func(token string, company int) *struct {
			code int
			body string
			dup  bool
		} {
			rec := doJSON(t, ts, http.MethodPost, "/service/platform/webhook/v1.0/company/"+itoa(int64(company))+"/events", token, event)
			out := &struct {
				code int
				body string
				dup  bool
			}{code: rec.Code, body: rec.Body.String()}
			if rec.Code == http.StatusAccepted {
				out.dup = mustDecode[struct{ Duplicate bool }](t, rec.Body.Bytes()).Duplicate
			}
			return out
		}

		refused := doJSON(t, ts, http.MethodPost, "/service/platform/webhook/v1.0/company/1/events", company2, event)
		mustDeny(t, "company 2's key for company 1", refused, http.StatusForbidden)
		if !strings.Contains(refused.Body.String(), "not for company 1") {
			t.Errorf("the 403 does not name the company: %s", refused.Body.String())
		}
		if n := ts.Engine.Started(); n != 0 {
			t.Fatalf("a refused event started %d workflows", n)
		}
		// Company 2's key uses the id in its own company: company 1's id space is apart.
		if r := send(company2, 2); r.code != http.StatusAccepted || r.dup {
			t.Fatalf("company 2's own event: %d %s", r.code, r.body)
		}
		storeAccepted(t, ts, 2, "order-42")
		if r := send(platform, 1); r.code != http.StatusAccepted || r.dup {
			t.Fatalf("company 1's real event after company 2's key used its id: %d %s, want accepted, not a duplicate", r.code, r.body)
		}
		if n := ts.Engine.Started(); n != 2 {
			t.Errorf("%d event workflows started, want 2 (one per company)", n)
		}
	})
}

// storeAccepted stores event id of company as the event workflow would, so that a later
// duplicate is answered from the store.
func storeAccepted(tb testing.TB, ts *testServer, company int64, id string) {
	tb.Helper()
	ev := &models.Event{CompanyID: company, EventID: id, Slug: "company/product/create/v1", Payload: []byte(`{"uid":1}`), AcceptedAt: ts.Store.Now()}
	if _, err := ts.Store.StoreEvent(context.Background(), ev); err != nil {
		tb.Fatalf("store event: %v", err)
	}
}
