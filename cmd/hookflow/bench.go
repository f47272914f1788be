package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/workflows"
)

// benchOptions are the flags of `hookflow bench`.
type benchOptions struct {
	Subscribers  int
	Events       int
	Rate         float64 // events per second; 0: as fast as accepted
	PayloadBytes int
	FailFirstPct int     // fail the first attempt of this share of deliveries
	FilterPass   float64 // share of events that pass a filter on every subscriber; 1: no filter
	Senders      int
	Memory       bool
	SkipFloor    bool
	SkipCeiling  bool
	JSON         bool
	Timeout      time.Duration
	CPUProfile   string
	// Topology is "dev" (one process: embedded Temporal on SQLite, worker and API) or
	// "postgres" (Temporal on PostgreSQL, the API apart from Workers worker processes'
	// worth of workers, as deployed).
	Topology   string
	Workers    int
	TemporalDB string // the PostgreSQL server for the postgres topology's Temporal
	// RateLimit, RateLimitBurst and MaxInFlight are set on every subscriber (0: none).
	RateLimit      float64
	RateLimitBurst int
	MaxInFlight    int

	// company receives the events of one measurement: each has its own, so that
	// measurements sharing an external database do not see each other's subscribers.
	company int64
	// subscribers are the measurement's subscribers, once created: each gets a delivery
	// of the first event.
	subscribers []int64
}

// describe names the shape measured.
func (o benchOptions) describe(cfg Config) string {
	if o.Topology != "postgres" {
		return "dev (one process)"
	}
	api := "an API with a worker"
	if !cfg.APIWorker {
		api = "an API without a worker"
	}
	workers := "1 worker"
	if o.Workers != 1 {
		workers = strconv.Itoa(o.Workers) + " workers"
	}
	return "postgres: " + workers + ", " + api
}

// benchReport is what `hookflow bench --json` prints.
type benchReport struct {
	Mode                string             `json:"mode"`
	Subscribers         int                `json:"subscribers"`
	Events              int                `json:"events"`
	Deliveries          int                `json:"deliveries"`
	ElapsedSeconds      float64            `json:"elapsed_seconds"`
	DeliveriesPerSecond float64            `json:"deliveries_per_second"`
	FloorPerSecond      float64            `json:"floor_deliveries_per_second"`
	RatioToFloor        float64            `json:"ratio_to_floor"`
	CeilingPerSecond    float64            `json:"ceiling_deliveries_per_second"`
	RatioToCeiling      float64            `json:"ratio_to_ceiling"`
	LatencyMS           map[string]float64 `json:"latency_ms"`
	Lost                int                `json:"lost"`
	Duplicates          int                `json:"duplicates"`
	CPUSecondsPer1000   float64            `json:"cpu_seconds_per_1000"`
	// PostgresCPUPer1000 is the part of CPUSecondsPer1000 spent by PostgreSQL's processes.
	PostgresCPUPer1000    float64            `json:"postgres_cpu_seconds_per_1000,omitempty"`
	PeakRSSMB             float64            `json:"peak_rss_mb"`
	SQLStatementsPerDeliv float64            `json:"sql_statements_per_delivery"`
	SQLByKindPerDelivery  map[string]float64 `json:"sql_statements_by_kind_per_delivery,omitempty"`
	AcceptedPerSecond     float64            `json:"events_accepted_per_second"`
	// Refused counts the answers 429 to events (delivery behind: admission control),
	// each sent again after its Retry-After.
	Refused               int64   `json:"events_refused"`
	HistoryEventsPerDeliv float64 `json:"history_events_per_delivery"`
	// SettledSeconds is how long after the last delivery the last workflow closed: the
	// work Temporal still does for deliveries already made (-1: not within the timeout).
	SettledSeconds float64 `json:"settled_seconds"`
	Store          string  `json:"store"`
	Topology       string  `json:"topology"`
	// Flow is what the receiver saw of each subscriber's rate limit (--rate-limit).
	Flow *benchFlow `json:"flow,omitempty"`
}

