package apiserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/transform"
	"github.com/hookflow/hookflow/webhook"
)

// MustNewServerWith builds a testServer like MustNewServer, after change has adjusted
// the API's configuration and collaborators.
func MustNewServerWith(tb testing.TB, db storetest.Database, change func(*apiserver.Config, *apiserver.Deps)) *testServer {
	tb.Helper()
	st := storetest.MustOpen(tb, db.URL)
	rcv := newReceiver(tb)
	eng := newFakeEngine()
	cfg := apiserver.Config{AdminToken: adminToken, Network: models.NetworkPolicy{AllowLoopback: true},
		TemporalUIURL: "http://127.0.0.1:8233", Namespace: "default"}
	deps := apiserver.Deps{Store: st, Engine: eng, Transform: transform.NewEngine(transform.DefaultLimits()), Metrics: metrics.New().Handler()}
	change(&cfg, &deps)
	deps.Sender = webhook.NewClient(webhook.ClientOptions{Policy: cfg.Network})
	srv, err := apiserver.New(cfg, deps)
	if err != nil {
		tb.Fatalf("apiserver.New: %v", err)
	}
	return &testServer{Server: srv, Store: st, Engine: eng, Receiver: rcv}
}

// clock is a settable clock for Deps.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// mustRateLimited checks that rec is a 429 with Retry-After in whole seconds (at least
// 1) and the error envelope naming the limit.
func mustRateLimited(tb testing.TB, rec *httptest.ResponseRecorder, wantLimit string) {
	tb.Helper()
	mustStatus(tb, rec, http.StatusTooManyRequests)
	if got := rec.Header().Get("Retry-After"); got != "1" {
		tb.Errorf("Retry-After %q, want 1", got)
	}
	env := mustDecode[struct {
		Success *bool
		Message string
		Errors  []models.FieldError
	}](tb, rec.Body.Bytes())
	if env.Success == nil || *env.Success || env.Errors == nil {
		tb.Errorf("429 is not the error envelope: %s", rec.Body.String())
	}
	if !strings.Contains(env.Message, wantLimit) {
		tb.Errorf("message %q does not name the limit %q", env.Message, wantLimit)
	}
}

// TestRateLimit runs a limit of 1 request per second in bursts of 2 on a stopped
// clock: a caller's third request is refused until a second has passed, and other
// callers keep their own budget.
func TestRateLimit(t *testing.T) {
	db := storetest.Databases(t)[0]
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ts := MustNewServerWith(t, db, func(cfg *apiserver.Config, deps *apiserver.Deps) {
		cfg.RateLimit, cfg.RateBurst = 1, 2
		deps.Now = clk.Now
	})
	// The keys are created with the admin token, whose bucket this empties; a second
	// later it holds one token again.
	ingestA := MustCreateAPIKey(t, ts, "org-a", "", models.ScopeIngest)
	partnerB := MustCreateAPIKey(t, ts, "org-b", "ext-b", models.ScopePartner)
	clk.Advance(2 * time.Second)

	const me = "/service/common/webhook/v1.0/me"
	const events = "/service/platform/webhook/v1.0/company/1/events"
	event := map[string]any{"event_slug": "company/product/create/v1", "payload": map[string]int{"uid": 1}}
	const limit = "limited to 1 requests/s with bursts of 2"

	t.Run("OverLimit", func(t *testing.T) {
		mustStatus(t, doJSON(t, ts, http.MethodPost, events, ingestA, event), http.StatusAccepted)
		mustStatus(t, doJSON(t, ts, http.MethodGet, me, ingestA, nil), http.StatusOK)
		mustRateLimited(t, doJSON(t, ts, http.MethodPost, events, ingestA, event), limit)
		mustRateLimited(t, doJSON(t, ts, http.MethodGet, me, ingestA, nil), limit)
		if n := ts.Engine.Started(); n != 1 {
			t.Errorf("%d event workflows started, want 1: a refused event must not start one", n)
		}
	})
	t.Run("OtherCallersUnaffected", func(t *testing.T) {
		mustStatus(t, doJSON(t, ts, http.MethodGet, me, partnerB, nil), http.StatusOK)
		mustStatus(t, doJSON(t, ts, http.MethodGet, partnerBase("org-b", "ext-b")+"/subscriber", partnerB, nil), http.StatusOK)
		mustStatus(t, doJSON(t, ts, http.MethodGet, me, adminToken, nil), http.StatusOK)
		mustRateLimited(t, doJSON(t, ts, http.MethodGet, me, partnerB, nil), limit)
	})
	t.Run("NoBucketWithoutCredentials", func(t *testing.T) {
		for range 5 {
			mustStatus(t, doJSON(t, ts, http.MethodGet, me, "", nil), http.StatusUnauthorized)
			mustStatus(t, doJSON(t, ts, http.MethodGet, me, "hfk_000000000000_nope", nil), http.StatusUnauthorized)
			mustStatus(t, doJSON(t, ts, http.MethodGet, "/healthz", "", nil), http.StatusOK)
		}
	})
	t.Run("Refill", func(t *testing.T) {
		clk.Advance(999 * time.Millisecond)
		mustRateLimited(t, doJSON(t, ts, http.MethodGet, me, ingestA, nil), limit)
		clk.Advance(time.Millisecond)
		mustStatus(t, doJSON(t, ts, http.MethodPost, events, ingestA, event), http.StatusAccepted)
		mustRateLimited(t, doJSON(t, ts, http.MethodGet, me, ingestA, nil), limit)
		clk.Advance(2 * time.Second)
		mustStatus(t, doJSON(t, ts, http.MethodGet, me, ingestA, nil), http.StatusOK)
		mustStatus(t, doJSON(t, ts, http.MethodGet, me, ingestA, nil), http.StatusOK)
		mustRateLimited(t, doJSON(t, ts, http.MethodGet, me, ingestA, nil), limit)
	})
}

