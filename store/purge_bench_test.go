package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// BenchmarkPurge1M purges 100,000 succeeded deliveries with 10 attempts each (1,000,000
// attempt rows, 512-byte response bodies) and their events, all past retention, from
// PostgreSQL in the purge's batches of 2,000, and reports rows removed per second. It
// needs HOOKFLOW_TEST_DATABASE_URL; run it with -benchtime=1x (seeding takes longer than
// the purge). The database's autovacuum state does not matter: the purge only deletes.
func BenchmarkPurge1M(b *testing.B) {
	base := os.Getenv(storetest.EnvDatabaseURL)
	if base == "" {
		b.Skip("set HOOKFLOW_TEST_DATABASE_URL to a PostgreSQL server")
	}
	const deliveries, perDelivery = 100_000, 10
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		dsn := storetest.NewPostgresSchema(b, base)
		s := storetest.MustOpen(b, dsn)
		seedPurgeable(b, dsn, deliveries, perDelivery)

		r := store.Retention{Records: 30 * 24 * time.Hour, Payloads: 7 * 24 * time.Hour, Reports: 400 * 24 * time.Hour}
		cutoffs := r.CutoffsAt(time.Now())
		b.StartTimer()
		start := time.Now()
		p := store.PurgeProgress{Removed: map[string]int64{}}
		for !p.Cursor.Done() {
			var err error
			if p, _, err = s.PurgeRunBatch(ctx, "bench-1m", cutoffs, p, 2000); err != nil {
				b.Fatal(err)
			}
		}
		total, batches := p.Removed, p.Batches
		elapsed := time.Since(start)
		b.StopTimer()
		if total["attempts"] != deliveries*perDelivery || total["deliveries"] != deliveries || total["events"] != deliveries {
			b.Fatalf("removed %v, want every seeded row", total)
		}
		rows := total["attempts"] + total["deliveries"] + total["events"]
		b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(elapsed.Milliseconds())/float64(batches), "ms/batch")
		b.Logf("removed %v in %v, %d batches", total, elapsed.Round(time.Millisecond), batches)
	}
}

