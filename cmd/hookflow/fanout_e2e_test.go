package main_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestFanOut5000 sends one event to 5,000 subscribers: every one receives it once,
// although one run of the event workflow starts at most 1,000 deliveries (it continues
// as new for the rest).
func TestFanOut5000(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		if testing.Short() {
			t.Skip("the 5,000-subscriber fan-out takes a minute; it runs without -short (CI runs it)")
		}
		const n = 5000
		s := startStack(t, storetest.Databases(t)[0], withMode(mode))
		var mu sync.Mutex
		got := map[string]int{}
		rc := newReceiver(t, func(_ int, r *http.Request) int {
			mu.Lock()
			got[r.URL.Path]++
			mu.Unlock()
			return http.StatusOK
		})
		ctx := context.Background()
		storetest.MustInstall(t, s.Store(), "org-1", "ext-1", 1)
		for i := 0; i < n; i++ {
			sub := &models.Subscriber{OrganizationID: "org-1", ExtensionID: "ext-1", CompanyID: 1, Name: fmt.Sprintf("fan %d", i),
				WebhookURL: fmt.Sprintf("%s/s/%d", rc.URL, i), Status: models.StatusActive, InactivePolicy: models.PolicyQueue,
				Secret: "fan-out-secret", Events: []models.SubscriberEvent{{Slug: "company/product/create/v1"}}}
			if err := s.Store().CreateSubscriber(ctx, sub); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		s.send("fan-1")
		waitFor(t, 4*time.Minute, "5,000 deliveries", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) == n
		})
		elapsed := time.Since(start)
		mu.Lock()
		for path, count := range got {
			if count != 1 || !strings.HasPrefix(path, "/s/") {
				t.Errorf("%s received %d times", path, count)
			}
		}
		mu.Unlock()
		t.Logf("5,000 deliveries in %v (%.0f/s)", elapsed.Round(time.Millisecond), n/elapsed.Seconds())
	})
}
