package apiserver_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes, for a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSecretsNotLogged runs the requests that handle credentials and signing secrets,
// successful and failing, with debug logging, and checks that no secret is in the log.
func TestSecretsNotLogged(t *testing.T) {
	var logs syncBuffer
	db := storetest.Databases(t)[0]
	ts := MustNewServerWith(t, db, func(cfg *apiserver.Config, deps *apiserver.Deps) {
		deps.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cfg.RateLimit, cfg.RateBurst = 1000, 1000
	})
	const secret, rotated = "whsec_first-secret-0123456789", "whsec_second-secret-9876543210"
	partner := MustCreateAPIKey(t, ts, "o", "e", models.ScopePartner)
	MustInstall(t, ts, "o", "e", 1)
	ingest := MustCreateAPIKey(t, ts, "o", "", models.ScopeIngest)

	body := subscriberBody("secretive", ts.Receiver.URL+"/hook")
	body["auth_meta"] = map[string]string{"type": "hmac", "secret": secret}
	rec := doJSON(t, ts, http.MethodPost, partnerBase("o", "e")+"/company/1/subscriber", partner, body)
	mustStatus(t, rec, http.StatusCreated)
	item := partnerBase("o", "e") + "/company/1/subscriber/" + itoa(idOf(t, rec.Body.Bytes(), "id"))
	mustStatus(t, doJSON(t, ts, http.MethodPut, item, partner, map[string]any{"auth_meta": map[string]string{"secret": rotated}}), http.StatusOK)
	mustStatus(t, doJSON(t, ts, http.MethodPut, item, partner, map[string]any{"auth_meta": map[string]string{"secret": "short"}}), http.StatusBadRequest)
	mustStatus(t, doJSON(t, ts, http.MethodPost, item+"/ping", partner, nil), http.StatusOK)
	mustStatus(t, doJSON(t, ts, http.MethodGet, item, partner, nil), http.StatusOK)
	event := map[string]any{"event_slug": "company/product/create/v1", "payload": map[string]string{"token": "payload-secret-value"}}
	mustStatus(t, doJSON(t, ts, http.MethodPost, "/service/platform/webhook/v1.0/company/1/events", ingest, event), http.StatusAccepted)
	ts.Engine.SetDown(true)
	mustStatus(t, doJSON(t, ts, http.MethodPost, "/service/platform/webhook/v1.0/company/1/events", ingest, event), http.StatusServiceUnavailable)
	ts.Engine.SetDown(false)
	mustStatus(t, doJSON(t, ts, http.MethodGet, "/service/common/webhook/v1.0/me", partner+"x", nil), http.StatusUnauthorized)
	mustStatus(t, doJSON(t, ts, http.MethodGet, "/service/common/webhook/v1.0/me", strings.ToUpper(adminToken), nil), http.StatusUnauthorized)

	if len(ts.Receiver.Hits()) == 0 {
		t.Fatal("the ping did not reach the receiver")
	}
	got := logs.String()
	if !strings.Contains(got, "subscriber created") {
		t.Fatalf("nothing was logged: %q", got)
	}
	for name, s := range map[string]string{
		"admin token": adminToken, "partner key": partner, "ingest key": ingest,
		"secret": secret, "rotated secret": rotated, "payload": "payload-secret-value",
	} {
		if strings.Contains(got, s) {
			t.Errorf("the log holds the %s:\n%s", name, got)
		}
	}
}
