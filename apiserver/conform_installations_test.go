package apiserver_test

import (
	"net/http"
	"testing"
)

// conformInstallations covers the platform's installation endpoints and the partner's
// view of them, and installs the fixture's extension on company 1 for the later groups.
func conformInstallations(t *testing.T, c *conformer, fx *conformFixture) {
	const path = "/service/platform/webhook/v1.0/installation"
	install := map[string]any{"organization_id": fx.org, "extension_id": fx.ext, "company_id": 1}
	rec := c.do(t, call{Method: http.MethodPost, Path: path, Token: fx.ingestKey, Body: install, Want: http.StatusCreated})
	if got := mustDecode[struct {
		Criteria      string
		ApplicationID []string `json:"application_id"`
	}](t, rec.Body.Bytes()); got.Criteria != "ALL" || got.ApplicationID == nil || len(got.ApplicationID) != 0 {
		t.Errorf("installation for every application: %s", rec.Body.String())
	}
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Body: install, Want: http.StatusConflict})
	limited := c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Want: http.StatusCreated,
		Body: map[string]any{"organization_id": fx.org, "extension_id": fx.ext, "company_id": 2, "application_id": []string{"app-1"}}})
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Want: http.StatusBadRequest, Field: "company_id",
		Body: map[string]any{"organization_id": fx.org, "extension_id": fx.ext, "company_id": 0}, Invalid: true})
	c.do(t, call{Method: http.MethodPost, Path: path, Token: adminToken, Want: http.StatusBadRequest, Field: "application_id[0]",
		Body: map[string]any{"organization_id": fx.org, "extension_id": fx.ext, "company_id": 3, "application_id": []string{"a,b"}}})
	c.do(t, call{Method: http.MethodPost, Path: path, Token: fx.partnerKey, Body: install, Want: http.StatusForbidden})

	rec = c.do(t, call{Method: http.MethodGet, Path: path + "?organization_id=" + fx.org, Token: adminToken, Want: http.StatusOK})
	if n := len(mustDecode[struct{ Items []any }](t, rec.Body.Bytes()).Items); n != 2 {
		t.Errorf("the organization has %d installations listed, want 2: %s", n, rec.Body.String())
	}
	c.do(t, call{Method: http.MethodGet, Path: path + "?company_id=x", Token: adminToken, Want: http.StatusBadRequest, Invalid: true, Field: "company_id"})
	c.do(t, call{Method: http.MethodGet, Path: path, Token: fx.partnerKey, Want: http.StatusForbidden})

	rec = c.do(t, call{Method: http.MethodGet, Path: fx.base + "/installation?company_id=1", Token: fx.partnerKey, Want: http.StatusOK})
	if n := len(mustDecode[struct{ Items []any }](t, rec.Body.Bytes()).Items); n != 1 {
		t.Errorf("the partner sees %d installations on company 1, want 1: %s", n, rec.Body.String())
	}
	c.do(t, call{Method: http.MethodGet, Path: partnerBase("org-other", fx.ext) + "/installation", Token: fx.partnerKey, Want: http.StatusNotFound})

	id := itoa(idOf(t, limited.Body.Bytes(), "id"))
	c.do(t, call{Method: http.MethodDelete, Path: path + "/" + id, Token: fx.partnerKey, Want: http.StatusForbidden})
	c.do(t, call{Method: http.MethodDelete, Path: path + "/" + id, Token: adminToken, Want: http.StatusOK})
	c.do(t, call{Method: http.MethodDelete, Path: path + "/" + id, Token: adminToken, Want: http.StatusNotFound})
	c.do(t, call{Method: http.MethodDelete, Path: path + "/abc", Token: adminToken, Want: http.StatusBadRequest, Invalid: true, Field: "installation_id"})
}
