package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// envChild makes the test binary act as the hookflow command, so that tests can run,
// kill and restart real hookflow processes without building a second binary that links
// the Temporal server.
const envChild = "HOOKFLOW_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := main.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "hookflow:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const testAdminToken = "test-admin-token-0123456789"

// fastRetry makes retries quick enough for tests while keeping their shape.
var fastRetry = workflows.RetryPolicy{
	InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Second,
	MaximumAttempts: 4, Expiration: 5 * time.Minute,
}

// stack is a whole Hookflow running in the test process: embedded Temporal (in memory),
// the application database, the worker and the API on a loopback port.
type stack struct {
	*main.Main
	t *testing.T
}

// startStack starts a stack on db; mutate may adjust the configuration.
func startStack(t *testing.T, db storetest.Database, mutate func(*main.Config)) *stack {
	t.Helper()
	return startStackParts(t, db, main.Parts{EmbeddedTemporal: true, Worker: true, API: true}, mutate)
}

// startStackParts starts the given parts of a stack on db.
func startStackParts(t *testing.T, db storetest.Database, parts main.Parts, mutate func(*main.Config)) *stack {
	t.Helper()
	cfg := main.DefaultConfig("dev")
	cfg.Memory = true
	cfg.TemporalPort, cfg.UIPort = 0, 0
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.AdminToken = testAdminToken
	cfg.DatabaseURL = db.URL
	cfg.Retry = fastRetry
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate("dev"); err != nil {
		t.Fatalf("config: %v", err)
	}
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	m := main.NewMain(cfg, parts, log)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(m.Close)
	return &stack{Main: m, t: t}
}

// testWriter sends log lines to t.Log while the test runs.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	defer func() { _ = recover() }() // a line logged after the test ended
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// call sends an API request with the admin token and decodes the JSON answer into out
// (when not nil); it returns the status code.
func (s *stack) call(method, path string, body any, out any) int {
	s.t.Helper()
	return callAPI(s.t, s.APIURL(), testAdminToken, method, path, body, out)
}

// mustInstallExt installs the tests' extension (ext-1 of org-1, partnerBase's) on company
// through the API at base, as the platform does before a partner subscribes there; an
// installation that exists already is kept.
func mustInstallExt(t *testing.T, base string, company int64) {
	t.Helper()
	var out map[string]any
	code := callAPI(t, base, testAdminToken, "POST", "/service/platform/webhook/v1.0/installation",
		map[string]any{"organization_id": "org-1", "extension_id": "ext-1", "company_id": company}, &out)
	if code != http.StatusCreated && code != http.StatusConflict {
		t.Fatalf("install ext-1 of org-1 on company %d: %d %v", company, code, out)
	}
}

func callAPI(t *testing.T, base, token, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// receiver is a loopback webhook endpoint that records requests and answers with the
// status its respond function picks for the n-th request (1-based). Its URL ends in a
// path token of its own: a request for another path is a stray (see reportStrays),
// answered 404, not recorded, and failing the test when it ends.
type receiver struct {
	*httptest.Server
	URL    string // the server's URL and the path token: subscribers point at or below it
	mu     sync.Mutex
	reqs   []received
	strays []stray
}

func newReceiver(t *testing.T, respond func(n int, r *http.Request) int) *receiver {
	t.Helper()
	token := "/" + newPathToken()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		path, ok := strings.CutPrefix(r.URL.Path, token)
		if !ok || (path != "" && path[0] != '/') {
			rc.mu.Lock()
			rc.strays = append(rc.strays, newStray(r, body, "not this receiver's path token"))
			rc.mu.Unlock()
			w.WriteHeader(http.StatusNotFound)
			return
		}
		r.URL.Path = "/" + strings.TrimPrefix(path, "/") // respond sees the path below the token
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{Header: r.Header.Clone(), Body: body, At: time.Now()})
		n := len(rc.reqs)
		rc.mu.Unlock()
		status := http.StatusOK
		if respond != nil {
			status = respond(n, r)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"received":%d}`, n)
	}))
	rc.URL = rc.Server.URL + token
	t.Cleanup(func() {
		rc.Close()
		rc.mu.Lock()
		defer rc.mu.Unlock()
		reportStrays(t, "receiver "+rc.URL, rc.strays)
	})
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

const partnerBase = "/service/partner/webhook/v1.0/organization/org-1/extension/ext-1"

// subscriberBody is a subscriber create request for url with the given signing secret.
func subscriberBody(url, secret string, slugs ...string) map[string]any {
	events := make([]map[string]any, len(slugs))
	for i, s := range slugs {
		events[i] = map[string]any{"slug": s}
	}
	return map[string]any{
		"name": "Test receiver", "webhook_url": url,
		"auth_meta": map[string]any{"type": "hmac", "secret": secret}, "events": events,
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// forEachMode runs fn as a subtest in each delivery mode: the observable results must not
// depend on it.
func forEachMode(t *testing.T, fn func(t *testing.T, mode string)) {
	t.Helper()
	for _, mode := range []string{workflows.ModeChild, workflows.ModeInlineFirst} {
		t.Run(mode, func(t *testing.T) { fn(t, mode) })
	}
}

// withMode configures a stack's delivery mode.
func withMode(mode string) func(*main.Config) {
	return func(c *main.Config) { c.DeliveryMode = mode }
}
