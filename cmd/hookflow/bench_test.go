package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	main "github.com/hookflow/hookflow/cmd/hookflow"
)

// benchResult is the part of `hookflow bench --json` these tests read.
type benchResult struct {
	Mode                string  `json:"mode"`
	Deliveries          int     `json:"deliveries"`
	DeliveriesPerSecond float64 `json:"deliveries_per_second"`
	FloorPerSecond      float64 `json:"floor_deliveries_per_second"`
	Lost                int     `json:"lost"`
	HistoryPerDelivery  float64 `json:"history_events_per_delivery"`
	SettledSeconds      float64 `json:"settled_seconds"`
}

// runBenchJSON runs `hookflow bench --json` in this process, with no environment, and
// decodes what it prints into v.
func runBenchJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args = append([]string{"bench", "--json", "--memory", "--skip-ceiling"}, args...)
	if err := main.Run(ctx, args, nil, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatalf("hookflow %v: %v\n%s", args, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		t.Fatalf("hookflow %v printed %q: %v", args, stdout.String(), err)
	}
}

// TestBench runs the benchmark small. Both modes in one process: every delivery arrives
// in each, each mode's histories are counted once its workflows have closed (a child
// workflow per delivery costs at least its own 7 events; inline-first far less), and the
// ratio is the ratio of the two rates. A fan-out that continues as new is counted over
// all its runs: every inline delivery's marker is in one of them.
func TestBench(t *testing.T) {
	t.Run("BothModes", func(t *testing.T) {
		var got struct {
			Modes map[string]benchResult `json:"modes"`
			Ratio float64                `json:"ratio_inline_first_to_child"`
		}
		runBenchJSON(t, &got, "--mode", "both", "--events", "20", "--subscribers", "3")
		child, inline := got.Modes["child"], got.Modes["inline-first"]
		for _, r := range []benchResult{child, inline} {
			if r.Deliveries != 60 || r.Lost != 0 || r.DeliveriesPerSecond <= 0 || r.FloorPerSecond <= 0 || r.SettledSeconds < 0 {
				t.Errorf("%s: %+v, want 60 deliveries, none lost, a rate, a floor and settled workflows", r.Mode, r)
			}
		}
		if child.HistoryPerDelivery < 7 {
			t.Errorf("child: %.2f history events per delivery, want ≥ 7 (the delivery workflow's own)", child.HistoryPerDelivery)
		}
		if inline.HistoryPerDelivery <= 0 || inline.HistoryPerDelivery >= child.HistoryPerDelivery {
			t.Errorf("inline-first: %.2f history events per delivery, want more than 0 and fewer than child's %.2f",
				inline.HistoryPerDelivery, child.HistoryPerDelivery)
		}
		if want := inline.DeliveriesPerSecond / child.DeliveriesPerSecond; math.Abs(got.Ratio-want) > 0.01 {
			t.Errorf("ratio %.3f, want %.3f", got.Ratio, want)
		}
	})
	t.Run("RateLimited", func(t *testing.T) {
		// Two subscribers at 5/s: 30 events each take about 6 s, and the report compares
		// what the receiver saw with the limit.
		var got struct {
			benchResult
			Flow struct {
				RateLimit       float64 `json:"rate_limit"`
				ObservedRateMin float64 `json:"observed_rate_min"`
				ObservedRateMax float64 `json:"observed_rate_max"`
				MostInWindow    int     `json:"most_in_window"`
				Allowed         int     `json:"allowed_in_window"`
			} `json:"flow"`
		}
		runBenchJSON(t, &got, "--mode", "child", "--events", "30", "--subscribers", "2", "--skip-floor", "--rate-limit", "5")
		f := got.Flow
		if got.Deliveries != 60 || got.Lost != 0 || f.RateLimit != 5 {
			t.Fatalf("%+v, want 60 deliveries, none lost, rate limit 5", got)
		}
		// The floor is loose: this checks the report, not the limiter's efficiency under
		// a loaded machine (TestFlowLimitsAcrossWorkers holds that to 90 %).
		if f.ObservedRateMax > 5.2 || f.ObservedRateMin < 1 || f.MostInWindow > f.Allowed || f.MostInWindow < 15 {
			t.Errorf("flow %+v: want each subscriber at 1-5/s and no window over what the limit allows", f)
		}
	})
	t.Run("FanOutAcrossRuns", func(t *testing.T) {
		var got benchResult
		runBenchJSON(t, &got, "--mode", "inline-first", "--events", "1", "--subscribers", "450", "--skip-floor")
		if got.Deliveries != 450 || got.Lost != 0 {
			t.Fatalf("%+v, want 450 deliveries, none lost", got)
		}
		if got.HistoryPerDelivery < 1 {
			t.Errorf("%.3f history events per delivery, want ≥ 1: each of the three runs' markers counts", got.HistoryPerDelivery)
		}
	})
}
