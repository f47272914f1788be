package main_test

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

const eventsPath = "/service/platform/webhook/v1.0/company/1/events"

// createSubscriber creates a subscriber of company 1 for product creations and returns
// its id; mutate may change the request body.
func (s *stack) createSubscriber(url string, mutate func(map[string]any)) int64 {
	s.t.Helper()
	body := subscriberBody(url, "lifecycle-secret", "company/product/create/v1")
	if mutate != nil {
		mutate(body)
	}
	var out map[string]any
	mustInstallExt(s.t, s.APIURL(), 1)
	if code := s.call("POST", partnerBase+"/company/1/subscriber", body, &out); code != 201 {
		s.t.Fatalf("create subscriber: %d %v", code, out)
	}
	return int64(out["id"].(float64))
}

// send sends a product-created event with id to company 1.
func (s *stack) send(id string) {
	s.t.Helper()
	var out map[string]any
	ev := map[string]any{"id": id, "event_slug": "company/product/create/v1", "payload": map[string]any{"uid": id}}
	if code := s.call("POST", eventsPath, ev, &out); code != 202 {
		s.t.Fatalf("send %s: %d %v", id, code, out)
	}
}

// deliveries returns the deliveries of a subscriber by the id of their event.
func (s *stack) deliveries(subID int64) map[string]models.Delivery {
	s.t.Helper()
	out := map[string]models.Delivery{}
	ids, err := s.Store().DeliveryIDs(context.Background(), store.DeliveryQuery{
		Tenant: models.Tenant{OrganizationID: "org-1", ExtensionID: "ext-1"},
		Start:  time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), SubscriberIDs: []int64{subID},
	}, 0, 10000)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, id := range ids {
		d, err := s.Store().DeliveryByID(context.Background(), id)
		if models.ErrorCode(err) == models.ENOTFOUND {
			continue // purged since it was listed
		}
		if err != nil {
			s.t.Fatal(err)
		}
		out[d.EventID] = *d
	}
	return out
}

func (s *stack) deliveryStatus(subID int64, eventID string) string {
	return s.deliveries(subID)[eventID].Status
}

func (s *stack) subscriberStatus(subID int64) string {
	s.t.Helper()
	sub, err := s.Store().SubscriberByID(context.Background(), subID)
	if err != nil {
		s.t.Fatal(err)
	}
	return sub.Status
}

func (s *stack) setStatus(subID int64, status string) {
	s.t.Helper()
	var out map[string]any
	if code := s.call("PATCH", partnerBase+"/subscriber/"+strconv.FormatInt(subID, 10), map[string]any{"status": status}, &out); code != 200 {
		s.t.Fatalf("PATCH status %s: %d %v", status, code, out)
	}
}

func TestGoneBlocksAndQueues(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], withMode(mode))
		var gone atomic.Bool
		gone.Store(true)
		rc := newReceiver(t, func(int, *http.Request) int {
			if gone.Load() {
				return http.StatusGone
			}
			return http.StatusOK
		})
		sub := s.createSubscriber(rc.URL, func(b map[string]any) { b["email_id"] = "ops@example.com" })
		s.send("g1")
		waitFor(t, 20*time.Second, "the 410 to fail the delivery", func() bool { return s.deliveryStatus(sub, "g1") == models.DeliveryFailed })
		if n := len(rc.requests()); n != 1 {
			t.Fatalf("receiver got %d requests, want 1: 410 is not retried", n)
		}
		waitFor(t, 10*time.Second, "the subscriber to be blocked", func() bool { return s.subscriberStatus(sub) == models.StatusBlocked })
		notes, err := s.Store().ListNotifications(context.Background(), models.Tenant{OrganizationID: "org-1", ExtensionID: "ext-1"}, 10)
		if err != nil || len(notes) != 1 || notes[0].Email != "ops@example.com" || notes[0].SubscriberID != sub {
			t.Fatalf("notifications = %+v, %v; want one for ops@example.com", notes, err)
		}

		// A new event for a blocked subscriber waits, and goes out on re-activation.
		s.send("g2")
		// Queued is the barrier: the attempt that queues it is the one that would have sent
		// it, and nothing sends a queued delivery before its release.
		waitFor(t, 20*time.Second, "the new delivery to queue", func() bool { return s.deliveryStatus(sub, "g2") == models.DeliveryQueued })
		if n := len(rc.requests()); n != 1 {
			t.Fatalf("a blocked subscriber got a request (%d in all)", n)
		}
		gone.Store(false)
		s.setStatus(sub, models.StatusActive)
		waitFor(t, 20*time.Second, "the queued delivery after re-activation", func() bool { return s.deliveryStatus(sub, "g2") == models.DeliverySucceeded })
		if got := s.deliveryStatus(sub, "g1"); got != models.DeliveryFailed {
			t.Fatalf("the failed delivery became %s; only queued deliveries are released", got)
		}
	})
}

