package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/worker"
	"github.com/hookflow/hookflow/workflows"
)

// Config is every setting of the hookflow binary. Defaults come from DefaultConfig, then
// HOOKFLOW_* environment variables, then flags; Validate checks the result once.
type Config struct {
	// HTTPAddr is where the API listens.
	HTTPAddr string
	// MetricsAddr is where a worker without the API serves /metrics.
	MetricsAddr string
	// AdminToken reaches every API endpoint; dev generates one when empty.
	AdminToken string
	// DatabaseURL is the application database: postgres://… or sqlite:<path>. Empty in
	// dev means an SQLite file under DataDir.
	DatabaseURL string
	// DBPool sizes the application database's connection pool (PostgreSQL).
	DBPool store.Pool

	// DataDir holds dev's SQLite files (Temporal's and the application's).
	DataDir string
	// Memory keeps dev's state in memory only.
	Memory bool
	// NoUI runs the embedded Temporal server without its UI (bench).
	NoUI bool
	// TemporalPort and UIPort are dev's embedded Temporal frontend and UI ports (0: any).
	TemporalPort int
	UIPort       int

	// TemporalAddress and TemporalNamespace locate an external Temporal (worker, api,
	// migrate).
	TemporalAddress   string
	TemporalNamespace string
	// NamespaceRetention is the retention migrate gives the namespace when it creates it
	// (worker.DefaultNamespaceRetention unless configured); NamespaceRetentionSet says it
	// was configured, so that migrate points out an existing namespace's other retention.
	NamespaceRetention    time.Duration
	NamespaceRetentionSet bool
	// Retention is what the purge removes (see store.Retention); PurgeInterval is how
	// often the purge schedule that migrate and dev create runs.
	Retention     store.Retention
	PurgeInterval time.Duration
	// PurgeVacuum makes each purge end with a VACUUM of the purged tables (PostgreSQL).
	PurgeVacuum bool
	// PurgeBatch is how many rows each purge transaction looks at.
	PurgeBatch int
	// TemporalUIURL is linked from delivery details; dev sets it to its embedded UI.
	TemporalUIURL string

	// TemporalServer configures `hookflow temporal`, a Temporal server on PostgreSQL
	// listening on TemporalAddress (its UI on UIPort of the same host, unless NoUI).
	TemporalServer TemporalServerConfig

	// RateLimit is the API's limit of requests per second per API key (and for the
	// admin token), in bursts of up to RateBurst; 0 means no limit.
	RateLimit int
	RateBurst int
	// AuthFailureLimit is the API's limit of failed authentications per second per
	// client address, in bursts of up to AuthFailureBurst; 0 means no limit.
	AuthFailureLimit int
	AuthFailureBurst int
	// AdmissionCompanyBacklog and AdmissionTotalBacklog bound the work ingestion accepts
	// ahead of delivery (apiserver.Admission); 0 means no bound.
	AdmissionCompanyBacklog int
	AdmissionTotalBacklog   int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client address.
	TrustedProxies []string

	// Network decides which webhook destinations are allowed.
	Network models.NetworkPolicy
	// DNSServer, when set (host:port), resolves webhook hosts instead of the system
	// resolver.
	DNSServer string
	// Retry is the delivery retry policy.
	Retry workflows.RetryPolicy
	// DeliveryMode is workflows.ModeChild (one workflow per delivery) or
	// workflows.ModeInlineFirst (first attempts inside the event workflow).
	DeliveryMode string
	// ReleaseConcurrency is how many queued deliveries of a re-activated subscriber go
	// out at a time (1 keeps them in order).
	ReleaseConcurrency int
	// APIWorker runs a worker in `hookflow api` (and the bench's API) beside the API, so
	// that the event workflows it starts begin on it without a round trip through
	// Temporal's matching service (eager start).
	APIWorker bool

	// SMTP sends alerts (a subscriber blocked) to subscribers' email_id; without
	// SMTPAddr they are only stored and logged.
	SMTPAddr     string
	SMTPFrom     string
	SMTPUsername string
	SMTPPassword string

	// LogFormat is "text" or "json"; LogLevel is debug, info, warn or error.
	LogFormat string
	LogLevel  string
}

