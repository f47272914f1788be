package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// lastDatabase is PostgreSQL when HOOKFLOW_TEST_DATABASE_URL is set, else SQLite: the
// store that is strictest about what it accepts.
func lastDatabase(t *testing.T) storetest.Database {
	dbs := storetest.Databases(t)
	return dbs[len(dbs)-1]
}

// rawReceiver records requests and answers each with status and body.
type rawReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newRawReceiver(t *testing.T, answer func(n int, body []byte) (int, []byte)) *rawReceiver {
	t.Helper()
	rc := &rawReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{Header: r.Header.Clone(), Body: body, At: time.Now()})
		n := len(rc.reqs)
		rc.mu.Unlock()
		code, out := answer(n, body)
		w.WriteHeader(code)
		_, _ = w.Write(out)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *rawReceiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// byWebhookID counts requests per webhook-id.
func byWebhookID(reqs []received) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		out[r.Header.Get("webhook-id")]++
	}
	return out
}

// A receiver answering 200 with NUL bytes and invalid UTF-8 gets one POST per delivery,
// its deliveries succeed, and another organization's deliveries, recorded in the same
// batches, are POSTed once each.
func TestReceiverBytesDoNotRepeatAttempts(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, lastDatabase(t), withMode(mode))
		bad := newRawReceiver(t, func(int, []byte) (int, []byte) { return http.StatusOK, []byte("ok\x00\xff\xfe done") })
		good := newRawReceiver(t, func(int, []byte) (int, []byte) { return http.StatusOK, []byte(`{"ok":true}`) })
		badSub := s.createSubscriber(bad.URL, nil)
		installFor(t, s, "org-2", "ext-2")
		goodSub := subscribeAs(t, s, "org-2", "ext-2", good.URL, nil)

		const events = 40
		var wg sync.WaitGroup
		for i := 0; i < events; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				ev := map[string]any{"id": fmt.Sprintf("nul-%d", i), "event_slug": "company/product/create/v1", "payload": map[string]any{"uid": i}}
				if code := callAPI(t, s.APIURL(), testAdminToken, "POST", eventsPath, ev, nil); code != 202 {
					t.Errorf("send event %d: %d", i, code)
				}
			}(i)
		}
		wg.Wait()
		st := s.Store()
		final := func(sub int64, org, ext string) (n int, statuses map[string]int) {
			ids, err := st.DeliveryIDs(context.Background(), store.DeliveryQuery{
				Tenant: models.Tenant{OrganizationID: org, ExtensionID: ext},
				Start:  time.Now().Add(-time.Hour), End: time.Now().Add(time.Hour), SubscriberIDs: []int64{sub},
			}, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			statuses = map[string]int{}
			for _, id := range ids {
				d, err := st.DeliveryByID(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				statuses[d.Status]++
				if models.DeliveryFinal(d.Status) {
					n++
				}
			}
			return n, statuses
		}
		waitFor(t, 90*time.Second, "every delivery to end", func() bool {
			a, _ := final(badSub, "org-1", "ext-1")
			b, _ := final(goodSub, "org-2", "ext-2")
			return a == events && b == events
		})
		if _, st := final(badSub, "org-1", "ext-1"); st[models.DeliverySucceeded] != events {
			t.Errorf("deliveries to the NUL-answering receiver: %v, want %d succeeded", st, events)
		}
		if _, st := final(goodSub, "org-2", "ext-2"); st[models.DeliverySucceeded] != events {
			t.Errorf("org-2's deliveries: %v, want %d succeeded", st, events)
		}
		for name, rc := range map[string]*rawReceiver{"NUL-answering": bad, "org-2": good} {
			reqs := rc.requests()
			per := byWebhookID(reqs)
			if len(reqs) != events || len(per) != events {
				t.Errorf("%s receiver got %d POSTs for %d deliveries, want exactly %d", name, len(reqs), len(per), events)
			}
			for id, n := range per {
				if n != 1 {
					t.Errorf("%s receiver got %s %d times", name, id, n)
				}
			}
		}
		if sub := s.subscriberStatus(badSub); sub != models.StatusActive {
			t.Errorf("the NUL-answering subscriber is %s, want active", sub)
		}
		// The answer is stored as readable text.
		reqs := bad.requests()
		if len(reqs) == 0 {
			t.Fatal("no requests")
		}
		attempts, err := st.ListAttempts(context.Background(), deliveryIDOf(t, reqs[0]))
		if err != nil || len(attempts) != 1 {
			t.Fatalf("attempts = %+v, %v", attempts, err)
		}
		if got, want := attempts[0].ResponseBody, "ok\uFFFD\uFFFD\uFFFD done"; got != want || !utf8.ValidString(got) {
			t.Errorf("stored response body = %q, want %q", got, want)
		}
	})
}

