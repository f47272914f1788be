package main_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

var soakID = regexp.MustCompile(`soak-[0-9]+`)

// TestRetentionSoak: events flow at a steady rate for a while with a short retention and
// the purge schedule running every 2 s; the rows and the database's size level off
// instead of growing with the events sent, and every event is delivered (the purge never
// removes what a delivery under way needs). The series is logged (BENCHMARKS.md).
// On PostgreSQL the purges end with VACUUM (HOOKFLOW_PURGE_VACUUM), since this machine's
// server runs without autovacuum.
func TestRetentionSoak(t *testing.T) {
	length, rate := 60*time.Second, 20 // events per second, one delivery each
	if testing.Short() {
		length = 30 * time.Second
	}
	const retention, interval = 15 * time.Second, 2 * time.Second
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		s := startStack(t, db, func(c *main.Config) {
			c.DeliveryMode = workflows.ModeInlineFirst
			c.Retention = store.Retention{Records: retention, Payloads: retention / 2, Reports: retention}
			c.PurgeInterval = interval
			c.PurgeVacuum = true
		})
		rc := newReceiver(t, func(int, *http.Request) int { return http.StatusOK })
		s.createSubscriber(rc.URL, nil)

		type sample struct {
			at time.Duration
			st store.StorageStats
		}
		var series []sample
		ctx := context.Background()
		start := time.Now()
		measure := func() {
			st, err := s.Store().Storage(ctx)
			if err != nil {
				t.Fatalf("storage: %v", err)
			}
			series = append(series, sample{time.Since(start).Round(time.Second), st})
		}
		sent := 0
		tick := time.NewTicker(time.Second / time.Duration(rate))
		next := time.Now().Add(5 * time.Second)
		for time.Since(start) < length {
			<-tick.C
			s.send(fmt.Sprintf("soak-%d", sent))
			sent++
			if time.Now().After(next) {
				measure()
				next = next.Add(5 * time.Second)
			}
		}
		tick.Stop()
		waitFor(t, 60*time.Second, "every event delivered", func() bool { return len(rc.requests()) >= sent })
		ids := map[string]bool{}
		for _, r := range rc.requests() {
			// The envelope carries the event id.
			if id := soakID.Find(r.Body); id != nil {
				ids[string(id)] = true
			}
		}
		if len(ids) != sent {
			t.Errorf("%d of %d events reached the receiver", len(ids), sent)
		}

		var b strings.Builder
		for _, smp := range series {
			fmt.Fprintf(&b, "\n  %4ds  deliveries %5d  attempts %5d  events %5d  attempt_stats %4d  %6.1f MiB",
				int(smp.at.Seconds()), smp.st.Rows["deliveries"], smp.st.Rows["attempts"], smp.st.Rows["events"], smp.st.Rows["attempt_stats"], float64(smp.st.Bytes)/(1<<20))
		}
		t.Logf("%s: %d events at %d/s, retention %v, purge every %v:%s", db.Name, sent, rate, retention, interval, b.String())

		// Past the warm-up (retention, two purges and slack), what is kept is about
		// rate × (retention + interval + the lag of the purge), whatever was sent before.
		steady := int64(float64(rate) * (retention + 2*interval + 5*time.Second).Seconds())
		warm := retention + 3*interval + 5*time.Second
		var sizeAtWarm, maxSize int64
		for _, smp := range series {
			if smp.at < warm {
				continue
			}
			if sizeAtWarm == 0 {
				sizeAtWarm = smp.st.Bytes
			}
			maxSize = max(maxSize, smp.st.Bytes)
			for _, table := range []string{"deliveries", "attempts", "events"} {
				if n := smp.st.Rows[table]; n > 2*steady {
					t.Errorf("at %v %s has %d rows, want them to level off near %d (%d events sent by then)", smp.at, table, n, steady, int(smp.at.Seconds())*rate)
				}
			}
		}
		if sizeAtWarm == 0 {
			t.Fatalf("no sample past the warm-up of %v", warm)
		}
		if maxSize > 2*sizeAtWarm {
			t.Errorf("the database grew from %d to %d bytes after the warm-up, want it to level off", sizeAtWarm, maxSize)
		}
	})
}