// TemporalServerConfig is the PostgreSQL store of `hookflow temporal`.
type TemporalServerConfig struct {
	// DatabaseURL names the executions database (created when missing).
	DatabaseURL string
	// VisibilityDatabase is the visibility database's name (default: the executions
	// database's + "_visibility").
	VisibilityDatabase string
	// MaxConns, MaxIdleConns and VisibilityMaxConns size the pools that each of the
	// server's four services opens: a process holds up to 4 × (MaxConns +
	// VisibilityMaxConns) connections.
	MaxConns, MaxIdleConns, VisibilityMaxConns int
	// HistoryShards is fixed when the database is created.
	HistoryShards int
}

// DefaultRetry is Fynd's schedule: 20 attempts within 48 hours. The waits between
// attempts are 30 s, 1, 2, 4, 8, 16, 32 and 64 minutes, 2 h 8 min, then 4 h ten times:
// the 20th attempt is made about 44 h 15 min after the first.
var DefaultRetry = workflows.RetryPolicy{
	InitialInterval:    30 * time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    4 * time.Hour,
	MaximumAttempts:    20,
	Expiration:         48 * time.Hour,
}

// DefaultRetention keeps events, deliveries and attempts 30 days, their payloads and
// response bodies 7 days, and the report rollups 400 days (a year of reports, and the same
// weeks of last year).
var DefaultRetention = store.Retention{Records: 30 * day, Payloads: 7 * day, Reports: 400 * day}

const day = 24 * time.Hour

// DefaultConfig returns the defaults for a subcommand: dev is permissive (loopback and
// private receivers, plain http); worker and api require https and public receivers.
func DefaultConfig(cmd string) Config {
	c := Config{
		HTTPAddr:                "127.0.0.1:8080",
		DataDir:                 ".hookflow",
		TemporalPort:            7233,
		UIPort:                  8233,
		TemporalAddress:         "127.0.0.1:7233",
		TemporalNamespace:       "default",
		NamespaceRetention:      worker.DefaultNamespaceRetention,
		Retry:                   DefaultRetry,
		DeliveryMode:            workflows.ModeChild,
		ReleaseConcurrency:      1,
		APIWorker:               true,
		RateLimit:               apiserver.DefaultRateLimit,
		RateBurst:               apiserver.DefaultRateBurst,
		AuthFailureLimit:        apiserver.DefaultAuthFailureLimit,
		AuthFailureBurst:        apiserver.DefaultAuthFailureBurst,
		AdmissionCompanyBacklog: apiserver.DefaultCompanyBacklog,
		AdmissionTotalBacklog:   apiserver.DefaultTotalBacklog,
		LogFormat:               "json",
		LogLevel:                "info",
		Network:                 models.NetworkPolicy{RequireHTTPS: true},
		DBPool:                  store.DefaultPool,
		Retention:               DefaultRetention,
		PurgeInterval:           worker.DefaultPurgeInterval,
		PurgeBatch:              activities.DefaultPurgeBatch,
		TemporalServer:          TemporalServerConfig{MaxConns: 8, MaxIdleConns: 4, VisibilityMaxConns: 2, HistoryShards: 16},
	}
	if cmd == "dev" || cmd == "bench" {
		c.LogFormat = "text"
		c.Network = models.NetworkPolicy{AllowLoopback: true, AllowPrivate: true}
	}
	return c
}