// benchFlow compares a rate-limited subscriber's configured and observed rates.
type benchFlow struct {
	RateLimit float64 `json:"rate_limit"`
	Burst     int     `json:"rate_limit_burst"`
	// ObservedRate is the slowest and fastest subscriber's deliveries per second, from
	// its first delivery to its last.
	ObservedRateMin float64 `json:"observed_rate_min"`
	ObservedRateMax float64 `json:"observed_rate_max"`
	// WindowSeconds is the sliding window: 30 s, or less when the run was shorter.
	WindowSeconds float64 `json:"window_seconds"`
	// MostInWindow is the most deliveries any subscriber got in any window; Allowed is
	// what its rate and burst allow there.
	MostInWindow int `json:"most_in_window"`
	Allowed      int `json:"allowed_in_window"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var o benchOptions
	cfg, err := loadConfig("bench", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.IntVar(&o.Subscribers, "subscribers", 10, "subscribers, each with its own loopback receiver path")
		fs.IntVar(&o.Events, "events", 1000, "events to send")
		fs.Float64Var(&o.Rate, "rate", 0, "events per second (0: as fast as the API accepts them)")
		fs.IntVar(&o.PayloadBytes, "payload-bytes", 1024, "approximate payload size")
		fs.IntVar(&o.FailFirstPct, "fail-first-pct", 0, "percentage of deliveries whose first attempt the receiver fails (503)")
		fs.Float64Var(&o.FilterPass, "filter-pass", 1, "share of events that pass a filter set on every subscriber (1: no filter)")
		fs.IntVar(&o.Senders, "senders", 64, "concurrent API clients sending events")
		fs.BoolVar(&o.Memory, "memory", false, "keep Temporal and the application database in memory (default: SQLite files in a temporary directory)")
		fs.BoolVar(&o.SkipFloor, "skip-floor", false, "do not measure the floor shape")
		fs.BoolVar(&o.SkipCeiling, "skip-ceiling", false, "do not measure the plain Go ceiling")
		fs.BoolVar(&o.JSON, "json", false, "print one JSON object instead of the table")
		fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "give up waiting for deliveries after this long")
		fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the Hookflow phase to this file")
		fs.StringVar(&o.Topology, "topology", "dev", "dev (one process: embedded Temporal on SQLite, worker and API) or postgres (a Temporal server on PostgreSQL, the API (with a worker of its own unless --api-worker=false), --workers workers; needs --database-url postgres://… and --temporal-database-url)")
		fs.IntVar(&o.Workers, "workers", 1, "workers of the postgres topology")
		fs.StringVar(&o.TemporalDB, "temporal-database-url", getenv("HOOKFLOW_TEMPORAL_DATABASE_URL"), "PostgreSQL server for the postgres topology's Temporal, postgres://user:pass@host:5432/; each measurement gets new databases there, dropped after (env HOOKFLOW_TEMPORAL_DATABASE_URL)")
		fs.Float64Var(&o.RateLimit, "rate-limit", 0, "rate_limit of every subscriber, deliveries per second (0: none); the report compares it with what the receiver saw")
		fs.IntVar(&o.RateLimitBurst, "rate-limit-burst", 0, "rate_limit_burst of every subscriber (needs --rate-limit)")
		fs.IntVar(&o.MaxInFlight, "max-in-flight", 0, "max_in_flight of every subscriber (0: none)")
	})
	if err != nil {
		return err
	}
	if o.Subscribers < 1 || o.Events < 1 || o.FilterPass <= 0 || o.FilterPass > 1 || o.FailFirstPct < 0 || o.FailFirstPct > 100 || o.Senders < 1 {
		return usageError{errors.New("subscribers and events must be ≥ 1, filter-pass in (0, 1], fail-first-pct in [0, 100], senders ≥ 1")}
	}
	switch o.Topology {
	case "dev":
	case "postgres":
		if !strings.HasPrefix(cfg.DatabaseURL, "postgres") || !strings.HasPrefix(o.TemporalDB, "postgres") {
			return usageError{errors.New("--topology postgres needs --database-url postgres://… (HOOKFLOW_DATABASE_URL) and --temporal-database-url postgres://… (HOOKFLOW_TEMPORAL_DATABASE_URL)")}
		}
		if o.Workers < 1 || o.Workers > 16 {
			return usageError{errors.New("--workers must be between 1 and 16")}
		}
	default:
		return usageError{fmt.Errorf("--topology must be dev or postgres (got %q)", o.Topology)}
	}
	loadedMode := cfg.DeliveryMode
	dir, err := os.MkdirTemp("", "hookflow-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.Memory, cfg.NoUI = o.Memory, true
	cfg.TemporalPort, cfg.UIPort, cfg.HTTPAddr = 0, 0, "127.0.0.1:0"
	// Quick retries, so that a run with failing first attempts measures throughput,
	// not the production back-off.
	cfg.Retry = workflows.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 2 * time.Second, MaximumAttempts: 20, Expiration: time.Hour}
	cfg.LogLevel = "error"
	log := newLogger(cfg, stderr)
	progress := func(format string, args ...any) {
		if !o.JSON {
			fmt.Fprintf(stderr, format+"\n", args...)
		}
	}
	// Each measurement gets a stack of its own (an empty Temporal and application
	// database, unless external ones are configured), so that none is charged for what
	// an earlier one left behind and `--mode both` measures each mode as a run of that
	// mode alone would.
	stacks := 0
	startStack := func(mode string) (*Main, error) {
		stacks++
		c := cfg
		c.DeliveryMode = mode
		c.DataDir = filepath.Join(dir, strconv.Itoa(stacks))
		if c.DatabaseURL == "" {
			c.DatabaseURL = "sqlite:" + c.DataDir + "/hookflow.db"
			if o.Memory {
				c.DatabaseURL = "sqlite::memory:"
			}
		}
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, err
		}
		if o.Topology == "postgres" {
			return startPostgresTopology(ctx, c, o, stacks, log)
		}
		m := NewMain(c, Parts{EmbeddedTemporal: getenv("HOOKFLOW_TEMPORAL_ADDRESS") == "", Worker: true, API: true}, log)
		if err := m.Start(ctx); err != nil {
			return nil, err
		}
		return m, nil
	}

	modes := []string{loadedMode}
	if loadedMode == "both" {
		modes = []string{workflows.ModeChild, workflows.ModeInlineFirst}
	}
	var floor, ceiling float64
	if !o.SkipFloor {
		progress("measuring the floor shape (%d parents × %d children with a no-op activity)…", o.Events, o.Subscribers)
		m, err := startStack(workflows.ModeChild)
		if err != nil {
			return err
		}
		floor, err = runFloor(ctx, m.Client(), m.Config.TemporalNamespace, sdkworker.Options{}, o.Events, o.Subscribers, o.Senders)
		m.Close()
		if err != nil {
			return err
		}
	}
	accepted := &sync.Map{}
	rc, err := newBenchReceiver(o.FailFirstPct, accepted)
	if err != nil {
		return err
	}
	defer rc.close()
	var reports []benchReport
	for _, mode := range modes {
		m, err := startStack(mode)
		if err != nil {
			return err
		}
		progress("measuring Hookflow in %s mode (%d events × %d subscribers)…", mode, o.Events, o.Subscribers)
		rep := benchReport{Mode: mode, Subscribers: o.Subscribers, Events: o.Events, Store: m.Store().Dialect(), Topology: o.describe(cfg), LatencyMS: map[string]float64{}}
		rc.reset()
		// Unique across runs too, for an external database kept from an earlier run.
		o.company = time.Now().Unix()%10_000_000*100 + int64(stacks)
		o.subscribers, err = benchSubscribers(ctx, m, o, rc.url)
		if err == nil {
			err = benchHookflow(ctx, m, o, rc, accepted, &rep)
		}
		m.Close()
		if err != nil {
			return err
		}
		reports = append(reports, rep)
	}
	if !o.SkipCeiling {
		progress("measuring the plain Go ceiling…")
		if ceiling, err = runCeiling(ctx, o); err != nil {
			return err
		}
	}
	for i := range reports {
		r := &reports[i]
		r.FloorPerSecond, r.CeilingPerSecond = floor, ceiling
		if floor > 0 {
			r.RatioToFloor = round3(r.DeliveriesPerSecond / floor)
		}
		if ceiling > 0 {
			r.RatioToCeiling = round3(r.DeliveriesPerSecond / ceiling)
		}
	}
	if len(reports) == 1 {
		if o.JSON {
			return json.NewEncoder(stdout).Encode(reports[0])
		}
		printBench(stdout, reports[0])
		return nil
	}
	ratio := 0.0
	if reports[0].DeliveriesPerSecond > 0 {
		ratio = round3(reports[1].DeliveriesPerSecond / reports[0].DeliveriesPerSecond)
	}
	if o.JSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"modes": map[string]benchReport{reports[0].Mode: reports[0], reports[1].Mode: reports[1]}, "ratio_inline_first_to_child": ratio})
	}
	for _, r := range reports {
		printBench(stdout, r)
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "inline-first / child: %.2f×\n", ratio)
	return nil
}

// benchSubscribers creates the subscribers, each with its own path on the receiver and,
// when only a share of events should pass, a filter on the event's seq.
func benchSubscribers(ctx context.Context, m *Main, o benchOptions, url string) ([]int64, error) {
	every := int(math.Round(1 / o.FilterPass))
	var filter models.JSON
	if every > 1 {
		filter = models.JSON(`{"query":"$.seq","condition":"(n) => n % ` + strconv.Itoa(every) + ` === 0"}`)
	}
	// The bench extension is installed on the measured company, as a subscriber's
	// extension must be; a database kept from an earlier run has it already.
	in := &models.Installation{OrganizationID: "bench", ExtensionID: "bench", CompanyID: o.company}
	if err := m.Store().CreateInstallation(ctx, in); err != nil && models.ErrorCode(err) != models.ECONFLICT {
		return nil, err
	}
	ids := make([]int64, 0, o.Subscribers)
	for i := 0; i < o.Subscribers; i++ {
		sub := &models.Subscriber{OrganizationID: "bench", ExtensionID: "bench", CompanyID: o.company, Name: "bench " + strconv.Itoa(i),
			WebhookURL: url + "/r/" + strconv.Itoa(i), Status: models.StatusActive, InactivePolicy: models.PolicyQueue,
			Secret: "bench-secret", Events: []models.SubscriberEvent{{Slug: benchSlug, Filters: filter}},
			RateLimit: o.RateLimit, RateLimitBurst: o.RateLimitBurst, MaxInFlight: o.MaxInFlight}
		if err := m.Store().CreateSubscriber(ctx, sub); err != nil {
			return nil, err
		}
		ids = append(ids, sub.ID)
	}
	return ids, nil
}

const benchSlug = "company/product/create/v1"

func benchHookflow(ctx context.Context, m *Main, o benchOptions, rc *benchReceiver, accepted *sync.Map, rep *benchReport) error {
	every := int(math.Round(1 / o.FilterPass))
	const slug = benchSlug
	passing := 0
	for i := 0; i < o.Events; i++ {
		if i%every == 0 {
			passing++
		}
	}
	want := passing * o.Subscribers
	pad := strings.Repeat("x", max(0, o.PayloadBytes-300))
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Senders * 2}, Timeout: time.Minute}
	prefix := "b" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	countStatementKinds(m)
	statements0, kinds0 := statements(m)
	cpu0, pg0 := cpuTime(), postgresCPU()
	start := time.Now()
	var refused atomic.Int64
	err := forEach(ctx, o.Events, o.Senders, o.Rate, func(i int) error {
		id := prefix + "-" + strconv.Itoa(i)
		body := fmt.Sprintf(`{"id":%q,"event_slug":%q,"payload":{"seq":%d,"uid":%d,"name":"Air Zoom Pegasus","brand":{"uid":238,"name":"Nike"},"price":{"currency":"INR","effective":9596,"marked":11995},"sizes":[{"size":"UK 8","quantity":12},{"size":"UK 9","quantity":3}],"padding":%q}}`,
			id, slug, i, 7500+i, pad)
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.APIURL()+"/service/platform/webhook/v1.0/company/"+strconv.FormatInt(o.company, 10)+"/events", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+m.Config.AdminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := httpc.Do(req)
			if err != nil {
				return err
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				// Delivery is behind: send it again when the API says, as a producer would.
				refused.Add(1)
				wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(max(wait, 1)) * time.Second):
				}
				continue
			}
			if resp.StatusCode != http.StatusAccepted {
				return fmt.Errorf("event %d: %s: %s", i, resp.Status, bytes.TrimSpace(answer))
			}
			accepted.Store(id, time.Now())
			return nil
		}
	})
	rep.Refused = refused.Load()
	if err != nil {
		return err
	}
	rep.AcceptedPerSecond = round3(float64(o.Events) / time.Since(start).Seconds())
	lastProgress, lastCount := time.Now(), 0
	deadline := time.Now().Add(o.Timeout)
	for rc.received() < want {
		n := rc.received()
		if n != lastCount {
			lastProgress, lastCount = time.Now(), n
		}
		if time.Since(lastProgress) > time.Minute || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cpu := cpuTime() - cpu0
	var pgCPU time.Duration
	if m.Store().Dialect() == "postgres" {
		// PostgreSQL's work is the deployment's too: a dev stack on SQLite does it in
		// this process.
		pgCPU = postgresCPU() - pg0
		cpu += pgCPU
	}
	rc.mu.Lock()
	got, dups, last := len(rc.seen), rc.duplicates, rc.last
	rc.mu.Unlock()
	elapsed := last.Sub(start)
	rep.Deliveries = got
	rep.ElapsedSeconds = round3(elapsed.Seconds())
	if elapsed > 0 {
		rep.DeliveriesPerSecond = round3(float64(got) / elapsed.Seconds())
	}
	rep.Lost = want - got
	rep.Duplicates = dups
	p50, p95, p99, pmax := rc.percentiles()
	rep.LatencyMS = map[string]float64{"p50": ms(p50), "p95": ms(p95), "p99": ms(p99), "max": ms(pmax)}
	if got > 0 {
		rep.CPUSecondsPer1000 = round3(cpu.Seconds() / float64(got) * 1000)
		rep.PostgresCPUPer1000 = round3(pgCPU.Seconds() / float64(got) * 1000)
		// Filtered deliveries cost statements too: divide by every delivery made.
		statements1, kinds1 := statements(m)
		rep.SQLStatementsPerDeliv = round3(float64(statements1-statements0) / float64(o.Events*o.Subscribers))
		rep.SQLByKindPerDelivery = map[string]float64{}
		for k, n := range kinds1 {
			if d := n - kinds0[k]; d > 0 {
				rep.SQLByKindPerDelivery[k] = round3(float64(d) / float64(o.Events*o.Subscribers))
			}
		}
	}
	rep.PeakRSSMB = peakRSSMB()
	if o.RateLimit > 0 {
		rep.Flow = rc.flow(o.RateLimit, max(o.RateLimitBurst, 1))
	}
	if rep.Lost > 0 {
		return fmt.Errorf("%d of %d deliveries did not arrive", rep.Lost, want)
	}
	// Wait for every workflow to close before the next measurement, so that one mode's
	// remaining work (child workflows completing, parents recording them) is not
	// charged to the next.
	rep.SettledSeconds = -1
	if settled, err := waitSettled(ctx, m.Client(), m.Config.TemporalNamespace, workflows.TaskQueue, o.Timeout); err == nil {
		rep.SettledSeconds = round3(max(0, settled.Sub(last).Seconds()))
	}
	// Counted once the workflows have closed, so that the histories are complete.
	rep.HistoryEventsPerDeliv = historyPerDelivery(ctx, m, o.company, o.subscribers, prefix+"-0")
	return nil
}

// waitSettled waits until no workflow of taskQueue is running and returns when that was
// first seen.
func waitSettled(ctx context.Context, c client.Client, namespace, taskQueue string, timeout time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	query := fmt.Sprintf("TaskQueue = %q AND ExecutionStatus = 'Running'", taskQueue)
	for {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: query})
		if err != nil {
			return time.Time{}, err
		}
		if resp.GetCount() == 0 {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// historyPerDelivery adds up the history of one event's workflow and of the delivery
// workflows started for it (in inline-first mode, only those that needed one), per
// delivery of the event: one per subscriber.
func historyPerDelivery(ctx context.Context, m *Main, company int64, subscribers []int64, eventID string) float64 {
	// Every run of the event workflow: a large fan-out continues as new.
	var total int64
	var page []byte
	for {
		resp, err := m.Client().ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: m.Config.TemporalNamespace,
			Query: fmt.Sprintf("WorkflowId = %q", workflows.EventWorkflowID(company, eventID)), NextPageToken: page})
		if err != nil {
			return 0
		}
		for _, run := range resp.GetExecutions() {
			total += run.GetHistoryLength()
		}
		if page = resp.GetNextPageToken(); len(page) == 0 {
			break
		}
	}
	if total == 0 || len(subscribers) == 0 {
		return 0
	}
	for _, sub := range subscribers {
		child := workflows.DeliveryWorkflowID(company, eventID, sub, 0)
		if dd, err := m.Client().DescribeWorkflowExecution(ctx, child, ""); err == nil {
			total += dd.GetWorkflowExecutionInfo().GetHistoryLength()
		}
	}
	return round3(float64(total) / float64(len(subscribers)))
}

// runCeiling POSTs the same payloads to a loopback receiver with a plain Go worker pool:
// no durability, no database, no signature. It bounds what any design can do here.
func runCeiling(ctx context.Context, o benchOptions) (float64, error) {
	rc, err := newBenchReceiver(0, &sync.Map{})
	if err != nil {
		return 0, err
	}
	defer rc.close()
	body := []byte(`{"payload":"` + strings.Repeat("x", o.PayloadBytes) + `"}`)
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	total := o.Events * o.Subscribers
	start := time.Now()
	err = forEach(ctx, total, 64, 0, func(i int) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, rc.url+"/r/"+strconv.Itoa(i%o.Subscribers), bytes.NewReader(body))
		req.Header.Set("webhook-id", "c"+strconv.Itoa(i))
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	})
	if err != nil {
		return 0, err
	}
	return round3(float64(total) / time.Since(start).Seconds()), nil
}

func printBench(w io.Writer, r benchReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	row("mode", r.Mode)
	row("topology", r.Topology)
	row("store", r.Store)
	row("events × subscribers", fmt.Sprintf("%d × %d", r.Events, r.Subscribers))
	row("deliveries", r.Deliveries)
	row("elapsed", fmt.Sprintf("%.2f s", r.ElapsedSeconds))
	row("deliveries/s", fmt.Sprintf("%.1f", r.DeliveriesPerSecond))
	if r.FloorPerSecond > 0 {
		row("floor (bare child shape)", fmt.Sprintf("%.1f/s  (Hookflow = %.2f×)", r.FloorPerSecond, r.RatioToFloor))
	}
	if r.CeilingPerSecond > 0 {
		row("ceiling (plain Go POSTs)", fmt.Sprintf("%.1f/s  (Hookflow = %.3f×)", r.CeilingPerSecond, r.RatioToCeiling))
	}
	row("events accepted/s", fmt.Sprintf("%.1f", r.AcceptedPerSecond))
	if r.Refused > 0 {
		row("events refused (429, sent again)", r.Refused)
	}
	row("latency p50/p95/p99/max", fmt.Sprintf("%.0f / %.0f / %.0f / %.0f ms", r.LatencyMS["p50"], r.LatencyMS["p95"], r.LatencyMS["p99"], r.LatencyMS["max"]))
	row("lost / duplicates", fmt.Sprintf("%d / %d", r.Lost, r.Duplicates))
	if r.PostgresCPUPer1000 > 0 {
		row("CPU per 1000 deliveries", fmt.Sprintf("%.2f s (PostgreSQL %.2f s)", r.CPUSecondsPer1000, r.PostgresCPUPer1000))
	} else {
		row("CPU per 1000 deliveries", fmt.Sprintf("%.2f s", r.CPUSecondsPer1000))
	}
	row("peak RSS", fmt.Sprintf("%.0f MB", r.PeakRSSMB))
	row("SQL statements per delivery", r.SQLStatementsPerDeliv)
	kinds := make([]string, 0, len(r.SQLByKindPerDelivery))
	for k := range r.SQLByKindPerDelivery {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		row("  "+k, r.SQLByKindPerDelivery[k])
	}
	row("history events per delivery", r.HistoryEventsPerDeliv)
	if f := r.Flow; f != nil {
		row("rate limit (burst)", fmt.Sprintf("%g/s (%d) per subscriber", f.RateLimit, f.Burst))
		row("observed rate", fmt.Sprintf("%.2f-%.2f/s per subscriber", f.ObservedRateMin, f.ObservedRateMax))
		row("most in any window", fmt.Sprintf("%d in %.0f s (allowed %d)", f.MostInWindow, f.WindowSeconds, f.Allowed))
	}
	if r.SettledSeconds >= 0 {
		row("all workflows closed", fmt.Sprintf("%.1f s after the last delivery", r.SettledSeconds))
	} else {
		row("all workflows closed", "not seen")
	}
	_ = tw.Flush()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSSMB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return round3(float64(ru.Maxrss) / 1024) // Linux reports KiB
}

func ms(d time.Duration) float64 { return round3(float64(d.Microseconds()) / 1000) }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
