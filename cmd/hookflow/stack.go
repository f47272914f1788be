package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/devserver"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/transform"
	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/worker"
	"github.com/hookflow/hookflow/workflows"
)

// Main is a running Hookflow process: some or all of the embedded Temporal server, the
// application database, the worker and the API, as its Parts say.
type Main struct {
	Config Config
	Parts  Parts
	Log    *slog.Logger

	metrics     *metrics.Metrics
	temporal    *devserver.Server
	client      client.Client
	store       *store.Store
	worker      sdkworker.Worker
	sender      *webhook.Client
	transforms  *transform.Engine
	httpServers []*http.Server
	apiURL      string
	// peers are the other processes' worth of a bench topology that this Main stands
	// for (see startPostgresTopology): closed with it, their statements counted with its.
	peers   []*Main
	closers []func()
}

// Parts selects what a Main runs.
type Parts struct {
	EmbeddedTemporal bool // run the Temporal server in-process (dev)
	Worker           bool
	API              bool
}

// NewMain returns a Main for cfg, which must be validated.
func NewMain(cfg Config, parts Parts, log *slog.Logger) *Main {
	return &Main{Config: cfg, Parts: parts, Log: log}
}

// Start starts the selected parts and returns once they serve. On error, what started
// is stopped again.
func (m *Main) Start(ctx context.Context) (err error) {
	// The HTTP addresses are bound first: the embedded Temporal picks free ports for its
	// services, and must not take one configured here.
	var apiL, metricsL net.Listener
	defer func() {
		if err != nil {
			m.Close()
			for _, l := range []net.Listener{apiL, metricsL} {
				if l != nil {
					_ = l.Close() // not yet served, or already closed by Close
				}
			}
		}
	}()
	cfg := m.Config
	if m.Parts.API {
		if apiL, err = listen(cfg.HTTPAddr); err != nil {
			return err
		}
	} else if m.Parts.Worker && cfg.MetricsAddr != "" {
		// A worker without the API serves its metrics on a port of its own.
		if metricsL, err = listen(cfg.MetricsAddr); err != nil {
			return err
		}
	}
	m.metrics = metrics.New()
	if m.Parts.EmbeddedTemporal {
		tuneGC()
		opts := devserver.Options{
			Port: cfg.TemporalPort, UIPort: cfg.UIPort, NoUI: cfg.NoUI, Namespace: cfg.TemporalNamespace,
			SearchAttributes: workflows.SearchAttributes(), Logger: m.Log,
		}
		if !cfg.Memory {
			opts.DataFile = filepath.Join(cfg.DataDir, "temporal.db")
		}
		if m.temporal, err = devserver.Start(ctx, opts); err != nil {
			return fmt.Errorf("start embedded temporal: %w", err)
		}
		m.Config.TemporalAddress = m.temporal.HostPort()
		if m.Config.TemporalUIURL == "" {
			m.Config.TemporalUIURL = m.temporal.UIURL()
		}
		cfg = m.Config
	}
	if m.client, err = dialTemporal(ctx, cfg, m.Log, m.metrics.TemporalHandler()); err != nil {
		return err
	}
	if m.Parts.EmbeddedTemporal {
		if err := worker.RegisterSearchAttributes(ctx, m.client, cfg.TemporalNamespace); err != nil {
			return err
		}
		if _, err := worker.EnsurePurgeSchedule(ctx, m.client, cfg.PurgeInterval); err != nil {
			return err
		}
		// The embedded namespace is dev's own: its retention follows the setting.
		if had, err := worker.SetNamespaceRetention(ctx, m.client, cfg.TemporalNamespace, cfg.NamespaceRetention); err != nil {
			return err
		} else if had != cfg.NamespaceRetention {
			m.Log.Info("temporal namespace retention set", "namespace", cfg.TemporalNamespace, "retention", cfg.NamespaceRetention.String(), "was", had.String())
		}
	}
	if m.store, err = store.OpenPool(ctx, cfg.DatabaseURL, m.Log, cfg.DBPool); err != nil {
		return err
	}
	st := m.store
	m.metrics.RegisterPool(st.PoolStats)
	m.metrics.RegisterBacklog(func(ctx context.Context) (metrics.Backlog, error) {
		q, f, b, err := st.Backlog(ctx)
		return metrics.Backlog{Queued: q, InFlight: f, BlockedSubscribers: b}, err
	})
	if m.Parts.EmbeddedTemporal {
		// dev prepares its own database; production runs `hookflow migrate` once.
		if err := m.store.Migrate(ctx); err != nil {
			return err
		}
	}
	m.sender = webhook.NewClient(webhook.ClientOptions{Policy: cfg.Network, Resolver: cfg.resolver()})
	m.transforms = transform.NewEngine(transform.DefaultLimits())
	if m.Parts.Worker {
		if err := m.startWorker(cfg.DeliveryMode); err != nil {
			return err
		}
		if metricsL != nil {
			m.serve(metricsL, m.metrics.Handler(), nil)
		}
	}
	if m.Parts.API {
		api, err := apiserver.New(apiserver.Config{
			AdminToken: cfg.AdminToken, Network: cfg.Network, TemporalUIURL: cfg.TemporalUIURL, Namespace: cfg.TemporalNamespace,
			RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst,
			AuthFailureLimit: cfg.AuthFailureLimit, AuthFailureBurst: cfg.AuthFailureBurst, TrustedProxies: cfg.TrustedProxies,
			Admission: apiserver.Admission{CompanyBacklog: int64(cfg.AdmissionCompanyBacklog), TotalBacklog: int64(cfg.AdmissionTotalBacklog)},
			Retention: apiserver.Retention{Records: cfg.Retention.Records, Payloads: cfg.Retention.Payloads, Reports: cfg.Retention.Reports},
		}, apiserver.Deps{
			Store: m.store, Engine: engine.New(m.client, cfg.Retry), Sender: m.sender, Transform: m.transforms, Metrics: m.metrics.Handler(), Logger: m.Log,
		})
		if err != nil {
			return err
		}
		m.serve(apiL, api, &m.apiURL)
	}
	return nil
}

