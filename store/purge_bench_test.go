package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
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
		_ = conn.Close(ctx)

		r := store.Retention{Records: 30 * 24 * time.Hour, Payloads: 7 * 24 * time.Hour, Reports: 400 * 24 * time.Hour}
		cutoffs := r.CutoffsAt(time.Now())
		b.StartTimer()
		start := time.Now()
		var cur store.PurgeCursor
		total := map[string]int64{}
		batches := 0
		for !cur.Done() {
			next, removed, err := s.PurgeBatch(ctx, cutoffs, cur, 2000)
			if err != nil {
				b.Fatal(err)
			}
			for k, n := range removed {
				total[k] += n
			}
			cur = next
			batches++
		}
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
