// Package metrics holds Hookflow's Prometheus metrics: deliveries by outcome, attempts
// by status class, Hookflow's own failures by stage, delivery latency and response-time
// histograms, the backlog of waiting deliveries and blocked subscribers, and the Temporal
// SDK's worker metrics in the same registry. Labels are bounded: no per-subscriber or per-event label.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Metrics is a registry with Hookflow's metrics. Its methods are safe for concurrent use
// and do nothing on a nil *Metrics, so that code can record without checking.
type Metrics struct {
	reg          *prometheus.Registry
	deliveries   *prometheus.CounterVec
	attempts     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	responseTime prometheus.Histogram
	events       prometheus.Counter
	internal     *prometheus.CounterVec
	purged       *prometheus.CounterVec
	throttled    *prometheus.CounterVec
	pushBacks    prometheus.Counter
}

// New returns a registry with Hookflow's metrics and the Go runtime and process
// collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_deliveries_total",
			Help: "Deliveries that reached an outcome: succeeded, failed, filtered, filter_error, discarded, or queued (waiting for an inactive or blocked subscriber).",
		}, []string{"status"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_attempts_total",
			Help: "Delivery attempts by outcome class: 2xx, 3xx, 4xx, 5xx, timeout, connection, refused.",
		}, []string{"class"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookflow_delivery_latency_seconds",
			Help:    "Time from an event's acceptance to its delivery's first attempt (stage=first_attempt) and to its success (stage=success).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 6 * 3600, 48 * 3600},
		}, []string{"stage"}),
		responseTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookflow_response_time_seconds",
			Help:    "Time receivers took to answer an attempt.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookflow_events_fanned_out_total",
			Help: "Events whose deliveries were prepared.",
		}),
		internal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_internal_failures_total",
			Help: "Delivery tries that failed on Hookflow's own account (its database, the event cache) and were retried without counting an attempt, by stage.",
		}, []string{"stage"}),
		purged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_purged_rows_total",
			Help: "Rows that retention removed (deliveries, attempts, events, notifications, retry_jobs, attempt_stats) or emptied (payloads, response_bodies), by table.",
		}, []string{"table"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookflow_deliveries_throttled_total",
			Help: "Delivery tries that waited for their turn under the subscriber's flow limits, by limit (rate_limit, max_in_flight, push_back) and where they waited (inline: inside the try; workflow: durably).",
		}, []string{"limit", "wait"}),
		pushBacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookflow_push_backs_total",
			Help: "Answers 429 and 503 that lowered their subscriber's effective rate.",
		}),
	}
	reg.MustRegister(m.deliveries, m.attempts, m.latency, m.responseTime, m.events, m.internal, m.purged, m.throttled, m.pushBacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// TemporalHandler returns a metrics handler for Temporal clients and workers that
// reports into the same registry (temporal_* metrics: task latencies, slots, polls…).
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: m.reg})
	scope, _ := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return sdktally.NewMetricsHandler(scope)
}

// Delivery counts a delivery that reached status.
func (m *Metrics) Delivery(status string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(status).Inc()
}

// Attempt records an attempt's class and, when the receiver answered, its response time.
func (m *Metrics) Attempt(class string, responseTime time.Duration, answered bool) {
	if m == nil {
		return
	}
	m.attempts.WithLabelValues(class).Inc()
	if answered {
		m.responseTime.Observe(responseTime.Seconds())
	}
}

// Latency records the time from an event's acceptance to a stage of its delivery:
// "first_attempt" or "success".
func (m *Metrics) Latency(stage string, d time.Duration) {
	if m == nil || d < 0 {
		return
	}
	m.latency.WithLabelValues(stage).Observe(d.Seconds())
}

// InternalFailure counts a delivery try that failed on Hookflow's own account at stage
// (a short, fixed phrase such as "load the delivery").
func (m *Metrics) InternalFailure(stage string) {
	if m == nil {
		return
	}
	m.internal.WithLabelValues(stage).Inc()
}

