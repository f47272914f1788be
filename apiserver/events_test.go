package apiserver_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestCatalogueMisses checks that events with slugs outside the catalogue cost the
// database at most one catalogue query per miss period, however many are sent: an
// unknown slug used to reload the catalogue on every request, under a lock that every
// other producer's ingestion waited on.
func TestCatalogueMisses(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		ts := MustNewServerWith(t, db, func(_ *apiserver.Config, deps *apiserver.Deps) { deps.Now = clk.Now })
		const path = "/service/platform/webhook/v1.0/company/1/events"
		send := func(id, slug string, want int) {
			t.Helper()
			rec := doJSON(t, ts, http.MethodPost, path, adminToken, map[string]any{"id": id, "event_slug": slug, "payload": map[string]int{"uid": 1}})
			mustStatus(t, rec, want)
		}
		send("known-0", "company/product/create/v1", http.StatusAccepted) // loads the catalogue

		before := ts.Store.Statements()
		for i := range 200 {
			send("unknown-"+strconv.Itoa(i), "company/widget/create/v"+strconv.Itoa(i%7+1), http.StatusUnprocessableEntity)
		}
		if n := ts.Store.Statements() - before; n != 0 {
			t.Errorf("200 unknown slugs within the miss period ran %d statements, want 0", n)
		}
		clk.Advance(3 * time.Second)
		before = ts.Store.Statements()
		for i := range 200 {
			send("unknown-late-"+strconv.Itoa(i), "company/widget/create/v1", http.StatusUnprocessableEntity)
		}
		if n := ts.Store.Statements() - before; n != 1 {
			t.Errorf("200 unknown slugs after the miss period ran %d statements, want 1 (one reload)", n)
		}
		send("known-1", "company/product/update/v1", http.StatusAccepted)
	})
}