// A retry carries the first attempt's body even when the subscriber's reducer changed in
// between; an explicit redelivery renders the event anew.
func TestRetryKeepsFirstAttemptBody(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], withMode(mode))
		var sub atomic.Int64
		reducerPath := func() string {
			return partnerBase + "/company/1/subscriber/" + itoa64(sub.Load()) + "/filter_reducer"
		}
		setReducer := func(reducer map[string]any) int {
			data, _ := json.Marshal(map[string]any{"event_slug": "company/product/create/v1", "reducer_configuration": reducer})
			req, _ := http.NewRequest("PUT", s.APIURL()+reducerPath(), bytes.NewReader(data))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+testAdminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		var changed atomic.Int32
		rc := newRawReceiver(t, func(n int, _ []byte) (int, []byte) {
			if n == 1 {
				// The partner changes the reducer while attempt 1 is under way.
				changed.Store(int32(setReducer(map[string]any{"second": "$.uid"})))
				return http.StatusServiceUnavailable, nil
			}
			return http.StatusOK, nil
		})
		sub.Store(s.createSubscriber(rc.URL, nil))
		if code := setReducer(map[string]any{"first": "$.uid"}); code != 200 {
			t.Fatalf("set the first reducer: %d", code)
		}
		s.send("keep-1")
		waitFor(t, 30*time.Second, "the delivery to succeed", func() bool { return s.deliveryStatus(sub.Load(), "keep-1") == models.DeliverySucceeded })
		if changed.Load() != 200 {
			t.Fatalf("changing the reducer answered %d", changed.Load())
		}
		reqs := rc.requests()
		if len(reqs) != 2 {
			t.Fatalf("receiver got %d requests, want 2", len(reqs))
		}
		if !bytes.Contains(reqs[0].Body, []byte(`"payload":{"first":"keep-1"}`)) {
			t.Fatalf("attempt 1 body %s lacks the first reducer's payload", reqs[0].Body)
		}
		if !bytes.Equal(reqs[1].Body, reqs[0].Body) {
			t.Fatalf("attempt 2 body\n%s\ndiffers from attempt 1's\n%s", reqs[1].Body, reqs[0].Body)
		}
		if reqs[1].Header.Get("webhook-id") != reqs[0].Header.Get("webhook-id") {
			t.Fatalf("webhook-id changed between attempts")
		}

		// An explicit redelivery renders anew, with the reducer as it is now.
		d := s.deliveries(sub.Load())["keep-1"]
		if code := s.call("POST", partnerBase+"/delivery/"+itoa64(d.ID)+"/retry", nil, nil); code != 202 {
			t.Fatalf("redeliver: %d", code)
		}
		waitFor(t, 30*time.Second, "the redelivery", func() bool { return len(rc.requests()) == 3 })
		if got := rc.requests()[2].Body; !bytes.Contains(got, []byte(`"payload":{"second":"keep-1"}`)) {
			t.Fatalf("redelivery body %s lacks the new reducer's payload", got)
		}
	})
}

// A delivery whose workflow is terminated from outside Hookflow ends failed with that
// reason and can be redelivered, one at a time or in bulk.
func TestTerminatedDeliveryIsRedeliverable(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], func(c *main.Config) {
			c.DeliveryMode = mode
			// Slow retries: the delivery waits for its second attempt when it is terminated.
			c.Retry = workflows.RetryPolicy{InitialInterval: time.Hour, BackoffCoefficient: 2, MaximumInterval: 2 * time.Hour,
				MaximumAttempts: 4, Expiration: 48 * time.Hour}
		})
		var healthy atomic.Bool
		rc := newReceiver(t, func(int, *http.Request) int {
			if healthy.Load() {
				return http.StatusOK
			}
			return http.StatusBadGateway
		})
		one, bulk := s.createSubscriber(rc.URL, nil), s.createSubscriber(rc.URL, nil)
		s.send("term-1")
		ctx := context.Background()
		for _, sub := range []int64{one, bulk} {
			wfID := workflows.DeliveryWorkflowID(1, "term-1", sub, 0)
			waitFor(t, 30*time.Second, "the delivery to wait for its retry", func() bool {
				if s.deliveryStatus(sub, "term-1") != models.DeliveryRetrying {
					return false
				}
				_, err := s.Client().DescribeWorkflowExecution(ctx, wfID, "")
				return err == nil
			})
			if err := s.Client().TerminateWorkflow(ctx, wfID, "", "operator cleanup"); err != nil {
				t.Fatalf("terminate %s: %v", wfID, err)
			}
		}
		healthy.Store(true)

		// Reading the delivery records its end.
		d := s.deliveries(one)["term-1"]
		var got map[string]any
		if code := s.call("GET", partnerBase+"/delivery/"+itoa64(d.ID), nil, &got); code != 200 || got["status"] != models.DeliveryFailed {
			t.Fatalf("GET terminated delivery: %d status %v, want 200 failed", code, got["status"])
		}
		if d = s.deliveries(one)["term-1"]; d.Status != models.DeliveryFailed || d.LastError != "workflow terminated outside Hookflow" {
			t.Fatalf("stored delivery: status %q, last_error %q", d.Status, d.LastError)
		}
		if code := s.call("POST", partnerBase+"/delivery/"+itoa64(d.ID)+"/retry", nil, &got); code != 202 {
			t.Fatalf("redeliver terminated delivery: %d %v, want 202", code, got)
		}
		waitFor(t, 30*time.Second, "the redelivery", func() bool { return s.deliveryStatus(one, "term-1") == models.DeliverySucceeded })

		// The other one was never read: a bulk retry of failed deliveries includes it.
		window := map[string]any{
			"start_date": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
			"end_date":   time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
			"status":     "failed",
		}
		var job map[string]any
		if code := s.call("POST", partnerBase+"/retry", window, &job); code != 202 {
			t.Fatalf("bulk retry: %d %v", code, job)
		}
		waitFor(t, 30*time.Second, "the bulk redelivery", func() bool { return s.deliveryStatus(bulk, "term-1") == models.DeliverySucceeded })
		per := map[string]int{}
		for _, r := range rc.requests() {
			per[r.Header.Get("webhook-id")]++
		}
		for _, sub := range []int64{one, bulk} {
			if id := "msg_" + itoa64(s.deliveries(sub)["term-1"].ID); per[id] != 2 {
				t.Errorf("%s was POSTed %d times, want 2 (the failed attempt and the redelivery)", id, per[id])
			}
		}
		if !strings.Contains(fmt.Sprint(job["status"]), "failed") {
			t.Errorf("job %v", job)
		}
	})
}
