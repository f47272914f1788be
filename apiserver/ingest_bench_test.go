package apiserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/store/storetest"
)

// BenchmarkIngestBesideUnknownSlugs measures valid ingestion (the API with a real
// database and the engine stood in for) alone and with another producer sending 500
// events/s whose slugs are not in the catalogue, and reports the valid requests' p99.
// Those misses must not queue valid ingestion behind catalogue queries.
func BenchmarkIngestBesideUnknownSlugs(b *testing.B) {
	for _, noise := range []int{0, 500} {
		b.Run("unknown_rps="+strconv.Itoa(noise), func(b *testing.B) {
			ts := MustNewServer(b, storetest.Databases(b)[0])
			const path = "/service/platform/webhook/v1.0/company/1/events"
			post := func(id, slug string) int {
				req := newRequest(b, http.MethodPost, path, adminToken, map[string]any{"id": id, "event_slug": slug, "payload": map[string]int{"uid": 1}})
				rec := httptest.NewRecorder()
				ts.ServeHTTP(rec, req)
				return rec.Code
			}
			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			if noise > 0 {
				wg.Go(func() {
					tick := time.NewTicker(time.Second / time.Duration(noise))
					defer tick.Stop()
					for i := 0; ; i++ {
						select {
						case <-ctx.Done():
							return
						case <-tick.C:
							go post("noise-"+strconv.Itoa(i), "company/widget/create/v1")
						}
					}
				})
			}
			latencies := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if code := post("valid-"+strconv.Itoa(i), "company/product/create/v1"); code != http.StatusAccepted {
					b.Fatalf("valid event answered %d", code)
				}
				latencies = append(latencies, time.Since(start))
			}
			b.StopTimer()
			stop()
			wg.Wait()
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}
