package main_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// process is a `hookflow dev` child process (this test binary acting as hookflow).
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	output bytes.Buffer
	done   chan struct{}
	apiURL string
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.Write(b)
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// startDev starts `hookflow dev` on dataDir and waits until its API is ready.
func startDev(t *testing.T, dataDir string, env ...string) *process {
	t.Helper()
	return startDevAt(t, dataDir, freeAddr(t), env...)
}

// startDevAt starts `hookflow dev` with its API on addr.
func startDevAt(t *testing.T, dataDir, addr string, env ...string) *process {
	t.Helper()
	level := "warn"
	if os.Getenv("DEBUG_RESTART") != "" {
		level = "debug"
	}
	p := startProcess(t, append([]string{"HOOKFLOW_LOG_LEVEL=" + level}, env...), "dev", "--data-dir", dataDir,
		"--http-addr", addr, "--temporal-port", "0", "--ui-port", "0", "--admin-token", testAdminToken)
	p.apiURL = "http://" + addr
	p.waitReady(t, "hookflow dev", p.apiURL+"/readyz")
	return p
}

// startProcess starts this test binary as `hookflow args…` with env added to the
// environment. The process cannot outlive the test: it is killed and waited for when the
// test ends, passed or failed, and dies with the test binary when that ends without
// running cleanups (see startChild).
func startProcess(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	p := &process{done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(append(os.Environ(), envChild+"=1"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := startChild(p.cmd, p.done); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	return p
}

// waitReady waits until url answers 200, failing t if the process exits first or takes
// more than a minute.
func (p *process) waitReady(t *testing.T, name, url string) {
	t.Helper()
	waitFor(t, time.Minute, name+" to become ready", func() bool {
		select {
		case <-p.done:
			t.Fatalf("%s exited during start:\n%s", name, p.log())
		default:
		}
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// kill ends the process at once, as a crash would, with anything it started (its
// process group), and waits until it has exited.
func (p *process) kill() {
	select {
	case <-p.done:
		return // reaped: its pid and group id may be another process's by now
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// TestKilledDevCompletesDeliveryOnRestart kills `hookflow dev` (SIGKILL) after a
// delivery's first attempt failed, starts it again on the same data directory, and checks
// that the retry goes out and the delivery completes.
func TestKilledDevCompletesDeliveryOnRestart(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		dataDir := t.TempDir()
		// The event id is unique to this run: the checks look only at requests carrying
		// it, and fail on any other request.
		eventID := "upd-restart-" + mode + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		var ours atomic.Int32
		rc := newReceiver(t, func(_ int, r *http.Request) int {
			if r.Header.Get("x-fp-event-id") == eventID && ours.Add(1) == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		requests := func() (mine, others []received) {
			for _, r := range rc.requests() {
				if r.Header.Get("x-fp-event-id") == eventID {
					mine = append(mine, r)
				} else {
					others = append(others, r)
				}
			}
			return mine, others
		}
		// The first retry waits 3 s: long enough to kill and restart within it.
		retryEnv := []string{"HOOKFLOW_RETRY_INITIAL_INTERVAL=3s", "HOOKFLOW_RETRY_MAX_INTERVAL=5s", "HOOKFLOW_DELIVERY_MODE=" + mode}
		p := startDev(t, dataDir, retryEnv...)
		mustInstallExt(t, p.apiURL, 3)
		if code := callAPI(t, p.apiURL, testAdminToken, "POST", partnerBase+"/company/3/subscriber",
			subscriberBody(rc.URL, "restart-secret", "company/product/update/v1"), nil); code != 201 {
			t.Fatalf("create subscriber: %d\n%s", code, p.log())
		}
		event := map[string]any{"id": eventID, "event_slug": "company/product/update/v1", "payload": map[string]any{"uid": 1}}
		if code := callAPI(t, p.apiURL, testAdminToken, "POST", "/service/platform/webhook/v1.0/company/3/events", event, nil); code != 202 {
			t.Fatalf("send event: %d\n%s", code, p.log())
		}
		waitFor(t, 30*time.Second, "the first attempt", func() bool { mine, _ := requests(); return len(mine) >= 1 })
		first, _ := requests()
		id := deliveryIDOf(t, first[0])

		// Let the failed attempt be recorded, then crash.
		st := openDevStore(t, dataDir)
		waitFor(t, 10*time.Second, "the failed attempt to be recorded", func() bool {
			a, err := st.ListAttempts(context.Background(), id)
			return err == nil && len(a) == 1
		})
		time.Sleep(300 * time.Millisecond)
		p.kill()
		if mine, _ := requests(); len(mine) != 1 {
			t.Fatalf("receiver got %d requests for the event before the restart, want 1", len(mine))
		}

		restarted := time.Now()
		p2 := startDev(t, dataDir, retryEnv...)
		t.Logf("restarted in %v", time.Since(restarted))
		waitFor(t, 60*time.Second, "the retry after the restart", func() bool { mine, _ := requests(); return len(mine) >= 2 })
		t.Logf("retry arrived %v after the restart began", time.Since(restarted))
		waitFor(t, 10*time.Second, "the delivery to succeed", func() bool {
			d, err := st.DeliveryByID(context.Background(), id)
			return err == nil && d.Status == models.DeliverySucceeded
		})
		attempts, err := st.ListAttempts(context.Background(), id)
		if err != nil || len(attempts) != 2 || attempts[0].ResponseCode != 500 || attempts[1].ResponseCode != 200 || attempts[1].Attempt != 2 {
			t.Fatalf("attempts = %+v, %v\n%s", attempts, err, p2.log())
		}
		mine, others := requests()
		for i, r := range mine {
			if got := r.Header.Get("webhook-id"); got != first[0].Header.Get("webhook-id") {
				t.Errorf("request %d for the event: webhook-id %q, want %q: it changed across the restart", i, got, first[0].Header.Get("webhook-id"))
			}
		}
		// Below the receiver's path token (others are strays, reported by the receiver)
		// only this test's hookflow delivers, and it delivers only this event.
		for _, r := range others {
			t.Errorf("a request for another event reached this test's subscriber at %v: webhook-id %q, x-fp-event-id %q, User-Agent %q, body %.200q",
				r.At.Format("15:04:05.000"), r.Header.Get("webhook-id"), r.Header.Get("x-fp-event-id"), r.Header.Get("User-Agent"), r.Body)
		}
	})
}

// openDevStore opens the application database of a dev data directory beside the
// running process (SQLite in WAL mode allows it).
func openDevStore(t *testing.T, dataDir string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dataDir, "hookflow.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
