package apiserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// conformRedelivery covers redelivering one delivery, bulk redelivery and notifications.
func conformRedelivery(t *testing.T, c *conformer, fx *conformFixture) {
	failed := MustCreateDelivery(t, c.ts.Store, fx.subscriberID, "evt-r1", models.DeliveryFailed)
	retry := fx.base + "/delivery/" + itoa(failed.ID) + "/retry"
	rec := c.do(t, call{Method: http.MethodPost, Path: retry, Token: fx.partnerKey, Want: http.StatusAccepted})
	got := mustDecode[struct {
		Status     string
		Series     int
		WorkflowID string `json:"workflow_id"`
	}](t, rec.Body.Bytes())
	if got.Status != models.DeliveryPending || got.Series != 1 || !strings.HasSuffix(got.WorkflowID, ":r1") {
		t.Errorf("redelivery: %s", rec.Body.String())
	}
	c.do(t, call{Method: http.MethodPost, Path: retry, Token: fx.partnerKey, Want: http.StatusConflict})
	c.do(t, call{Method: http.MethodPost, Path: fx.base + "/delivery/999999/retry", Token: fx.partnerKey, Want: http.StatusNotFound})
	c.do(t, call{Method: http.MethodPost, Path: fx.base + "/delivery/abc/retry", Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "delivery_id"})

	// With the engine down the delivery is left as it was, and can be redelivered later.
	second := MustCreateDelivery(t, c.ts.Store, fx.subscriberID, "evt-r2", models.DeliveryFailed)
	c.ts.Engine.SetDown(true)
	c.do(t, call{Method: http.MethodPost, Path: fx.base + "/delivery/" + itoa(second.ID) + "/retry", Token: fx.partnerKey, Want: http.StatusServiceUnavailable})
	c.ts.Engine.SetDown(false)
	rec = c.do(t, call{Method: http.MethodGet, Path: fx.base + "/delivery/" + itoa(second.ID), Token: fx.partnerKey, Want: http.StatusOK})
	if st := mustDecode[struct{ Status string }](t, rec.Body.Bytes()).Status; st != models.DeliveryFailed {
		t.Errorf("after a failed redelivery: status %q, want failed", st)
	}

	bulk := fx.base + "/retry"
	window := map[string]any{"start_date": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "end_date": time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}
	rec = c.do(t, call{Method: http.MethodPost, Path: bulk, Token: fx.partnerKey, Body: window, Want: http.StatusAccepted})
	job := mustDecode[struct {
		ID         int64
		State      string
		Total      int
		WorkflowID string `json:"workflow_id"`
	}](t, rec.Body.Bytes())
	if job.State != models.RetryRunning || job.Total != 1 || job.WorkflowID != "bulk-retry:"+itoa(job.ID) {
		t.Errorf("bulk retry: %s; want running, the 1 failed delivery", rec.Body.String())
	}
	filtered := map[string]any{"start_date": window["start_date"], "end_date": window["end_date"], "subscriber_ids": []int64{fx.subscriberID},
		"event_slugs": []string{"company/product/create/v1"}, "status": "succeeded"}
	c.do(t, call{Method: http.MethodPost, Path: bulk, Token: fx.partnerKey, Body: filtered, Want: http.StatusAccepted})
	c.do(t, call{Method: http.MethodPost, Path: bulk, Token: fx.partnerKey, Body: map[string]any{"start_date": "yesterday"},
		Want: http.StatusBadRequest, Invalid: true, Field: "end_date"})
	c.do(t, call{Method: http.MethodPost, Path: bulk, Token: fx.partnerKey, Body: map[string]any{"start_date": window["end_date"], "end_date": window["start_date"]},
		Want: http.StatusBadRequest, Field: "end_date"})
	c.do(t, call{Method: http.MethodPost, Path: bulk, Token: fx.partnerKey, Body: map[string]any{"start_date": window["start_date"], "end_date": window["end_date"], "status": "pending"},
		Want: http.StatusBadRequest, Invalid: true, Field: "status"})
	c.do(t, call{Method: http.MethodPost, Path: bulk, Token: fx.partnerKey, Body: bigBody(300 << 10), Want: http.StatusRequestEntityTooLarge, Invalid: true})
	c.ts.Engine.SetDown(true)
	c.do(t, call{Method: http.MethodPost, Path: bulk, Token: fx.partnerKey, Body: window, Want: http.StatusServiceUnavailable})
	c.ts.Engine.SetDown(false)
	c.do(t, call{Method: http.MethodGet, Path: bulk + "/" + itoa(job.ID), Token: fx.partnerKey, Want: http.StatusOK})
	// A job that stopped says why.
	stopped := &models.RetryJob{OrganizationID: fx.org, ExtensionID: fx.ext, StartDate: time.Now().Add(-time.Hour), EndDate: time.Now(),
		Status: models.DeliveryFailed, SubscriberIDs: models.JSON(`[1,`)}
	if err := c.ts.Store.CreateRetryJob(context.Background(), stopped); err != nil {
		t.Fatal(err)
	}
	stopped.State, stopped.Error = models.RetryFailed, "retry job "+itoa(stopped.ID)+": subscriber_ids: invalid JSON: unexpected end of JSON input"
	if err := c.ts.Store.UpdateRetryJob(context.Background(), stopped); err != nil {
		t.Fatal(err)
	}
	rec = c.do(t, call{Method: http.MethodGet, Path: bulk + "/" + itoa(stopped.ID), Token: fx.partnerKey, Want: http.StatusOK})
	if got := mustDecode[struct{ State, Error string }](t, rec.Body.Bytes()); got.State != models.RetryFailed || got.Error != stopped.Error {
		t.Errorf("GET a stopped job: %s; want state failed and its error", rec.Body.String())
	}
	c.do(t, call{Method: http.MethodGet, Path: bulk + "/999999", Token: fx.partnerKey, Want: http.StatusNotFound})
	c.do(t, call{Method: http.MethodGet, Path: bulk + "/abc", Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "retry_id"})

	MustCreateNotification(t, c.ts.Store, fx.org, fx.ext, fx.subscriberID)
	rec = c.do(t, call{Method: http.MethodGet, Path: fx.base + "/notifications", Token: fx.partnerKey, Want: http.StatusOK})
	if n := len(mustDecode[struct{ Items []any }](t, rec.Body.Bytes()).Items); n != 1 {
		t.Errorf("%d notifications, want 1", n)
	}
}