// bindFlags binds the flags of cmd to c, with the environment applied first so that
// flags win.
func (c *Config) bindFlags(fs *flag.FlagSet, cmd string, getenv func(string) string) error {
	env := envReader{getenv: getenv}
	env.str("HOOKFLOW_HTTP_ADDR", &c.HTTPAddr)
	env.str("HOOKFLOW_METRICS_ADDR", &c.MetricsAddr)
	env.str("HOOKFLOW_ADMIN_TOKEN", &c.AdminToken)
	env.str("HOOKFLOW_DATABASE_URL", &c.DatabaseURL)
	env.integer("HOOKFLOW_DB_MAX_OPEN_CONNS", &c.DBPool.MaxOpen)
	env.integer("HOOKFLOW_DB_MAX_IDLE_CONNS", &c.DBPool.MaxIdle)
	env.duration("HOOKFLOW_DB_CONN_MAX_LIFETIME", &c.DBPool.MaxLifetime)
	env.duration("HOOKFLOW_DB_CONN_MAX_IDLE_TIME", &c.DBPool.MaxIdleTime)
	env.str("HOOKFLOW_DATA_DIR", &c.DataDir)
	env.str("HOOKFLOW_TEMPORAL_ADDRESS", &c.TemporalAddress)
	env.str("HOOKFLOW_TEMPORAL_NAMESPACE", &c.TemporalNamespace)
	env.str("HOOKFLOW_TEMPORAL_UI_URL", &c.TemporalUIURL)
	env.str("HOOKFLOW_TEMPORAL_DATABASE_URL", &c.TemporalServer.DatabaseURL)
	env.str("HOOKFLOW_TEMPORAL_VISIBILITY_DATABASE", &c.TemporalServer.VisibilityDatabase)
	env.integer("HOOKFLOW_TEMPORAL_DB_MAX_CONNS", &c.TemporalServer.MaxConns)
	env.integer("HOOKFLOW_TEMPORAL_DB_MAX_IDLE_CONNS", &c.TemporalServer.MaxIdleConns)
	env.integer("HOOKFLOW_TEMPORAL_VISIBILITY_DB_MAX_CONNS", &c.TemporalServer.VisibilityMaxConns)
	env.integer("HOOKFLOW_TEMPORAL_HISTORY_SHARDS", &c.TemporalServer.HistoryShards)
	env.str("HOOKFLOW_SMTP_ADDR", &c.SMTPAddr)
	env.str("HOOKFLOW_SMTP_FROM", &c.SMTPFrom)
	env.str("HOOKFLOW_SMTP_USERNAME", &c.SMTPUsername)
	env.str("HOOKFLOW_SMTP_PASSWORD", &c.SMTPPassword)
	env.str("HOOKFLOW_LOG_FORMAT", &c.LogFormat)
	env.str("HOOKFLOW_LOG_LEVEL", &c.LogLevel)
	env.str("HOOKFLOW_DNS_SERVER", &c.DNSServer)
	env.boolean("HOOKFLOW_REQUIRE_HTTPS", &c.Network.RequireHTTPS)
	env.boolean("HOOKFLOW_ALLOW_LOOPBACK", &c.Network.AllowLoopback)
	env.boolean("HOOKFLOW_ALLOW_PRIVATE_NETWORKS", &c.Network.AllowPrivate)
	env.duration("HOOKFLOW_RETRY_INITIAL_INTERVAL", &c.Retry.InitialInterval)
	env.duration("HOOKFLOW_RETRY_MAX_INTERVAL", &c.Retry.MaximumInterval)
	env.duration("HOOKFLOW_RETRY_EXPIRATION", &c.Retry.Expiration)
	env.integer("HOOKFLOW_RETRY_MAX_ATTEMPTS", &c.Retry.MaximumAttempts)
	env.integer("HOOKFLOW_RELEASE_CONCURRENCY", &c.ReleaseConcurrency)
	env.boolean("HOOKFLOW_API_WORKER", &c.APIWorker)
	env.days("HOOKFLOW_RETENTION", &c.Retention.Records)
	env.days("HOOKFLOW_PAYLOAD_RETENTION", &c.Retention.Payloads)
	env.days("HOOKFLOW_REPORT_RETENTION", &c.Retention.Reports)
	env.duration("HOOKFLOW_PURGE_INTERVAL", &c.PurgeInterval)
	env.boolean("HOOKFLOW_PURGE_VACUUM", &c.PurgeVacuum)
	env.integer("HOOKFLOW_PURGE_BATCH", &c.PurgeBatch)
	env.str("HOOKFLOW_DELIVERY_MODE", &c.DeliveryMode)
	env.integer("HOOKFLOW_RATE_LIMIT_RPS", &c.RateLimit)
	env.integer("HOOKFLOW_RATE_LIMIT_BURST", &c.RateBurst)
	env.integer("HOOKFLOW_AUTH_FAILURE_RPS", &c.AuthFailureLimit)
	env.integer("HOOKFLOW_AUTH_FAILURE_BURST", &c.AuthFailureBurst)
	env.integer("HOOKFLOW_ADMISSION_COMPANY_BACKLOG", &c.AdmissionCompanyBacklog)
	env.integer("HOOKFLOW_ADMISSION_TOTAL_BACKLOG", &c.AdmissionTotalBacklog)
	var proxies string
	env.str("HOOKFLOW_TRUSTED_PROXIES", &proxies)
	for _, p := range strings.Split(proxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if env.err != nil {
		return env.err
	}

	switch cmd {
	case "dev":
		fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the embedded Temporal and application SQLite files")
		fs.BoolVar(&c.Memory, "memory", c.Memory, "keep all state in memory (lost on exit)")
		fs.IntVar(&c.TemporalPort, "temporal-port", c.TemporalPort, "embedded Temporal frontend port (0: any free port)")
		fs.IntVar(&c.UIPort, "ui-port", c.UIPort, "embedded Temporal UI port (0: any free port)")
	case "temporal":
		fs.StringVar(&c.TemporalAddress, "temporal-address", c.TemporalAddress, "host:port the Temporal frontend listens on; the host must be an IP address (env HOOKFLOW_TEMPORAL_ADDRESS)")
		fs.IntVar(&c.UIPort, "ui-port", c.UIPort, "Temporal UI port, on the frontend's host")
		fs.BoolVar(&c.NoUI, "no-ui", c.NoUI, "do not serve Temporal UI")
		fs.StringVar(&c.TemporalServer.DatabaseURL, "database-url", c.TemporalServer.DatabaseURL, "Temporal's executions database, postgres://user:pass@host:5432/temporal (env HOOKFLOW_TEMPORAL_DATABASE_URL); created when missing")
		fs.StringVar(&c.TemporalServer.VisibilityDatabase, "visibility-database", c.TemporalServer.VisibilityDatabase, "Temporal's visibility database on the same server (env HOOKFLOW_TEMPORAL_VISIBILITY_DATABASE; default: <database>_visibility)")
		fs.IntVar(&c.TemporalServer.MaxConns, "db-max-conns", c.TemporalServer.MaxConns, "executions store connections per Temporal service (env HOOKFLOW_TEMPORAL_DB_MAX_CONNS); the process holds up to 4 × (this + --visibility-db-max-conns)")
		fs.IntVar(&c.TemporalServer.MaxIdleConns, "db-max-idle-conns", c.TemporalServer.MaxIdleConns, "idle executions store connections kept per service (env HOOKFLOW_TEMPORAL_DB_MAX_IDLE_CONNS)")
		fs.IntVar(&c.TemporalServer.VisibilityMaxConns, "visibility-db-max-conns", c.TemporalServer.VisibilityMaxConns, "visibility store connections per Temporal service (env HOOKFLOW_TEMPORAL_VISIBILITY_DB_MAX_CONNS)")
		fs.IntVar(&c.TemporalServer.HistoryShards, "history-shards", c.TemporalServer.HistoryShards, "history shards, fixed when the database is created (env HOOKFLOW_TEMPORAL_HISTORY_SHARDS)")
	case "worker", "api", "migrate":
		fs.StringVar(&c.TemporalAddress, "temporal-address", c.TemporalAddress, "Temporal frontend host:port (env HOOKFLOW_TEMPORAL_ADDRESS)")
		fs.StringVar(&c.TemporalNamespace, "temporal-namespace", c.TemporalNamespace, "Temporal namespace (env HOOKFLOW_TEMPORAL_NAMESPACE)")
		fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "application database URL (env HOOKFLOW_DATABASE_URL)")
	}
	switch cmd {
	case "dev", "worker", "api", "migrate", "bench":
		fs.IntVar(&c.DBPool.MaxOpen, "db-max-open-conns", c.DBPool.MaxOpen, "most application database connections open at once, per process (env HOOKFLOW_DB_MAX_OPEN_CONNS; PostgreSQL)")
		fs.IntVar(&c.DBPool.MaxIdle, "db-max-idle-conns", c.DBPool.MaxIdle, "application database connections kept open while unused (env HOOKFLOW_DB_MAX_IDLE_CONNS)")
		fs.DurationVar(&c.DBPool.MaxLifetime, "db-conn-max-lifetime", c.DBPool.MaxLifetime, "close an application database connection this long after it opened; 0: never (env HOOKFLOW_DB_CONN_MAX_LIFETIME)")
		fs.DurationVar(&c.DBPool.MaxIdleTime, "db-conn-max-idle-time", c.DBPool.MaxIdleTime, "close an application database connection unused this long; 0: never (env HOOKFLOW_DB_CONN_MAX_IDLE_TIME)")
	}
	if cmd == "bench" {
		fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "application database URL (env HOOKFLOW_DATABASE_URL; default: an SQLite file per measurement)")
	}
	if cmd == "dev" || cmd == "api" {
		fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "API listen address (env HOOKFLOW_HTTP_ADDR)")
		fs.StringVar(&c.AdminToken, "admin-token", c.AdminToken, "admin token (env HOOKFLOW_ADMIN_TOKEN; dev generates one when empty)")
	}
	if cmd == "dev" || cmd == "worker" || cmd == "api" || cmd == "bench" {
		fs.StringVar(&c.DeliveryMode, "mode", c.DeliveryMode, "delivery mode: child (a workflow per delivery) or inline-first (first attempts inside the event workflow); api: of its worker; bench also takes both (env HOOKFLOW_DELIVERY_MODE)")
	}
	if cmd == "migrate" || cmd == "dev" {
		// Read here rather than above: it is migrate's (for a namespace it creates) and
		// dev's (whose embedded namespace follows it), and the others must not fail on a
		// value meant for them.
		if v := getenv("HOOKFLOW_TEMPORAL_NAMESPACE_RETENTION"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("HOOKFLOW_TEMPORAL_NAMESPACE_RETENTION: %q is not a duration (e.g. 72h, 720h)", v)
			}
			c.NamespaceRetention, c.NamespaceRetentionSet = d, true
		}
		fs.Func("namespace-retention", "retention of the Temporal namespace when migrate creates it, and of dev's embedded one, a Go `duration` of at least 24h (env HOOKFLOW_TEMPORAL_NAMESPACE_RETENTION; default 72h)", func(v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration (e.g. 72h, 720h)", v)
			}
			c.NamespaceRetention, c.NamespaceRetentionSet = d, true
			return nil
		})
	}
	if cmd == "worker" {
		fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "where the worker serves /metrics (env HOOKFLOW_METRICS_ADDR; empty: nowhere)")
	}
	if cmd == "api" || cmd == "bench" {
		name := "worker"
		if cmd == "bench" {
			name = "api-worker"
		}
		fs.BoolVar(&c.APIWorker, name, c.APIWorker, "run a worker beside the API, which starts its event workflows on it directly (eager start); false: the API only starts them, workers run them (env HOOKFLOW_API_WORKER)")
	}
	if cmd == "api" {
		fs.StringVar(&c.TemporalUIURL, "temporal-ui-url", c.TemporalUIURL, "Temporal UI base URL for links (env HOOKFLOW_TEMPORAL_UI_URL)")
	}
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error (env HOOKFLOW_LOG_LEVEL)")
	return nil
}