// Throttled counts a delivery try that waited for its turn under limit, inline (inside
// the try) or not (durably, in its workflow).
func (m *Metrics) Throttled(limit string, inline bool) {
	if m == nil {
		return
	}
	wait := "workflow"
	if inline {
		wait = "inline"
	}
	m.throttled.WithLabelValues(limit, wait).Inc()
}

// PushBack counts a receiver's 429 or 503 that lowered its subscriber's rate.
func (m *Metrics) PushBack() {
	if m == nil {
		return
	}
	m.pushBacks.Inc()
}

// Purged counts n rows that retention removed or emptied in table.
func (m *Metrics) Purged(table string, n int64) {
	if m == nil || n <= 0 {
		return
	}
	m.purged.WithLabelValues(table).Add(float64(n))
}

// EventFannedOut counts an event whose deliveries were prepared.
func (m *Metrics) EventFannedOut() {
	if m == nil {
		return
	}
	m.events.Inc()
}

// Backlog reports the deliveries waiting and the subscribers blocked.
type Backlog struct {
	Queued, InFlight, BlockedSubscribers int64
}

// RegisterBacklog adds gauges read from the database through read: hookflow_deliveries_waiting
// {state="queued"|"in_flight"} and hookflow_blocked_subscribers. The database is read at
// most every 15 seconds, however often Prometheus scrapes.
func (m *Metrics) RegisterBacklog(read func(ctx context.Context) (Backlog, error)) {
	m.reg.MustRegister(&backlogCollector{read: read,
		waiting: prometheus.NewDesc("hookflow_deliveries_waiting", "Deliveries waiting to go out: queued for an inactive or blocked subscriber, or in flight (pending or retrying).", []string{"state"}, nil),
		blocked: prometheus.NewDesc("hookflow_blocked_subscribers", "Subscribers blocked after exhausted retries or 410 Gone.", nil, nil),
	})
}

type backlogCollector struct {
	read    func(ctx context.Context) (Backlog, error)
	waiting *prometheus.Desc
	blocked *prometheus.Desc

	mu   sync.Mutex
	at   time.Time
	last Backlog
	ok   bool
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.waiting
	ch <- c.blocked
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if time.Since(c.at) > 15*time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b, err := c.read(ctx)
		cancel()
		c.at = time.Now()
		if err == nil {
			c.last, c.ok = b, true
		}
	}
	b, ok := c.last, c.ok
	c.mu.Unlock()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(b.Queued), "queued")
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(b.InFlight), "in_flight")
	ch <- prometheus.MustNewConstMetric(c.blocked, prometheus.GaugeValue, float64(b.BlockedSubscribers))
}

// RegisterPool adds the application database's connection pool, read through stats on
// each scrape: hookflow_db_connections{state="in_use"|"idle"}, hookflow_db_max_open_connections,
// and the callers that waited for a connection, hookflow_db_waits_total and
// hookflow_db_wait_seconds_total. Waits that grow mean the pool (HOOKFLOW_DB_MAX_OPEN_CONNS)
// is too small for the load, or the database is slow.
func (m *Metrics) RegisterPool(stats func() sql.DBStats) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&poolCollector{stats: stats,
		conns:    prometheus.NewDesc("hookflow_db_connections", "Application database connections open, by state.", []string{"state"}, nil),
		maxOpen:  prometheus.NewDesc("hookflow_db_max_open_connections", "The application database pool's bound (HOOKFLOW_DB_MAX_OPEN_CONNS).", nil, nil),
		waits:    prometheus.NewDesc("hookflow_db_waits_total", "Times a caller waited for an application database connection because all were in use.", nil, nil),
		waitTime: prometheus.NewDesc("hookflow_db_wait_seconds_total", "Time callers spent waiting for an application database connection.", nil, nil),
	})
}

type poolCollector struct {
	stats                           func() sql.DBStats
	conns, maxOpen, waits, waitTime *prometheus.Desc
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.conns
	ch <- c.maxOpen
	ch <- c.waits
	ch <- c.waitTime
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.waitTime, prometheus.CounterValue, s.WaitDuration.Seconds())
}
