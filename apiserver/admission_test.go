package apiserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestAdmission: a company whose accepted work is not under way yet (events not fanned
// out, deliveries waiting for their first attempt) past the bound gets 429 with
// Retry-After for its next events, nothing started; another company is still accepted;
// past the total bound only the companies over an equal share are refused; once the
// work gets under way, the company is accepted again.
func TestAdmission(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		ts := MustNewServerWith(t, db, func(c *apiserver.Config, deps *apiserver.Deps) {
			c.Admission = apiserver.Admission{CompanyBacklog: 5, TotalBacklog: 8}
			deps.Now = clk.Now
		})
		ctx := context.Background()
		var rows []*models.Event
		backlog := func(company int64, n int) {
			for i := range n {
				ev := &models.Event{CompanyID: company, EventID: "seed-" + strconv.FormatInt(company, 10) + "-" + strconv.Itoa(i),
					Slug: "company/product/create/v1", Payload: []byte(`{}`), AcceptedAt: clk.Now()}
				if _, err := ts.Store.StoreEvent(ctx, ev); err != nil {
					t.Fatal(err)
				}
				rows = append(rows, ev)
			}
		}
		send := func(company int64, id string) *http.Response {
			t.Helper()
			rec := doJSON(t, ts, http.MethodPost, "/service/platform/webhook/v1.0/company/"+strconv.FormatInt(company, 10)+"/events",
				adminToken, map[string]any{"id": id, "event_slug": "company/product/create/v1", "payload": map[string]int{"uid": 1}})
			return rec.Result()
		}
		wf := func(int64) string { return "wf" }
		backlog(1, 5)
		started := ts.Engine.Started()
		resp := send(1, "over-1")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("company 1 with 5 events waiting (bound 5): %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		var body struct{ Message string }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || !strings.Contains(body.Message, "behind") {
			t.Errorf("429 body: %+v, %v; want a message that says delivery is behind", body, err)
		}
		if ts.Engine.Started() != started {
			t.Errorf("a refused event started a workflow")
		}
		if got := send(2, "quiet-1").StatusCode; got != http.StatusAccepted {
			t.Errorf("company 2 with nothing waiting: %d, want 202", got)
		}

		// Total 8 reached: company 3 (1 of 8, under an equal share of 8/3) is accepted;
		// company 1 stays refused.
		backlog(2, 2)
		backlog(3, 1)
		clk.Advance(2 * time.Second)
		if got := send(3, "quiet-3").StatusCode; got != http.StatusAccepted {
			t.Errorf("company 3 under its share of the total: %d, want 202", got)
		}
		if got := send(1, "over-2").StatusCode; got != http.StatusTooManyRequests {
			t.Errorf("company 1 over its share: %d, want 429", got)
		}

		// The work gets under way (fanned out, nothing pending): accepted again once
		// the backlog is counted anew.
		for _, ev := range rows {
			// No subscriber: planning marks the event fanned out.
			if _, _, err := ts.Store.PlanDeliveries(ctx, ev, 0, 100, wf); err != nil {
				t.Fatal(err)
			}
		}
		if got := send(1, "over-3").StatusCode; got != http.StatusTooManyRequests {
			t.Errorf("within a second of the count: %d, want the count's 429 still", got)
		}
		clk.Advance(2 * time.Second)
		if got := send(1, "after").StatusCode; got != http.StatusAccepted {
			t.Errorf("company 1 after its work got under way: %d, want 202", got)
		}
	})
}