func TestExhaustedRetriesBlock(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], withMode(mode))
		rc := newReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })
		sub := s.createSubscriber(rc.URL, nil)
		s.send("x1")
		waitFor(t, 30*time.Second, "the retries to run out", func() bool { return s.deliveryStatus(sub, "x1") == models.DeliveryFailed })
		d := s.deliveries(sub)["x1"]
		if got, want := len(rc.requests()), fastRetry.MaximumAttempts; got != want || d.Attempts != want {
			t.Fatalf("receiver got %d requests, delivery records %d attempts; want %d", got, d.Attempts, want)
		}
		waitFor(t, 10*time.Second, "the subscriber to be blocked", func() bool { return s.subscriberStatus(sub) == models.StatusBlocked })
		attempts, _ := s.Store().ListAttempts(context.Background(), d.ID)
		for i, a := range attempts {
			if a.Attempt != i+1 || a.ResponseCode != 500 || a.ErrorClass != models.ErrClassServer || a.ResponseBody == "" {
				t.Fatalf("attempt %d = %+v", i+1, a)
			}
		}
	})
}

func TestInactiveQueueReleasesInOrder(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], withMode(mode))
		rc := newReceiver(t, nil)
		sub := s.createSubscriber(rc.URL, func(b map[string]any) { b["status"] = "inactive"; b["inactive_policy"] = "queue" })
		ids := []string{"q1", "q2", "q3", "q4", "q5"}
		for _, id := range ids {
			s.send(id)
		}
		waitFor(t, 20*time.Second, "five queued deliveries", func() bool {
			n := 0
			for _, d := range s.deliveries(sub) {
				if d.Status == models.DeliveryQueued {
					n++
				}
			}
			return n == len(ids)
		})
		if n := len(rc.requests()); n != 0 {
			t.Fatalf("an inactive subscriber got %d requests", n)
		}
		// Queue order is acceptance order: the events went in as q1…q5.
		s.setStatus(sub, models.StatusActive)
		waitFor(t, 30*time.Second, "the released deliveries", func() bool { return len(rc.requests()) == len(ids) })
		for i, r := range rc.requests() {
			if got := r.Header.Get("x-fp-event-id"); got != ids[i] {
				t.Fatalf("request %d carried %s, want %s: released out of order", i, got, ids[i])
			}
		}
	})
}

func TestInactiveDiscard(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], withMode(mode))
		rc := newReceiver(t, nil)
		sub := s.createSubscriber(rc.URL, func(b map[string]any) { b["status"] = "inactive"; b["inactive_policy"] = "discard" })
		s.send("d1")
		waitFor(t, 20*time.Second, "the delivery to be discarded", func() bool { return s.deliveryStatus(sub, "d1") == models.DeliveryDiscarded })
		s.setStatus(sub, models.StatusActive)
		s.send("d2")
		waitFor(t, 20*time.Second, "the next delivery", func() bool { return s.deliveryStatus(sub, "d2") == models.DeliverySucceeded })
		reqs := rc.requests()
		if len(reqs) != 1 || reqs[0].Header.Get("x-fp-event-id") != "d2" {
			t.Fatalf("receiver got %d requests; want only d2", len(reqs))
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		// Retry-After is held to the policy's longest wait: make room for 2 s.
		s := startStack(t, storetest.Databases(t)[0], func(c *main.Config) {
			c.DeliveryMode = mode
			c.Retry.MaximumInterval = 5 * time.Second
		})
		rc := newReceiver(t, func(n int, r *http.Request) int {
			if n == 1 {
				return http.StatusTooManyRequests
			}
			return http.StatusOK
		})
		// The receiver's handler cannot set headers after choosing the status, so wrap it.
		inner := rc.Config.Handler
		rc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "2")
			inner.ServeHTTP(w, r)
		})
		sub := s.createSubscriber(rc.URL, nil)
		s.send("ra1")
		waitFor(t, 20*time.Second, "the retry", func() bool { return s.deliveryStatus(sub, "ra1") == models.DeliverySucceeded })
		reqs := rc.requests()
		if gap := reqs[1].At.Sub(reqs[0].At); gap < 2*time.Second {
			t.Fatalf("the retry came %v after a 429 with Retry-After: 2 (the policy alone waits %v)", gap, fastRetry.InitialInterval)
		}
	})
}
