package main_test

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

func TestRedeliveryAndBulkRetry(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], withMode(mode))
		var healthy atomic.Bool
		rc := newReceiver(t, func(int, *http.Request) int {
			if healthy.Load() {
				return http.StatusOK
			}
			return http.StatusBadGateway
		})
		// Three subscribers with one event each: each delivery exhausts its retries (a
		// subscriber's later deliveries would queue once it is blocked).
		var subs []int64
		for i := 0; i < 3; i++ {
			subs = append(subs, s.createSubscriber(rc.URL, nil))
		}
		s.send("r1")
		waitFor(t, 60*time.Second, "three failed deliveries", func() bool {
			for _, sub := range subs {
				if s.deliveryStatus(sub, "r1") != models.DeliveryFailed {
					return false
				}
			}
			return true
		})
		healthy.Store(true)
		for _, sub := range subs {
			waitFor(t, 10*time.Second, "the block", func() bool { return s.subscriberStatus(sub) == models.StatusBlocked })
			s.setStatus(sub, models.StatusActive)
		}
		sub := subs[0]

		// One redelivery: a new series, attempts numbered on, the same webhook-id.
		r1 := s.deliveries(sub)["r1"]
		before := len(rc.requests())
		var red map[string]any
		if code := s.call("POST", partnerBase+"/delivery/"+strconv.FormatInt(r1.ID, 10)+"/retry", nil, &red); code != 202 {
			t.Fatalf("retry: %d %v", code, red)
		}
		if red["series"] != 1.0 || red["workflow_id"] != "delivery:1:r1:"+strconv.FormatInt(sub, 10)+":r1" {
			t.Fatalf("retry answer %v", red)
		}
		waitFor(t, 20*time.Second, "the redelivery", func() bool { return s.deliveryStatus(sub, "r1") == models.DeliverySucceeded })
		reqs := rc.requests()
		if len(reqs) != before+1 || reqs[len(reqs)-1].Header.Get("webhook-id") != "msg_"+strconv.FormatInt(r1.ID, 10) {
			t.Fatalf("redelivery sent %d requests (webhook-id %q)", len(reqs)-before, reqs[len(reqs)-1].Header.Get("webhook-id"))
		}
		r1 = s.deliveries(sub)["r1"]
		if r1.Attempts != fastRetry.MaximumAttempts+1 {
			t.Fatalf("attempts = %d, want %d: numbering continues", r1.Attempts, fastRetry.MaximumAttempts+1)
		}
		// Redelivering one that is under way is a conflict.
		if code := s.call("POST", partnerBase+"/delivery/999999/retry", nil, nil); code != 404 {
			t.Fatalf("retry of a missing delivery: %d, want 404", code)
		}

		// Bulk: the other two failed deliveries.
		var job map[string]any
		window := map[string]any{
			"start_date": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
			"end_date":   time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
			"status":     "failed",
		}
		if code := s.call("POST", partnerBase+"/retry", window, &job); code != 202 || job["total"] != 2.0 {
			t.Fatalf("bulk retry: %d %v", code, job)
		}
		jobPath := partnerBase + "/retry/" + strconv.Itoa(int(job["id"].(float64)))
		waitFor(t, 30*time.Second, "the bulk retry to complete", func() bool {
			var j map[string]any
			s.call("GET", jobPath, nil, &j)
			return j["state"] == "completed" && j["redelivered"] == 2.0
		})
		waitFor(t, 20*time.Second, "both redeliveries", func() bool {
			return s.deliveryStatus(subs[1], "r1") == models.DeliverySucceeded && s.deliveryStatus(subs[2], "r1") == models.DeliverySucceeded
		})
		var bad errorEnvelope
		if code := s.call("POST", partnerBase+"/retry", map[string]any{"start_date": "yesterday"}, &bad); code != 400 || !bad.hasField("start_date") || !bad.hasField("end_date") {
			t.Fatalf("bad bulk retry: %d %+v", code, bad)
		}
	})
}