// Validate checks c for cmd and fills derived defaults.
func (c *Config) Validate(cmd string) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if (cmd == "dev" || cmd == "bench") && c.AdminToken == "" {
		c.AdminToken = generateToken()
	}
	switch cmd {
	case "dev":
		if c.DatabaseURL == "" {
			if c.Memory {
				c.DatabaseURL = "sqlite::memory:"
			} else {
				c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "hookflow.db")
			}
		}
	case "worker", "api", "migrate":
		if c.DatabaseURL == "" {
			add("HOOKFLOW_DATABASE_URL (or --database-url) is required, e.g. postgres://user:pass@host:5432/hookflow")
		}
		if c.TemporalAddress == "" {
			add("HOOKFLOW_TEMPORAL_ADDRESS (or --temporal-address) is required")
		}
	}
	if (cmd == "migrate" || cmd == "dev") && c.NamespaceRetention < worker.MinNamespaceRetention {
		add("HOOKFLOW_TEMPORAL_NAMESPACE_RETENTION (or --namespace-retention) must be at least 24h, Temporal's minimum (got %v)", c.NamespaceRetention)
	}
	if (cmd == "dev" || cmd == "api" || cmd == "bench") && len(c.AdminToken) < 16 {
		add("the admin token must be at least 16 characters (HOOKFLOW_ADMIN_TOKEN or --admin-token)")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		add("the database URL must start with postgres:// or sqlite:")
	}
	if cmd == "temporal" {
		c.validateTemporalServer(add)
	}
	if err := c.DBPool.Validate(); err != nil {
		add("%v", err)
	}
	if c.TemporalPort < 0 || c.TemporalPort > 65535 || c.UIPort < 0 || c.UIPort > 65535 {
		add("ports must be between 0 and 65535")
	}
	switch {
	case c.DeliveryMode == workflows.ModeChild, c.DeliveryMode == workflows.ModeInlineFirst:
	case c.DeliveryMode == "both" && cmd == "bench":
	default:
		add("HOOKFLOW_DELIVERY_MODE (--mode) must be child or inline-first")
	}
	if c.SMTPAddr != "" && c.SMTPFrom == "" {
		add("HOOKFLOW_SMTP_FROM is required with HOOKFLOW_SMTP_ADDR")
	}
	if c.ReleaseConcurrency < 1 || c.ReleaseConcurrency > 100 {
		add("HOOKFLOW_RELEASE_CONCURRENCY must be between 1 and 100")
	}
	if c.RateLimit < 0 || (c.RateLimit > 0 && c.RateBurst < 1) {
		add("HOOKFLOW_RATE_LIMIT_RPS must be ≥ 0 (0: no limit), and HOOKFLOW_RATE_LIMIT_BURST ≥ 1 with a limit")
	}
	if c.AuthFailureLimit < 0 || (c.AuthFailureLimit > 0 && c.AuthFailureBurst < 1) {
		add("HOOKFLOW_AUTH_FAILURE_RPS must be ≥ 0 (0: no limit), and HOOKFLOW_AUTH_FAILURE_BURST ≥ 1 with a limit")
	}
	if c.AdmissionCompanyBacklog < 0 || c.AdmissionTotalBacklog < 0 {
		add("HOOKFLOW_ADMISSION_COMPANY_BACKLOG and HOOKFLOW_ADMISSION_TOTAL_BACKLOG must be ≥ 0 (0: no bound)")
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				add("HOOKFLOW_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR range", p)
			}
		}
	}
	if rt := c.Retention; rt.Records < time.Second || rt.Payloads < time.Second || rt.Payloads > rt.Records || rt.Reports < time.Second {
		add("HOOKFLOW_RETENTION and HOOKFLOW_REPORT_RETENTION must be at least 1s, HOOKFLOW_PAYLOAD_RETENTION between 1s and HOOKFLOW_RETENTION (got retention %v, payload retention %v, report retention %v)",
			rt.Records, rt.Payloads, rt.Reports)
	}
	if c.PurgeBatch < 1 || c.PurgeBatch > 100_000 {
		add("HOOKFLOW_PURGE_BATCH must be between 1 and 100000 (got %d)", c.PurgeBatch)
	}
	if c.PurgeInterval < time.Second || c.PurgeInterval > day {
		add("HOOKFLOW_PURGE_INTERVAL must be between 1s and 24h (got %v)", c.PurgeInterval)
	}
	r := c.Retry
	if r.MaximumAttempts < 1 || r.InitialInterval <= 0 || r.MaximumInterval < r.InitialInterval || r.Expiration <= 0 || r.BackoffCoefficient < 1 {
		add("invalid retry policy: attempts ≥ 1, initial interval > 0, max interval ≥ initial, expiration > 0")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		add("HOOKFLOW_LOG_FORMAT must be text or json")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		add("%v", err)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// validateTemporalServer checks the settings of `hookflow temporal`.
func (c *Config) validateTemporalServer(add func(format string, args ...any)) {
	ts := c.TemporalServer
	if ts.DatabaseURL == "" {
		add("HOOKFLOW_TEMPORAL_DATABASE_URL (or --database-url) is required, e.g. postgres://temporal:secret@127.0.0.1:5432/temporal")
	} else if !strings.HasPrefix(ts.DatabaseURL, "postgres://") && !strings.HasPrefix(ts.DatabaseURL, "postgresql://") {
		add("HOOKFLOW_TEMPORAL_DATABASE_URL must start with postgres://")
	}
	host, port, err := net.SplitHostPort(c.TemporalAddress)
	if err == nil {
		_, err = netip.ParseAddr(host)
	}
	if n, perr := strconv.Atoi(port); err == nil && (perr != nil || n < 1 || n > 65535) {
		err = errors.New("bad port")
	}
	if err != nil {
		add("HOOKFLOW_TEMPORAL_ADDRESS (--temporal-address) must be ip:port to listen on, e.g. 127.0.0.1:7233 (got %q)", c.TemporalAddress)
	}
	if ts.MaxConns < 1 || ts.MaxIdleConns < 0 || ts.MaxIdleConns > ts.MaxConns || ts.VisibilityMaxConns < 1 {
		add("HOOKFLOW_TEMPORAL_DB_MAX_CONNS and HOOKFLOW_TEMPORAL_VISIBILITY_DB_MAX_CONNS must be ≥ 1, HOOKFLOW_TEMPORAL_DB_MAX_IDLE_CONNS between 0 and HOOKFLOW_TEMPORAL_DB_MAX_CONNS")
	}
	if ts.HistoryShards < 1 || ts.HistoryShards > 1024 {
		add("HOOKFLOW_TEMPORAL_HISTORY_SHARDS must be between 1 and 1024")
	}
}

func generateToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "hfa_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// envReader reads HOOKFLOW_* variables into typed fields, remembering the first error.
type envReader struct {
	getenv func(string) string
	err    error
}

func (e *envReader) str(name string, dst *string) {
	if v := e.getenv(name); v != "" {
		*dst = v
	}
}

func (e *envReader) boolean(name string, dst *bool) {
	if v := e.getenv(name); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil && e.err == nil {
			e.err = fmt.Errorf("%s: %q is not a boolean", name, v)
		}
		*dst = b
	}
}