// conformDeliveries covers a delivery's detail: ended, under way (live state from the
// engine), not started yet, and with the engine down.
func conformDeliveries(t *testing.T, c *conformer, fx *conformFixture) {
	type live struct {
		WorkflowStatus string  `json:"workflow_status"`
		NextAttemptAt  *string `json:"next_attempt_at"`
	}
	type detail struct {
		Status        string
		RunID         string `json:"run_id"`
		TemporalUIURL string `json:"temporal_ui_url"`
		Attempts      []any
		Live          *live
	}
	get := func(id int64, want int) detail {
		rec := c.do(t, call{Method: http.MethodGet, Path: fx.base + "/delivery/" + itoa(id), Token: fx.partnerKey, Want: want})
		if want != http.StatusOK {
			return detail{}
		}
		return mustDecode[detail](t, rec.Body.Bytes())
	}
	ended := MustCreateDelivery(t, c.ts.Store, fx.subscriberID, "evt-d1", models.DeliverySucceeded)
	if d := get(ended.ID, http.StatusOK); d.Live != nil || len(d.Attempts) != 1 || d.TemporalUIURL == "" {
		t.Errorf("ended delivery: %+v, want 1 attempt, no live state, a Temporal UI link", d)
	}
	retrying := MustCreateDelivery(t, c.ts.Store, fx.subscriberID, "evt-d2", models.DeliveryRetrying)
	// In another zone than UTC: the API shows it in UTC.
	next := time.Now().In(time.FixedZone("IST", 5*3600+1800)).Add(30 * time.Second)
	c.ts.Engine.SetRunning(retrying.WorkflowID, apiserver.LiveState{WorkflowStatus: "RUNNING", RunID: "run-1", Phase: "waiting_retry", CurrentAttempt: 2,
		NextAttemptAt: &next, LastFailure: "HTTP 500 Internal Server Error"})
	if d := get(retrying.ID, http.StatusOK); d.Live == nil || d.Live.NextAttemptAt == nil || d.RunID != "run-1" || !strings.Contains(d.TemporalUIURL, "run-1") {
		t.Errorf("delivery under way: %+v, want its live state and run", d)
	}
	pending := MustCreateDelivery(t, c.ts.Store, fx.subscriberID, "evt-d3", models.DeliveryPending)
	if d := get(pending.ID, http.StatusOK); d.Live != nil || d.Status != models.DeliveryPending {
		t.Errorf("delivery whose workflow has not started: %+v, want no live state", d)
	}
	get(999999, http.StatusNotFound)
	c.do(t, call{Method: http.MethodGet, Path: fx.base + "/delivery/abc", Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "delivery_id"})
	c.ts.Engine.SetDown(true)
	get(retrying.ID, http.StatusServiceUnavailable)
	c.ts.Engine.SetDown(false)
}