// startWorker starts the Temporal worker with activities in the given delivery mode.
func (m *Main) startWorker(mode string) error {
	cfg := m.Config
	acts, err := activities.New(activities.Deps{
		Store: m.store, Sender: m.sender, Transform: m.transforms, Retry: cfg.Retry, Mode: mode, Logger: m.Log,
		Temporal: m.client, Notifier: cfg.notifier(), ReleaseConcurrency: cfg.ReleaseConcurrency, Metrics: m.metrics,
		Retention: cfg.Retention, PurgeVacuum: cfg.PurgeVacuum, PurgeBatch: cfg.PurgeBatch,
	})
	if err != nil {
		return err
	}
	m.Log.Info("retention", "records", cfg.Retention.Records.String(), "payloads", cfg.Retention.Payloads.String(), "reports", cfg.Retention.Reports.String())
	m.worker = worker.New(m.client, acts, worker.Options{})
	if err := m.worker.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	return nil
}

// listen binds addr for serve.
func listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return l, nil
}

// serve serves h on l in the background; url, when not nil, receives the base URL.
func (m *Main) serve(l net.Listener, h http.Handler, url *string) {
	addr := l.Addr().String()
	if url != nil {
		*url = "http://" + l.Addr().String()
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	m.httpServers = append(m.httpServers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server stopped", "addr", addr, "error", err)
		}
	}()
}

// APIURL returns the API's base URL once started.
func (m *Main) APIURL() string { return m.apiURL }

// Store returns the application database.
func (m *Main) Store() *store.Store { return m.store }

// Client returns the Temporal client.
func (m *Main) Client() client.Client { return m.client }

// Close stops everything in reverse order: the API stops accepting requests, the worker
// finishes (or gives back) its in-flight tasks, then the connections and the embedded
// server close. Nothing accepted is lost: Temporal holds it.
func (m *Main) Close() {
	for _, srv := range m.httpServers {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
	}
	m.httpServers = nil
	if m.worker != nil {
		m.worker.Stop()
		m.worker = nil
	}
	if m.client != nil {
		m.client.Close()
		m.client = nil
	}
	if m.store != nil {
		_ = m.store.Close()
		m.store = nil
	}
	if m.temporal != nil {
		m.temporal.Stop()
		m.temporal = nil
	}
	for _, p := range m.peers {
		p.Close()
	}
	m.peers = nil
	for i := len(m.closers) - 1; i >= 0; i-- {
		m.closers[i]()
	}
	m.closers = nil
}

// tuneGC gives the Go garbage collector more room in a process that embeds the
// Temporal server, unless GOGC or GOMEMLIMIT say otherwise: the server allocates
// heavily, and with the default GOGC=100 collection takes a third of the CPU of a busy
// dev stack (measured: GOGC=400 raised 1000×10 inline-first deliveries from ~750/s to
// ~1050/s, peak RSS 580 → 740 MB). The memory limit makes the collector work harder
// only when the heap nears 2 GiB.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2 << 30)
	}
}

// dialTemporal connects to the Temporal frontend and waits until it reports itself
// healthy, retrying for up to a minute: in compose the server may still be starting (a
// frontend accepts connections, and answers GetSystemInfo, before it serves).
func dialTemporal(ctx context.Context, cfg Config, log *slog.Logger, mh client.MetricsHandler) (client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		c, err := client.DialContext(ctx, client.Options{
			HostPort:       cfg.TemporalAddress,
			Namespace:      cfg.TemporalNamespace,
			Logger:         sdklog.NewStructuredLogger(log.With("component", "temporal-sdk")),
			MetricsHandler: mh,
		})
		if err == nil {
			if err = checkHealth(ctx, c); err == nil {
				return c, nil
			}
			c.Close()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddress, err)
		case <-time.After(time.Second):
		}
	}
}

// checkHealth asks the frontend's gRPC health service whether it serves, giving it a few
// seconds to answer.
func checkHealth(ctx context.Context, c client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}
