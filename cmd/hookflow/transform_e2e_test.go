package main_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestFilterAndReducerAtDelivery checks that a subscriber with a filter gets only the
// events that match, with the payload its reducer shapes, and that the validate
// endpoints give the same answers as delivery.
func TestFilterAndReducerAtDelivery(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
			s := startStack(t, db, withMode(mode))
			rc := newReceiver(t, nil)
			filter := map[string]any{"logic": "and", "conditions": []any{
				map[string]any{"query": "$.brand.uid", "condition": "(uid) => uid === 238"},
				map[string]any{"query": "$.price.effective", "condition": "function (p) { return p > 1000 }"},
			}}
			reducer := map[string]any{"brand_name": "$.brand.name", "logo": map[string]any{"url": "$.brand.logo"}, "skus": "$.sizes[*].size", "source": 1}
			sub := s.createSubscriber(rc.URL, nil)

			// Validate first, with the same configuration and the catalogue's sample payload.
			var catalogue struct {
				EventConfigs []struct {
					Slug          string          `json:"slug"`
					SamplePayload json.RawMessage `json:"sample_payload"`
				} `json:"event_configs"`
			}
			s.call("GET", "/service/common/webhook/v1.0/events", nil, &catalogue)
			var sample json.RawMessage
			for _, e := range catalogue.EventConfigs {
				if e.Slug == "company/product/create/v1" {
					sample = e.SamplePayload
				}
			}
			var vf map[string]any
			if code := s.call("POST", partnerBase+"/validate/filter", map[string]any{"sample_data": sample, "filters": filter}, &vf); code != 200 || vf["success"] != true || vf["filter_result"] != true {
				t.Fatalf("validate filter: %d %v", code, vf)
			}
			var vr map[string]any
			if code := s.call("POST", partnerBase+"/validate/reducer", map[string]any{"sample_data": sample, "reducer": reducer}, &vr); code != 200 || vr["success"] != true {
				t.Fatalf("validate reducer: %d %v", code, vr)
			}
			if got, _ := json.Marshal(vr["reducer_result"]); !strings.Contains(string(got), `"brand_name":"Nike"`) {
				t.Fatalf("reducer_result = %s", got)
			}
			var bad map[string]any
			s.call("POST", partnerBase+"/validate/filter", map[string]any{"sample_data": sample, "filters": map[string]any{"query": "$.[", "condition": "x => x"}}, &bad)
			if bad["success"] != false || bad["filter_result"] != false || !strings.Contains(bad["message"].(string), "query") {
				t.Fatalf("invalid filter validation = %v", bad)
			}

			// Save, refusing a broken script first.
			path := partnerBase + "/company/1/subscriber/" + itoa64(sub) + "/filter_reducer"
			var e errorEnvelope
			if code := s.call("PUT", path, map[string]any{"event_slug": "company/product/create/v1",
				"filter_configuration": map[string]any{"query": "$.uid", "condition": "(x) => {"}}, &e); code != 400 || !e.hasField("filter_configuration.condition") {
				t.Fatalf("saving a syntax error: %d %+v", code, e)
			}
			if code := s.call("PUT", path, map[string]any{"event_slug": "company/order/nothing/v1", "filter_configuration": filter}, &e); code != 422 || !e.hasField("event_slug") {
				t.Fatalf("saving for an unsubscribed event: %d %+v", code, e)
			}
			var saved map[string]any
			if code := s.call("PUT", path, map[string]any{"event_slug": "company/product/create/v1",
				"filter_configuration": filter, "reducer_configuration": reducer}, &saved); code != 200 || saved["success"] != true {
				t.Fatalf("save: %d %v", code, saved)
			}

			send := func(id string, brand int, price float64) {
				ev := map[string]any{"id": id, "event_slug": "company/product/create/v1", "payload": map[string]any{
					"uid": 1, "brand": map[string]any{"uid": brand, "name": "Brand " + id, "logo": "https://cdn/" + id + ".png"},
					"price": map[string]any{"effective": price}, "sizes": []any{map[string]any{"size": "S"}, map[string]any{"size": "M"}},
				}}
				if code := s.call("POST", eventsPath, ev, nil); code != 202 {
					t.Fatalf("send %s: %d", id, code)
				}
			}
			send("f-match", 238, 1500)
			send("f-brand", 999, 1500)
			send("f-cheap", 238, 10)
			waitFor(t, 20*time.Second, "three deliveries to end", func() bool {
				ds := s.deliveries(sub)
				return len(ds) == 3 && models.DeliveryFinal(ds["f-match"].Status) && models.DeliveryFinal(ds["f-brand"].Status) && models.DeliveryFinal(ds["f-cheap"].Status)
			})
			ds := s.deliveries(sub)
			if ds["f-match"].Status != models.DeliverySucceeded || ds["f-brand"].Status != models.DeliveryFiltered || ds["f-cheap"].Status != models.DeliveryFiltered {
				t.Fatalf("statuses: match %s, brand %s, cheap %s", ds["f-match"].Status, ds["f-brand"].Status, ds["f-cheap"].Status)
			}
			reqs := rc.requests()
			if len(reqs) != 1 {
				t.Fatalf("receiver got %d requests, want only the matching event", len(reqs))
			}
			body := string(reqs[0].Body)
			want := `"contains":["brand_name","logo","skus","source"],"payload":{"brand_name":"Brand f-match","logo":{"url":"https://cdn/f-match.png"},"skus":["S","M"],"source":1}}`
			if !strings.Contains(body, want) || !strings.Contains(body, `"name":"product","type":"create"`) {
				t.Fatalf("body %s\nlacks %s", body, want)
			}
			if !verifyFP("lifecycle-secret", reqs[0].Body, reqs[0].Header.Get("x-fp-signature")) {
				t.Fatal("the reduced body's signature does not verify")
			}
		})
	})
}

// TestFilterErrorAtDelivery checks that a condition that throws on an event records the
// error on the delivery and does not send it.
func TestFilterErrorAtDelivery(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], withMode(mode))
		rc := newReceiver(t, nil)
		sub := s.createSubscriber(rc.URL, func(b map[string]any) {
			b["events"] = []any{map[string]any{"slug": "company/product/create/v1",
				"filters": map[string]any{"query": "$.brand", "condition": "(b) => b.uid.toFixed(0) === '1'"}}}
		})
		s.send("throws") // its payload has no brand: b is undefined, b.uid throws
		waitFor(t, 20*time.Second, "the filter error", func() bool { return s.deliveryStatus(sub, "throws") == models.DeliveryFilterFail })
		d := s.deliveries(sub)["throws"]
		if !strings.Contains(d.LastError, "TypeError") || len(rc.requests()) != 0 {
			t.Fatalf("delivery %+v, %d requests; want the TypeError recorded and nothing sent", d, len(rc.requests()))
		}
	})
}
