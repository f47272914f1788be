package main_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

const installationsPath = "/service/platform/webhook/v1.0/installation"

// installFor installs ext of org on company 1 through the API and returns the
// installation's id.
func installFor(t *testing.T, s *stack, org, ext string) int64 {
	t.Helper()
	var out map[string]any
	if code := s.call("POST", installationsPath, map[string]any{"organization_id": org, "extension_id": ext, "company_id": 1}, &out); code != http.StatusCreated {
		t.Fatalf("install %s/%s: %d %v", org, ext, code, out)
	}
	return int64(out["id"].(float64))
}

// subscribeAs creates a subscriber of org's ext in company 1 to product-created events.
func subscribeAs(t *testing.T, s *stack, org, ext, url string, mutate func(map[string]any)) int64 {
	t.Helper()
	body := subscriberBody(url, "tenancy-secret", "company/product/create/v1")
	if mutate != nil {
		mutate(body)
	}
	var out map[string]any
	path := "/service/partner/webhook/v1.0/organization/" + org + "/extension/" + ext + "/company/1/subscriber"
	if code := s.call("POST", path, body, &out); code != http.StatusCreated {
		t.Fatalf("subscribe %s/%s: %d %v", org, ext, code, out)
	}
	return int64(out["id"].(float64))
}

// TestFanOutSkipsUninstalledExtensions: an event of company 1 reaches the subscribers of
// the extensions it has installed and nobody else's, signed or not. The second event is
// the barrier: once it has arrived at the installed extension, the first event has been
// fanned out (in order) everywhere it would go.
func TestFanOutSkipsUninstalledExtensions(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
			s := startStack(t, db, withMode(mode))
			installed, stranger := newReceiver(t, nil), newReceiver(t, nil)
			installFor(t, s, "org-1", "ext-1")
			subscribeAs(t, s, "org-1", "ext-1", installed.URL, nil)
			strangerInstall := installFor(t, s, "org-2", "ext-2")
			strangerSub := subscribeAs(t, s, "org-2", "ext-2", stranger.URL, nil)
			if code := s.call("DELETE", installationsPath+"/"+itoa64(strangerInstall), nil, nil); code != http.StatusOK {
				t.Fatalf("uninstall org-2's extension: %d", code)
			}

			s.send("fan-1")
			s.send("fan-2")
			waitFor(t, 30*time.Second, "both events at the installed extension", func() bool { return len(installed.requests()) == 2 })
			if n := len(stranger.requests()); n != 0 {
				t.Fatalf("the uninstalled extension's receiver got %d requests, want none", n)
			}
			n, err := s.Store().CountDeliveries(t.Context(), store.DeliveryQuery{
				Tenant: models.Tenant{OrganizationID: "org-2", ExtensionID: "ext-2"}, SubscriberIDs: []int64{strangerSub},
				Start: time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour)})
			if err != nil || n != 0 {
				t.Fatalf("deliveries planned for the uninstalled extension: %d %v, want 0", n, err)
			}
		})
	})
}

// TestUninstallStopsDeliveries: uninstalling an extension discards its queued deliveries
// (their workflows end) and ends its retrying ones at their next attempt, with a reason
// that says so, while another extension's deliveries for the same company go on.
func TestUninstallStopsDeliveries(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
			s := startStack(t, db, func(c *main.Config) {
				c.DeliveryMode = mode
				// Retries go on long enough to be under way when the extension goes.
				c.Retry = workflows.RetryPolicy{InitialInterval: 300 * time.Millisecond, BackoffCoefficient: 1.5,
					MaximumInterval: 600 * time.Millisecond, MaximumAttempts: 1000, Expiration: 5 * time.Minute}
			})
			var failing atomic.Int64
			flaky := newReceiver(t, func(int, *http.Request) int { failing.Add(1); return http.StatusServiceUnavailable })
			queuedRC, other := newReceiver(t, nil), newReceiver(t, nil)
			inst := installFor(t, s, "org-1", "ext-1")
			retrying := subscribeAs(t, s, "org-1", "ext-1", flaky.URL, nil)
			queued := subscribeAs(t, s, "org-1", "ext-1", queuedRC.URL, func(b map[string]any) { b["status"] = "inactive"; b["inactive_policy"] = "queue" })
			installFor(t, s, "org-2", "ext-2")
			subscribeAs(t, s, "org-2", "ext-2", other.URL, nil)

			s.send("u-1")
			waitFor(t, 30*time.Second, "a queued and a retrying delivery", func() bool {
				return s.deliveryStatus(queued, "u-1") == models.DeliveryQueued && failing.Load() >= 2 &&
					s.deliveryStatus(retrying, "u-1") == models.DeliveryRetrying
			})
			waitFor(t, 30*time.Second, "the other extension's delivery", func() bool { return len(other.requests()) == 1 })

			if code := s.call("DELETE", installationsPath+"/"+itoa64(inst), nil, nil); code != http.StatusOK {
				t.Fatalf("uninstall: %d", code)
			}
			for name, sub := range map[string]int64{"queued": queued, "retrying": retrying} {
				waitFor(t, 30*time.Second, "the "+name+" delivery discarded", func() bool {
					return s.deliveryStatus(sub, "u-1") == models.DeliveryDiscarded
				})
				d := s.deliveries(sub)["u-1"]
				if !strings.Contains(d.LastError, "uninstalled") {
					t.Errorf("the %s delivery's reason is %q, want one saying the extension was uninstalled", name, d.LastError)
				}
				waitWorkflowClosed(t, s, d.WorkflowID)
			}
			attempts := failing.Load()

			s.send("u-2")
			waitFor(t, 30*time.Second, "the other extension's second delivery", func() bool { return len(other.requests()) == 2 })
			if n := failing.Load(); n != attempts {
				t.Errorf("the uninstalled extension's receiver got %d more attempts after its delivery was discarded", n-attempts)
			}
			if n := len(queuedRC.requests()); n != 0 {
				t.Errorf("the queued subscriber's receiver got %d requests", n)
			}
			for _, sub := range []int64{queued, retrying} {
				if _, ok := s.deliveries(sub)["u-2"]; ok {
					t.Errorf("subscriber %d got a delivery of an event sent after the uninstall", sub)
				}
			}
		})
	})
}

// waitWorkflowClosed waits until the workflow with id has no running execution.
func waitWorkflowClosed(t *testing.T, s *stack, id string) {
	t.Helper()
	waitFor(t, 30*time.Second, "workflow "+id+" to end", func() bool {
		desc, err := s.Client().DescribeWorkflowExecution(t.Context(), id, "")
		return err == nil && desc.WorkflowExecutionInfo.CloseTime != nil
	})
}