func (e *envReader) integer(name string, dst *int) {
	if v := e.getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil && e.err == nil {
			e.err = fmt.Errorf("%s: %q is not an integer", name, v)
		}
		*dst = n
	}
}

func (e *envReader) duration(name string, dst *time.Duration) {
	if v := e.getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil && e.err == nil {
			e.err = fmt.Errorf("%s: %q is not a duration (e.g. 30s, 4h)", name, v)
		}
		*dst = d
	}
}

// days reads a retention: a Go duration (720h, 90m) or a number of days (30d).
func (e *envReader) days(name string, dst *time.Duration) {
	v := e.getenv(name)
	if v == "" {
		return
	}
	d, err := parseDays(v)
	if err != nil && e.err == nil {
		e.err = fmt.Errorf("%s: %q is not a duration (e.g. 30d, 720h, 90m)", name, v)
	}
	*dst = d
}

// parseDays parses a Go duration, or a whole number of days followed by d.
func parseDays(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return 0, fmt.Errorf("bad number of days %q", n)
		}
		return time.Duration(days) * day, nil
	}
	return time.ParseDuration(v)
}

// notifier returns the mail notifier, or nil when no SMTP server is configured.
func (c Config) notifier() activities.Notifier {
	if c.SMTPAddr == "" {
		return nil
	}
	return activities.SMTPNotifier{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword}
}

// resolver returns the resolver for webhook hosts: DNSServer's, or nil for the system's.
func (c Config) resolver() *net.Resolver {
	if c.DNSServer == "" {
		return nil
	}
	server := c.DNSServer
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}
