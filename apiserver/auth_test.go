package apiserver_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookflow/hookflow/store/storetest"
)

// TestBearerScheme checks that the Authorization scheme's name is matched without
// regard to case (RFC 9110 section 11.1), and that anything but a bearer token is 401.
func TestBearerScheme(t *testing.T) {
	ts := MustNewServer(t, storetest.Databases(t)[0])
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer " + adminToken, http.StatusOK},
		{"bearer " + adminToken, http.StatusOK},
		{"BEARER " + adminToken, http.StatusOK},
		{"bEaReR   " + adminToken, http.StatusOK},
		{"Basic " + adminToken, http.StatusUnauthorized},
		{"Bearer" + adminToken, http.StatusUnauthorized},
		{"Bearer ", http.StatusUnauthorized},
		{adminToken, http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(http.MethodGet, "/service/common/webhook/v1.0/me", nil)
		req.Header.Set("Authorization", tc.header)
		rec := httptest.NewRecorder()
		ts.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("Authorization: %q answered %d, want %d", tc.header, rec.Code, tc.want)
		}
	}
}