// TestRateLimitOff checks that no limit is the zero configuration, and that New refuses
// a limit it cannot run.
func TestRateLimitOff(t *testing.T) {
	db := storetest.Databases(t)[0]
	ts := MustNewServer(t, db)
	for range 50 {
		mustStatus(t, doJSON(t, ts, http.MethodGet, "/service/common/webhook/v1.0/me", adminToken, nil), http.StatusOK)
	}
	for _, tc := range []struct {
		name        string
		rate, burst int
	}{{"ErrNegativeRate", -1, 10}, {"ErrZeroBurst", 10, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := apiserver.New(apiserver.Config{AdminToken: adminToken, RateLimit: tc.rate, RateBurst: tc.burst},
				apiserver.Deps{Store: ts.Store, Engine: ts.Engine, Sender: webhook.NewClient(webhook.ClientOptions{}), Transform: transform.NewEngine(transform.DefaultLimits())})
			if err == nil {
				t.Errorf("New with rate %d and burst %d: no error", tc.rate, tc.burst)
			}
		})
	}
}

// TestAuthFailureLimit runs a budget of 3 failed authentications per client address,
// refilled at 1 a second, on a stopped clock: an address that has used it up is answered
// 429 without a database lookup, even with valid credentials, until it refills; other
// addresses and successful requests are not affected; behind a trusted proxy the client
// address is the one it forwards, and nobody else can claim one.
func TestAuthFailureLimit(t *testing.T) {
	db := storetest.Databases(t)[0]
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	const proxy = "10.0.0.1"
	ts := MustNewServerWith(t, db, func(cfg *apiserver.Config, deps *apiserver.Deps) {
		cfg.AuthFailureLimit, cfg.AuthFailureBurst = 1, 3
		cfg.TrustedProxies = []string{proxy}
		deps.Now = clk.Now
	})
	const me = "/service/common/webhook/v1.0/me"
	call := func(peer, forwarded, token string) *httptest.ResponseRecorder {
		req := newRequest(t, http.MethodGet, me, token, nil)
		req.RemoteAddr = peer + ":40000"
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		rec := httptest.NewRecorder()
		ts.ServeHTTP(rec, req)
		return rec
	}
	const badKey = "hfk_000000000000_nope"
	limitFor := func(addr string) string { return "too many failed authentications from " + addr }

	validKey, err := ts.Store.CreateAPIKey(context.Background(), &models.APIKey{OrganizationID: "org-a", Scope: models.ScopePartner})
	if err != nil {
		t.Fatal(err)
	}
	revoked := &models.APIKey{OrganizationID: "org-a", Scope: models.ScopePartner}
	revokedKey, err := ts.Store.CreateAPIKey(context.Background(), revoked)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OverBudget", func(t *testing.T) {
		const a = "203.0.113.5"
		mustStatus(t, call(a, "", ""), http.StatusUnauthorized)
		mustStatus(t, call(a, "", badKey), http.StatusUnauthorized)
		mustStatus(t, call(a, "", "not a key at all"), http.StatusUnauthorized)
		// Valid credentials from the locked-out address still get through.
		mustStatus(t, call(a, "", validKey), http.StatusOK)
		mustStatus(t, call(a, "", adminToken), http.StatusOK)
		before := ts.Store.Statements()
		mustRateLimited(t, call(a, "", badKey), limitFor(a))
		// A guess sharing a real key's prefix, wrong in its last character.
		last := "A"
		if strings.HasSuffix(validKey, "A") {
			last = "B"
		}
		mustRateLimited(t, call(a, "", validKey[:len(validKey)-1]+last), limitFor(a))
		mustRateLimited(t, call(a, "", ""), limitFor(a))
		if n := ts.Store.Statements() - before; n != 0 {
			t.Errorf("refused guesses ran %d database statements, want 0", n)
		}
		// The lookup stays the authority: a key revoked after the snapshot was taken is
		// refused.
		if err := ts.Store.RevokeAPIKey(context.Background(), revoked.ID); err != nil {
			t.Fatal(err)
		}
		mustRateLimited(t, call(a, "", revokedKey), limitFor(a))
		mustStatus(t, call(a, "", validKey), http.StatusOK)
	})
	t.Run("KeyCreatedWhileLockedOut", func(t *testing.T) {
		const a = "203.0.113.5"
		rec := doJSON(t, ts, http.MethodPost, "/service/admin/webhook/v1.0/api_keys", adminToken, map[string]string{"organization_id": "org-a"})
		mustStatus(t, rec, http.StatusCreated)
		var created struct{ Key string }
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, call(a, "", created.Key), http.StatusOK)
	})
	t.Run("OtherAddressesUnaffected", func(t *testing.T) {
		const b = "203.0.113.6"
		mustStatus(t, call(b, "", adminToken), http.StatusOK)
		mustStatus(t, call(b, "", badKey), http.StatusUnauthorized)
	})
	t.Run("SuccessCostsNothing", func(t *testing.T) {
		const c = "203.0.113.7"
		for range 20 {
			mustStatus(t, call(c, "", adminToken), http.StatusOK)
		}
		for range 3 {
			mustStatus(t, call(c, "", badKey), http.StatusUnauthorized)
		}
		mustRateLimited(t, call(c, "", badKey), limitFor(c))
	})
	t.Run("Refill", func(t *testing.T) {
		const a = "203.0.113.5"
		clk.Advance(999 * time.Millisecond)
		mustRateLimited(t, call(a, "", badKey), limitFor(a))
		clk.Advance(time.Millisecond)
		mustStatus(t, call(a, "", badKey), http.StatusUnauthorized)
		mustRateLimited(t, call(a, "", badKey), limitFor(a))
		mustStatus(t, call(a, "", adminToken), http.StatusOK)
	})
	t.Run("TrustedProxy", func(t *testing.T) {
		const client = "198.51.100.7"
		for range 3 {
			mustStatus(t, call(proxy, client, badKey), http.StatusUnauthorized)
		}
		mustRateLimited(t, call(proxy, client, badKey), limitFor(client))
		mustRateLimited(t, call(client, "", badKey), limitFor(client))
		mustStatus(t, call(proxy, client, adminToken), http.StatusOK)
		// The proxy's other clients keep their own budget.
		mustStatus(t, call(proxy, "198.51.100.8", adminToken), http.StatusOK)
	})
	t.Run("UntrustedForwardedFor", func(t *testing.T) {
		// A peer that is not a trusted proxy cannot spend another address's budget, nor
		// escape its own by naming one.
		const peer, victim = "203.0.113.9", "198.51.100.20"
		for range 3 {
			mustStatus(t, call(peer, victim, badKey), http.StatusUnauthorized)
		}
		mustRateLimited(t, call(peer, "198.51.100.21", badKey), limitFor(peer))
		mustStatus(t, call(victim, "", adminToken), http.StatusOK)
	})
	t.Run("Config", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			cfg  apiserver.Config
		}{
			{"ErrNegativeLimit", apiserver.Config{AdminToken: adminToken, AuthFailureLimit: -1, AuthFailureBurst: 10}},
			{"ErrZeroBurst", apiserver.Config{AdminToken: adminToken, AuthFailureLimit: 10}},
			{"ErrBadProxy", apiserver.Config{AdminToken: adminToken, TrustedProxies: []string{"not-an-address"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := apiserver.New(tc.cfg, apiserver.Deps{Store: ts.Store, Engine: ts.Engine,
					Sender: webhook.NewClient(webhook.ClientOptions{}), Transform: transform.NewEngine(transform.DefaultLimits())})
				if err == nil {
					t.Errorf("New(%+v): no error", tc.cfg)
				}
			})
		}
	})
}
