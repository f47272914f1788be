package main_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// verifyFP checks x-fp-signature the way a receiver does, from the spec: lowercase hex
// HMAC-SHA256 of the raw body, keyed with the secret's bytes.
func verifyFP(secret string, body []byte, sig string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig))
}

// verifyStandard checks webhook-signature per the Standard Webhooks spec: any of the
// space-separated v1 signatures is base64 HMAC-SHA256 of "id.timestamp.body", keyed
// with the base64-decoded secret after "whsec_", or the secret's bytes without it.
func verifyStandard(secret string, h http.Header, body []byte) bool {
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if k, err := base64.StdEncoding.DecodeString(rest); err == nil {
			key = k
		}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

func TestDeliveryEndToEnd(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
			s := startStack(t, db, withMode(mode))
			rc := newReceiver(t, nil)
			const secret = "test-secret-0123"

			var sub map[string]any
			mustInstallExt(t, s.APIURL(), 1)
			if code := s.call("POST", partnerBase+"/company/1/subscriber", subscriberBody(rc.URL, secret, "company/product/create/v1"), &sub); code != 201 {
				t.Fatalf("create subscriber: %d %v", code, sub)
			}
			subID := int64(sub["id"].(float64))
			if got := sub["auth_meta"].(map[string]any)["secret"]; got != secret {
				t.Fatalf("created subscriber shows secret %q, want it in full once", got)
			}
			var got map[string]any
			if code := s.call("GET", partnerBase+"/company/1/subscriber/"+strconv.FormatInt(subID, 10), nil, &got); code != 200 {
				t.Fatalf("get subscriber: %d %v", code, got)
			}
			if masked := got["auth_meta"].(map[string]any)["secret"].(string); masked == secret || !strings.Contains(masked, "*") {
				t.Fatalf("get shows secret %q, want it masked", masked)
			}

			event := map[string]any{
				"id": "evt-1", "event_slug": "company/product/create/v1", "application_id": "app-9",
				"payload": json.RawMessage(`{"uid":7501,"name":"Shoe <b>","price":12.50,"big":1e3,"brand":{"uid":238}}`),
			}
			var accepted map[string]any
			if code := s.call("POST", "/service/platform/webhook/v1.0/company/1/events", event, &accepted); code != 202 {
				t.Fatalf("send event: %d %v", code, accepted)
			}
			if accepted["duplicate"] != false || accepted["event_id"] != "evt-1" || accepted["workflow_id"] != "event:1:evt-1" {
				t.Fatalf("accepted = %v", accepted)
			}

			waitFor(t, 30*time.Second, "the delivery", func() bool { return len(rc.requests()) >= 1 })
			req := rc.requests()[0]
			if ct := req.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if !verifyFP(secret, req.Body, req.Header.Get("x-fp-signature")) {
				t.Errorf("x-fp-signature %q does not verify", req.Header.Get("x-fp-signature"))
			}
			if !verifyStandard(secret, req.Header, req.Body) {
				t.Errorf("webhook-signature %q does not verify", req.Header.Get("webhook-signature"))
			}
			if req.Header.Get("x-fp-event-id") != "evt-1" || !strings.HasPrefix(req.Header.Get("User-Agent"), "Hookflow") {
				t.Errorf("headers %v", req.Header)
			}
			body := string(req.Body)
			for _, want := range []string{
				`{"event":{"id":"evt-1","name":"product","type":"create","category":"company","version":"1","created_timestamp":`,
				`"company_id":1,"application_id":"app-9","contains":["uid","name","price","big","brand"],`,
				`"payload":{"uid":7501,"name":"Shoe <b>","price":12.5,"big":1000,"brand":{"uid":238}}}`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("body %s\nlacks %s", body, want)
				}
			}

			// The same event id again is accepted as a duplicate and not delivered again.
			var dup map[string]any
			if code := s.call("POST", "/service/platform/webhook/v1.0/company/1/events", event, &dup); code != 202 || dup["duplicate"] != true {
				t.Fatalf("resend: %d %v, want 202 duplicate", code, dup)
			}

			deliveryID := deliveryIDOf(t, req)
			waitFor(t, 10*time.Second, "the delivery to be recorded", func() bool {
				d, err := s.Store().DeliveryByID(context.Background(), deliveryID)
				return err == nil && d.Status == models.DeliverySucceeded
			})
			attempts, err := s.Store().ListAttempts(context.Background(), deliveryID)
			if err != nil || len(attempts) != 1 || attempts[0].Attempt != 1 || attempts[0].ResponseCode != 200 || attempts[0].ResponseBody != `{"received":1}` {
				t.Fatalf("attempts = %+v, %v", attempts, err)
			}
			// A later event is the barrier: once it has arrived, a second POST of evt-1
			// (from the resend, or a repeated attempt) would have been started before it.
			later := map[string]any{"id": "evt-2", "event_slug": "company/product/create/v1",
				"payload": json.RawMessage(`{"uid":7502}`)}
			if code := s.call("POST", "/service/platform/webhook/v1.0/company/1/events", later, nil); code != 202 {
				t.Fatalf("send the later event: %d", code)
			}
			waitFor(t, 30*time.Second, "the later event", func() bool {
				for _, r := range rc.requests() {
					if r.Header.Get("x-fp-event-id") == "evt-2" {
						return true
					}
				}
				return false
			})
			n := 0
			for _, r := range rc.requests() {
				if r.Header.Get("x-fp-event-id") == "evt-1" {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("receiver got evt-1 %d times, want exactly once", n)
			}
		})
	})
}

func TestRetryThenSuccess(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], withMode(mode))
		rc := newReceiver(t, func(n int, _ *http.Request) int {
			if n == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		mustInstallExt(t, s.APIURL(), 7)
		if code := s.call("POST", partnerBase+"/company/7/subscriber", subscriberBody(rc.URL, "another-secret", "application/order/placed/v1"), nil); code != 201 {
			t.Fatalf("create subscriber: %d", code)
		}
		event := map[string]any{"id": "ord-1", "event_slug": "application/order/placed/v1", "payload": map[string]any{"order_id": "FY1"}}
		if code := s.call("POST", "/service/platform/webhook/v1.0/company/7/events", event, nil); code != 202 {
			t.Fatalf("send event: %d", code)
		}
		waitFor(t, 30*time.Second, "the retry", func() bool { return len(rc.requests()) >= 2 })
		reqs := rc.requests()
		if reqs[0].Header.Get("webhook-id") != reqs[1].Header.Get("webhook-id") {
			t.Errorf("webhook-id changed between attempts: %q, %q", reqs[0].Header.Get("webhook-id"), reqs[1].Header.Get("webhook-id"))
		}
		id := deliveryIDOf(t, reqs[0])
		waitFor(t, 10*time.Second, "success to be recorded", func() bool {
			d, err := s.Store().DeliveryByID(context.Background(), id)
			return err == nil && d.Status == models.DeliverySucceeded && d.Attempts == 2
		})
		attempts, _ := s.Store().ListAttempts(context.Background(), id)
		if len(attempts) != 2 || attempts[0].ResponseCode != 503 || attempts[0].ErrorClass != models.ErrClassServer || attempts[1].ResponseCode != 200 {
			t.Fatalf("attempts = %+v", attempts)
		}
	})
}

// deliveryIDOf reads the delivery id from a request's webhook-id (msg_<id>).
func deliveryIDOf(t *testing.T, r received) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(r.Header.Get("webhook-id"), "msg_"), 10, 64)
	if err != nil {
		t.Fatalf("webhook-id %q: %v", r.Header.Get("webhook-id"), err)
	}
	return id
}
