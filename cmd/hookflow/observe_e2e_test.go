package main_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestReportsDeliveryDetailsAndSearch drives deliveries through a stack and reads them
// back through the report endpoints, the delivery detail (with live state while a
// retry is pending), /metrics and Temporal's visibility API.
func TestReportsDeliveryDetailsAndSearch(t *testing.T) {
	forEachMode(t, func(t *testing.T, mode string) {
		s := startStack(t, storetest.Databases(t)[0], func(c *main.Config) {
			c.DeliveryMode = mode
			c.Retry.InitialInterval, c.Retry.MaximumInterval = 3*time.Second, 3*time.Second
		})
		rc := newReceiver(t, func(n int, _ *http.Request) int {
			if n == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		})
		sub := s.createSubscriber(rc.URL, nil)
		s.send("obs-1")
		waitFor(t, 20*time.Second, "the first attempt", func() bool { return len(rc.requests()) == 1 })
		id := deliveryIDOf(t, rc.requests()[0])
		path := partnerBase + "/delivery/" + itoa64(id)

		// While the retry waits, the detail shows the live state from Temporal.
		var live struct {
			Status        string `json:"status"`
			WorkflowID    string `json:"workflow_id"`
			RunID         string `json:"run_id"`
			TemporalUIURL string `json:"temporal_ui_url"`
			Attempts      []struct {
				Attempt      int    `json:"attempt"`
				ResponseCode int    `json:"response_code"`
				ResponseBody string `json:"response_body"`
			} `json:"attempts"`
			Live *struct {
				WorkflowStatus string  `json:"workflow_status"`
				CurrentAttempt int     `json:"current_attempt"`
				NextAttemptAt  *string `json:"next_attempt_at"`
				LastFailure    string  `json:"last_failure"`
			} `json:"live"`
		}
		waitFor(t, 10*time.Second, "the retry to be scheduled", func() bool {
			s.call("GET", path, nil, &live)
			return live.Live != nil && live.Live.CurrentAttempt == 2
		})
		if live.Status != models.DeliveryRetrying || len(live.Attempts) != 1 || live.Attempts[0].ResponseCode != 503 ||
			live.Live.WorkflowStatus != "RUNNING" || live.Live.NextAttemptAt == nil || !strings.Contains(live.Live.LastFailure, "503") ||
			!strings.Contains(live.TemporalUIURL, "/namespaces/default/workflows/"+live.WorkflowID+"/"+live.RunID+"/history") {
			t.Fatalf("live detail = %+v %+v", live, live.Live)
		}

		waitFor(t, 20*time.Second, "the retry", func() bool { return s.deliveryStatus(sub, "obs-1") == models.DeliverySucceeded })
		live.Live = nil
		if code := s.call("GET", path, nil, &live); code != 200 || live.Live != nil || len(live.Attempts) != 2 || live.Attempts[1].ResponseBody != `{"received":2}` {
			t.Fatalf("final detail: %d %+v", code, live)
		}

		from := time.Now().Add(-time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339)
		to := time.Now().Add(time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339)
		q := "?start_date=" + from + "&end_date=" + to
		var rt struct {
			Rows []struct {
				ResponseCode int    `json:"response_code"`
				Attempt      int    `json:"attempt"`
				Total        int    `json:"total"`
				ResponseTime string `json:"response_time"`
			} `json:"avg_response_time_ts"`
		}
		if code := s.call("GET", partnerBase+"/report/response_time_ts"+q, nil, &rt); code != 200 || len(rt.Rows) != 2 ||
			rt.Rows[0].Total != 1 || rt.Rows[1].Total != 1 || rt.Rows[0].ResponseCode+rt.Rows[1].ResponseCode != 703 {
			t.Fatalf("response_time_ts: %d %+v", code, rt)
		}
		var sum struct {
			Events []struct {
				Event   string `json:"event"`
				Success int    `json:"success"`
				Total   int    `json:"total"`
			} `json:"delivery_event_level"`
			Summary struct {
				Success int `json:"success"`
				Failed  int `json:"failed"`
			} `json:"delivery_summary"`
		}
		if code := s.call("GET", partnerBase+"/report/delivery_summary"+q, nil, &sum); code != 200 || len(sum.Events) != 1 ||
			sum.Events[0].Event != "company/product/create/v1" || sum.Summary.Success != 1 || sum.Summary.Failed != 0 {
			t.Fatalf("delivery_summary: %d %+v", code, sum)
		}
		var details struct {
			Rows []struct {
				DeliveryID   int64  `json:"delivery_id"`
				EventName    string `json:"event_name"`
				Attempt      int    `json:"attempt"`
				ResponseCode int    `json:"response_code"`
				Name         string `json:"name"`
			} `json:"rows"`
			Page struct {
				ItemTotal int `json:"item_total"`
			} `json:"page"`
		}
		if code := s.call("POST", partnerBase+"/report/delivery_details", map[string]any{"start_date": from, "end_date": to, "page_no": 1, "page_size": 10}, &details); code != 200 ||
			details.Page.ItemTotal != 1 || details.Rows[0].DeliveryID != id || details.Rows[0].Attempt != 2 || details.Rows[0].ResponseCode != 200 || details.Rows[0].Name != "Test receiver" {
			t.Fatalf("delivery_details: %d %+v", code, details)
		}
		var bad errorEnvelope
		if code := s.call("GET", partnerBase+"/report/delivery_ts?start_date=nope", nil, &bad); code != 400 || !bad.hasField("start_date") || !bad.hasField("end_date") {
			t.Fatalf("report without a range: %d %+v", code, bad)
		}

		// Metrics.
		resp, err := http.Get(s.APIURL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`hookflow_deliveries_total{status="succeeded"} 1`, `hookflow_attempts_total{class="5xx"} 1`,
			`hookflow_attempts_total{class="2xx"} 1`, `hookflow_delivery_latency_seconds_count{stage="first_attempt"} 1`,
			"hookflow_response_time_seconds_count 2", "hookflow_deliveries_waiting", "temporal_"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}

		// Temporal visibility: every search attribute finds the delivery's workflow.
		subID := strconv.FormatInt(sub, 10)
		for _, query := range []string{
			`HookflowSubscriberId = "` + subID + `" AND HookflowDeliveryStatus = "succeeded"`,
			`HookflowEventSlug = "company/product/create/v1" AND WorkflowType = "DeliveryWorkflow"`,
			`HookflowCompanyId = "1" AND WorkflowType = "DeliveryWorkflow"`,
			`HookflowOrganizationId = "org-1"`,
		} {
			waitFor(t, 10*time.Second, "visibility for "+query, func() bool {
				resp, err := s.Client().ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query})
				if err != nil {
					t.Fatalf("%s: %v", query, err)
				}
				for _, e := range resp.GetExecutions() {
					if e.GetExecution().GetWorkflowId() == live.WorkflowID {
						return true
					}
				}
				return false
			})
		}
	})
}
