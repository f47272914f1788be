package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// BenchmarkResponseTimeSeries1M runs the response-time report over 30 days of 1,000,000
// attempts of one tenant (beside 200,000 of another) in PostgreSQL. It needs
// HOOKFLOW_TEST_DATABASE_URL.
func BenchmarkResponseTimeSeries1M(b *testing.B) {
	base := os.Getenv(storetest.EnvDatabaseURL)
	if base == "" {
		b.Skip("set HOOKFLOW_TEST_DATABASE_URL to a PostgreSQL server")
	}
	ctx := context.Background()
	dsn := storetest.NewPostgresSchema(b, base)
	s := storetest.MustOpen(b, dsn)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	start := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	load := `INSERT INTO attempts (delivery_id, organization_id, extension_id, company_id, subscriber_id, event_slug,
		attempt, attempted_on, response_code, response_time_ms, error, error_class, response_body)
		SELECT i + $4, $1, 'ext', 1, i % 50, 'company/product/create/v1', 1 + i % 3,
		       $2::timestamptz + (i * interval '30 days') / $3,
		       (ARRAY[200, 200, 200, 500, 404, 429])[1 + i % 6], 20 + (i::bigint * 7919) % 500, '', '', ''
		FROM generate_series(1, $3) AS i`
	if _, err := conn.Exec(ctx, load, "org-bench", start, 1_000_000, 0); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, load, "org-other", start, 200_000, 10_000_000); err != nil {
		b.Fatal(err)
	}
	// The attempts were loaded behind the store's back: build their per-minute sums as
	// RecordAttempt would have.
	if _, err := conn.Exec(ctx, `INSERT INTO attempt_stats (organization_id, extension_id, minute, response_code, attempt, count, total_ms)
		SELECT organization_id, extension_id, date_trunc('minute', attempted_on), response_code, attempt, COUNT(*), SUM(response_time_ms)
		FROM attempts GROUP BY 1, 2, 3, 4, 5`); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE attempts, attempt_stats"); err != nil {
		b.Fatal(err)
	}
	q := store.ReportQuery{Tenant: models.Tenant{OrganizationID: "org-bench", ExtensionID: "ext"},
		Start: start, End: start.Add(30 * 24 * time.Hour)}
	q.Bucket = store.BucketFor(q.Start, q.End)
	var plan []string
	rows, err := conn.Query(ctx, `EXPLAIN SELECT date_trunc('day', minute AT TIME ZONE 'UTC'), response_code, attempt,
		SUM(total_ms), SUM(count) FROM attempt_stats WHERE organization_id = 'org-bench' AND extension_id = 'ext'
		AND minute >= $1 AND minute < $2 GROUP BY 1, 2, 3`, q.Start, q.End)
	if err == nil {
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
	}
	for _, line := range plan {
		b.Log(line)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		points, err := s.ResponseTimeSeries(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(points) != 30*6 { // 30 days × (3 codes × 3 attempts, of which 6 pairs occur)
			b.Fatalf("%d points", len(points))
		}
	}
}