// BenchmarkPurgeUnderIngestion measures what a purge, paced as the Purge activity paces
// it, costs the deliveries being made meanwhile: one delivery's database work (store the event, plan its delivery, record a
// succeeded attempt) at 100 per second, its latency's p99 for 10 s without a purge and
// then while BenchmarkPurge1M's 1,000,000 attempts (and their deliveries and events) are
// purged, on PostgreSQL. Run it with -benchtime=1x.
func BenchmarkPurgeUnderIngestion(b *testing.B) {
	base := os.Getenv(storetest.EnvDatabaseURL)
	if base == "" {
		b.Skip("set HOOKFLOW_TEST_DATABASE_URL to a PostgreSQL server")
	}
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		dsn := storetest.NewPostgresSchema(b, base)
		s := storetest.MustOpen(b, dsn)
		seedPurgeable(b, dsn, 100_000, 10)
		const slug = "company/product/create/v1"
		storetest.MustInstall(b, s, "org-live", "ext", 1)
		sub := &models.Subscriber{OrganizationID: "org-live", ExtensionID: "ext", CompanyID: 1, Name: "live", WebhookURL: "https://example.com/hook",
			Status: models.StatusActive, InactivePolicy: models.PolicyQueue, Secret: "s3cret-value", Events: []models.SubscriberEvent{{Slug: slug}}}
		if err := s.CreateSubscriber(ctx, sub); err != nil {
			b.Fatal(err)
		}
		n := 0
		deliver := func() time.Duration {
			start := time.Now()
			n++
			ev := &models.Event{CompanyID: 1, EventID: fmt.Sprintf("live-%d", n), Slug: slug, Payload: []byte(`{"a":1}`), AcceptedAt: start}
			if _, err := s.StoreEvent(ctx, ev); err != nil {
				b.Fatal(err)
			}
			planned, _, err := s.PlanDeliveries(ctx, ev, 0, 10, func(id int64) string { return fmt.Sprintf("wf-%d-%d", n, id) })
			if err != nil || len(planned) != 1 {
				b.Fatalf("plan: %v %v", planned, err)
			}
			err = s.RecordAttempt(ctx, store.AttemptRecord{Status: models.DeliverySucceeded, Attempt: models.Attempt{
				DeliveryID: planned[0].DeliveryID, OrganizationID: "org-live", ExtensionID: "ext", CompanyID: 1, SubscriberID: sub.ID,
				EventSlug: slug, Attempt: 1, AttemptedOn: time.Now(), ResponseCode: 200, ResponseTimeMS: 5,
			}})
			if err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		// ingest delivers at 100/s until done is closed and returns the latencies.
		ingest := func(done <-chan struct{}) []time.Duration {
			var lat []time.Duration
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return lat
				case <-tick.C:
					lat = append(lat, deliver())
				}
			}
		}
		// The p99 without a purge is taken before and after it (15 s each, pooled): the
		// machine's fsync latency drifts, and one window alone misleads.
		quietly := func() []time.Duration {
			quiet := make(chan struct{})
			time.AfterFunc(15*time.Second, func() { close(quiet) })
			return ingest(quiet)
		}
		before := quietly()

		b.StartTimer()
		purged := make(chan struct{})
		var total int64
		var elapsed time.Duration
		go func() {
			defer close(purged)
			r := store.Retention{Records: 30 * 24 * time.Hour, Payloads: 7 * 24 * time.Hour, Reports: 400 * 24 * time.Hour}
			c := r.CutoffsAt(time.Now())
			start := time.Now()
			p := store.PurgeProgress{Removed: map[string]int64{}}
			// As the Purge activity runs it: batches of activities.DefaultPurgeBatch,
			// each followed by a pause as long as it took.
			for !p.Cursor.Done() {
				t0 := time.Now()
				var err error
				if p, _, err = s.PurgeRunBatch(ctx, "bench-under-ingestion", c, p, activities.DefaultPurgeBatch); err != nil {
					b.Error(err)
					return
				}
				time.Sleep(time.Since(t0))
			}
			total = p.Removed["attempts"] + p.Removed["deliveries"] + p.Removed["events"]
			elapsed = time.Since(start)
		}()
		with := ingest(purged)
		b.StopTimer()
		after := quietly()
		p99 := func(l []time.Duration) time.Duration {
			l = slices.Clone(l)
			slices.Sort(l)
			return l[len(l)*99/100]
		}
		without := append(slices.Clone(before), after...)
		pw, pq := p99(with), p99(without)
		b.ReportMetric(float64(pq.Microseconds())/1000, "p99-ms-without")
		b.ReportMetric(float64(pw.Microseconds())/1000, "p99-ms-with")
		b.ReportMetric(float64(pw)/float64(pq), "p99-ratio")
		b.ReportMetric(float64(total)/elapsed.Seconds(), "purged-rows/s")
		b.Logf("without a purge: %d deliveries, p99 %v (before %v, after %v); during the purge (%d rows in %v): %d deliveries, p99 %v (%.2f×)",
			len(without), pq.Round(10*time.Microsecond), p99(before).Round(10*time.Microsecond), p99(after).Round(10*time.Microsecond),
			total, elapsed.Round(time.Millisecond), len(with), pw.Round(10*time.Microsecond), float64(pw)/float64(pq))
	}
}

// seedPurgeable fills the database at dsn with deliveries succeeded two months ago,
// perDelivery attempts each (512-byte response bodies), and their events.
func seedPurgeable(b *testing.B, dsn string, deliveries, perDelivery int) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	old := time.Now().Add(-60 * 24 * time.Hour)
	for _, seed := range []struct {
		sql string
		n   int
	}{{
		`INSERT INTO events (company_id, event_id, slug, payload, accepted_at, fanned_out_at)
		 SELECT 1, 'bench-' || g, 'company/product/create/v1', convert_to(repeat('x', 1024), 'UTF8'), $1, $1 FROM generate_series(1, $2) g`, deliveries,
	}, {
		`INSERT INTO deliveries (event_row_id, subscriber_id, event_id, company_id, organization_id, extension_id, event_slug,
		   status, attempts, series, last_response_code, last_response_time_ms, workflow_id, event_accepted_at, created_at, updated_at, completed_at)
		 SELECT id, 1, event_id, 1, 'org-bench', 'ext', slug, 'succeeded', $2, 0, 200, 10, 'wf-' || id, $1, $1, $1, $1 FROM events`, perDelivery,
	}, {
		`INSERT INTO attempts (delivery_id, organization_id, extension_id, company_id, subscriber_id, event_slug, attempt,
		   attempted_on, response_code, response_time_ms, error, error_class, response_body)
		 SELECT d.id, 'org-bench', 'ext', 1, 1, d.event_slug, a, $1, 200, 10, '', '', repeat('r', 512)
		 FROM deliveries d CROSS JOIN generate_series(1, $2) a`, perDelivery,
	}} {
		if _, err := conn.Exec(ctx, seed.sql, old, seed.n); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}