// conformReports covers the reports over the deliveries made by the earlier groups.
func conformReports(t *testing.T, c *conformer, fx *conformFixture) {
	report := fx.base + "/report/"
	hour := rangeQuery(time.Hour, time.Hour)
	rec := c.do(t, call{Method: http.MethodGet, Path: report + "response_time_ts?" + hour, Token: fx.partnerKey, Want: http.StatusOK})
	rt := mustDecode[struct {
		Points []struct{ Total int64 } `json:"avg_response_time_ts"`
		Bucket string
	}](t, rec.Body.Bytes())
	if len(rt.Points) == 0 || rt.Bucket != store.BucketMinute {
		t.Errorf("response times over 2 hours: %s", rec.Body.String())
	}
	for q, bucket := range map[string]string{rangeQuery(5*24*time.Hour, 0): store.BucketHour, rangeQuery(30*24*time.Hour, 0): store.BucketDay} {
		rec := c.do(t, call{Method: http.MethodGet, Path: report + "delivery_ts?" + q, Token: fx.partnerKey, Want: http.StatusOK})
		if got := mustDecode[struct{ Bucket string }](t, rec.Body.Bytes()).Bucket; got != bucket {
			t.Errorf("delivery_ts?%s: bucket %q, want %q", q, got, bucket)
		}
	}
	rec = c.do(t, call{Method: http.MethodGet, Path: report + "delivery_summary?" + hour, Token: fx.partnerKey, Want: http.StatusOK})
	sum := mustDecode[struct {
		Summary struct{ Success, Failed int64 } `json:"delivery_summary"`
	}](t, rec.Body.Bytes())
	if sum.Summary.Success != 1 || sum.Summary.Failed != 1 {
		t.Errorf("summary: %s; want 1 succeeded and 1 failed", rec.Body.String())
	}
	c.do(t, call{Method: http.MethodGet, Path: report + "response_time_ts?start_date=2024-05-01T00:00:00Z", Token: fx.partnerKey,
		Want: http.StatusBadRequest, Invalid: true, Field: "end_date"})
	c.do(t, call{Method: http.MethodGet, Path: report + "delivery_summary?" + rangeQuery(400*24*time.Hour, 0), Token: fx.partnerKey,
		Want: http.StatusBadRequest, Field: "end_date"})
	c.do(t, call{Method: http.MethodGet, Path: report + "delivery_ts?start_date=may&end_date=june", Token: fx.partnerKey,
		Want: http.StatusBadRequest, Invalid: true, Field: "start_date"})

	details := report + "delivery_details"
	window := map[string]any{"start_date": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "end_date": time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}
	rec = c.do(t, call{Method: http.MethodPost, Path: details, Token: fx.partnerKey, Body: window, Want: http.StatusOK})
	if n := len(mustDecode[struct{ Rows []any }](t, rec.Body.Bytes()).Rows); n < 5 {
		t.Errorf("delivery details: %d rows, want the 5 deliveries made", n)
	}
	c.do(t, call{Method: http.MethodPost, Path: details, Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"start_date": window["start_date"], "end_date": window["end_date"], "company_id": 1,
			"event": []string{"company/product/create/v1"}, "status": "failed", "page_no": 1, "page_size": 2}})
	c.do(t, call{Method: http.MethodPost, Path: details, Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "page_size",
		Body: map[string]any{"start_date": window["start_date"], "end_date": window["end_date"], "page_size": 500}})
	c.do(t, call{Method: http.MethodPost, Path: details, Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "page_no",
		Body: map[string]any{"start_date": window["start_date"], "end_date": window["end_date"], "page_no": 461168601842738791}})
	c.do(t, call{Method: http.MethodPost, Path: details, Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "status",
		Body: map[string]any{"start_date": window["start_date"], "end_date": window["end_date"], "status": "lost"}})
	c.do(t, call{Method: http.MethodPost, Path: details, Token: fx.partnerKey, Want: http.StatusRequestEntityTooLarge, Invalid: true, Body: bigBody(300 << 10)})

	rec = c.do(t, call{Method: http.MethodGet, Path: report + "queue", Token: fx.partnerKey, Want: http.StatusOK})
	q := mustDecode[struct {
		Queued   int64 `json:"queued"`
		InFlight int64 `json:"in_flight"`
		Depth    int64 `json:"queue_depth"`
	}](t, rec.Body.Bytes())
	if q.InFlight < 2 || q.Depth != q.Queued+q.InFlight {
		t.Errorf("queue: %+v; want the pending and retrying deliveries in flight", q)
	}
}
