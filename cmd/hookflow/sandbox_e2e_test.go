package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestReducerTooLargeAtDelivery checks that a reducer whose result on an event would be
// larger than an event payload may be ends the delivery filter_error with the reason,
// and sends nothing: {"all":"$..*"} on this 180 KB payload would make about 5 MB.
func TestReducerTooLargeAtDelivery(t *testing.T) {
	s := startStack(t, storetest.Databases(t)[0], nil)
	rc := newReceiver(t, nil)
	sub := s.createSubscriber(rc.URL, func(b map[string]any) {
		b["events"] = []any{map[string]any{"slug": "company/product/create/v1", "reducer": map[string]any{"all": "$..*"}}}
	})
	deep := map[string]any{"end": true}
	for i := 0; i < 60; i++ {
		deep = map[string]any{"s": strings.Repeat("x", 3000), "a": deep}
	}
	ev := map[string]any{"id": "amplified", "event_slug": "company/product/create/v1", "payload": deep}
	if code := s.call("POST", eventsPath, ev, nil); code != 202 {
		t.Fatalf("send: %d", code)
	}
	waitFor(t, 30*time.Second, "the reducer error", func() bool { return s.deliveryStatus(sub, "amplified") == models.DeliveryFilterFail })
	d := s.deliveries(sub)["amplified"]
	if !strings.Contains(d.LastError, "reducer: the reduced payload exceeds the limit of 1048576 bytes") || len(rc.requests()) != 0 {
		t.Fatalf("delivery %+v, %d requests; want the reducer's limit recorded and nothing sent", d, len(rc.requests()))
	}
}
