// Package devserver runs a Temporal server inside the Hookflow process, with the Temporal
// UI beside it: on SQLite (a file that survives restarts, or memory) for `hookflow dev`,
// `hookflow bench` and the end-to-end tests, or on PostgreSQL for `hookflow temporal`, a
// single-process Temporal for deployments without one of their own.
package devserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const clusterName = "active"

// Options configures an embedded server.
type Options struct {
	// Postgres, when set, keeps the server's state in PostgreSQL instead of SQLite
	// (DataFile is then ignored, and the namespace is not created: `hookflow migrate`
	// creates it).
	Postgres *Postgres
	// Host is the address the frontend and the UI listen on (default 127.0.0.1).
	Host string
	// HistoryShards is the number of history shards (default 1). It is fixed when the
	// server's database is created; a server started with another number refuses to run.
	HistoryShards int
	// DataFile is the SQLite file that holds the server's state; it is created (with its
	// schema) when missing. Empty means an in-memory database, lost on Stop.
	DataFile string
	// Port is the frontend gRPC port on 127.0.0.1; 0 picks a free one.
	Port int
	// UIPort is the Temporal UI's HTTP port on 127.0.0.1; 0 picks a free one. Ignored
	// when NoUI is set.
	UIPort int
	NoUI   bool
	// Namespace is created if missing (default "default").
	Namespace string
	// SearchAttributes are registered on the namespace when it is created. Existing
	// namespaces get theirs through the operator API (see worker.RegisterSearchAttributes).
	SearchAttributes map[string]enumspb.IndexedValueType
	// DynamicConfig overrides server settings (see go.temporal.io/server/common/dynamicconfig).
	DynamicConfig map[string]any
	// Logger receives the server's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// DefaultDynamicConfig is the dynamic configuration Hookflow runs its embedded server with:
// eager workflow start and eager activity execution save a round trip through the
// matching service for work started by a client or worker in the same process, and the
// search-attribute cache is read through so that attributes registered at start-up are
// usable at once.
func DefaultDynamicConfig() map[string]any {
	return map[string]any{
		dynamicconfig.EnableEagerWorkflowStart.Key().String():                true,
		dynamicconfig.EnableActivityEagerExecution.Key().String():            true,
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key().String(): true,
		dynamicconfig.FrontendEnableUpdateWorkflowExecution.Key().String():   true,
	}
}

// Server is a running embedded Temporal server.
type Server struct {
	server   temporal.Server
	ui       *uiserver.Server
	hostPort string
	uiURL    string
	ns       string
	quiet    *atomic.Bool
	pgLock   *pgx.Conn // the PostgreSQL server lock (see lockPostgres)
}

// Start starts the server and, unless NoUI, the UI; it returns once the frontend accepts
// connections or ctx ends.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.HistoryShards == 0 {
		opts.HistoryShards = 1
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Every port picked here stays bound until the configuration is complete, so that
	// no two picks can return the same port.
	var ports portPicker
	defer ports.release()
	var err error
	if opts.Port == 0 {
		if opts.Port, err = ports.pick(); err != nil {
			return nil, err
		}
	} else if err := portFree(opts.Host, opts.Port); err != nil {
		return nil, fmt.Errorf("temporal port: %w", err)
	}
	if !opts.NoUI {
		if opts.UIPort == 0 {
			if opts.UIPort, err = ports.pick(); err != nil {
				return nil, err
			}
		} else if err := portFree(opts.Host, opts.UIPort); err != nil {
			// The UI server exits the process when it cannot listen; check first.
			return nil, fmt.Errorf("temporal UI port: %w", err)
		}
	}
	hostPort := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	// The services report each other missing while they start; stay quiet until the
	// frontend answers.
	quiet := new(atomic.Bool)
	quiet.Store(true)
	serverLog := newLogAdapter(log, quiet)

	var execSQL, visSQL *config.SQL
	var pgLock *pgx.Conn
	if opts.Postgres != nil {
		execSQL, visSQL, pgLock, err = postgresStores(ctx, *opts.Postgres, newLogAdapter(log, new(atomic.Bool)))
	} else {
		execSQL, visSQL, err = sqlConfigs(opts)
	}
	if err != nil {
		return nil, err
	}
	closeLock := func() {
		if pgLock != nil {
			_ = pgLock.Close(context.Background())
		}
	}
	conf, err := serverConfig(opts, execSQL, visSQL, &ports)
	if err != nil {
		closeLock()
		return nil, err
	}
	ports.release()
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		closeLock()
		return nil, fmt.Errorf("temporal authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, serverLog)
	if err != nil {
		closeLock()
		return nil, fmt.Errorf("temporal claim mapper: %w", err)
	}
	dyn := dynamicconfig.StaticClient{}
	for k, v := range DefaultDynamicConfig() {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	for k, v := range opts.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(serverLog),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		closeLock()
		return nil, fmt.Errorf("create temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		closeLock()
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{server: srv, hostPort: hostPort, ns: opts.Namespace, quiet: quiet, pgLock: pgLock}
	if err := waitReady(ctx, hostPort, opts.Namespace); err != nil {
		_ = srv.Stop()
		closeLock()
		return nil, err
	}
	quiet.Store(false)
	if !opts.NoUI {
		s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
			Host:                opts.Host,
			Port:                opts.UIPort,
			TemporalGRPCAddress: hostPort,
			EnableUI:            true,
			DefaultNamespace:    opts.Namespace,
			HideLogs:            true,
			CORS:                uiconfig.CORS{CookieInsecure: true},
		}))
		go func() {
			if err := s.ui.Start(); err != nil {
				log.Error("temporal UI stopped", "error", err)
			}
		}()
		s.uiURL = "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(opts.UIPort))
		if err := waitListening(ctx, net.JoinHostPort(opts.Host, strconv.Itoa(opts.UIPort))); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// HostPort returns the frontend's address for Temporal clients.
func (s *Server) HostPort() string { return s.hostPort }

// Namespace returns the namespace the server was started with.
func (s *Server) Namespace() string { return s.ns }

// UIURL returns the Temporal UI's base URL, or "" without UI.
func (s *Server) UIURL() string { return s.uiURL }

// Stop stops the UI and the server. Work in flight is kept in the data file (when there
// is one) and resumes on the next Start.
func (s *Server) Stop() {
	s.quiet.Store(true)
	if s.ui != nil {
		s.ui.Stop()
	}
	_ = s.server.Stop()
	if s.pgLock != nil {
		_ = s.pgLock.Close(context.Background())
	}
}

// sqlConfigs returns the SQLite configurations of the server's two stores: executions
// (histories, mutable state, tasks, namespaces) and visibility (what Temporal UI lists).
// They are separate databases — two files, or two memory databases — each with its own
// connection, so that listing writes never queue behind workflow progress.
func sqlConfigs(opts Options) (execution, visibility *config.SQL, err error) {
	if opts.DataFile == "" {
		execution, visibility = memoryConfig(), memoryConfig()
	} else {
		if execution, err = fileConfig(opts.DataFile); err != nil {
			return nil, nil, err
		}
		if visibility, err = fileConfig(visibilityFile(opts.DataFile)); err != nil {
			return nil, nil, err
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, nil, fmt.Errorf("temporal namespace %s: %w", opts.Namespace, err)
	}
	if err := sqliteschema.CreateNamespaces(execution, ns); err != nil {
		return nil, nil, fmt.Errorf("create temporal namespace %s: %w", opts.Namespace, err)
	}
	return execution, visibility, nil
}

// visibilityFile names the visibility database beside the execution database.
func visibilityFile(dataFile string) string {
	ext := filepath.Ext(dataFile)
	return strings.TrimSuffix(dataFile, ext) + "-visibility" + ext
}

func memoryConfig() *config.SQL {
	return &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{"mode": "memory", "cache": "shared"},
		DatabaseName:      "hookflow-" + strconv.FormatUint(rand.Uint64(), 36),
	}
}

// fileConfig configures a database file, creating it with its schema when missing.
func fileConfig(file string) (*config.SQL, error) {
	conf := &config.SQL{
		PluginName: sqliteplugin.PluginName,
		// WAL with synchronous=NORMAL commits without an fsync per transaction and is
		// still durable across process crashes (the WAL is on disk); only an OS crash can
		// lose the last commits. One connection, as the server's own SQLite default: its
		// transactions read before they write, and a second connection makes such
		// upgrades fail with SQLITE_BUSY_SNAPSHOT under load. A larger page cache and
		// memory-mapped reads, because the server reads back what it just wrote all the
		// time and each page read is otherwise a system call.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal",
			"busy_timeout": "10000", "cache_size": "-65536", "mmap_size": "268435456"},
		DatabaseName: file,
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return nil, fmt.Errorf("create temporal data directory: %w", err)
		}
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("create temporal schema in %s: %w", file, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("temporal data file: %w", err)
	} else if err := forgetMembers(file); err != nil {
		return nil, err
	}
	return conf, nil
}

func serverConfig(opts Options, execution, visibility *config.SQL, ports *portPicker) (*config.Config, error) {
	conf := &config.Config{}
	conf.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: "127.0.0.1"}
	conf.Persistence = config.Persistence{
		DefaultStore:     "default",
		VisibilityStore:  "visibility",
		NumHistoryShards: int32(opts.HistoryShards),
		DataStores:       map[string]config.DataStore{"default": {SQL: execution}, "visibility": {SQL: visibility}},
	}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)),
				// Any fixed UUID: there is only ever one cluster in this file.
				ClusterID: "6c6f6f6b-666c-4f77-9a64-657673657276",
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		membership, err := ports.pickInternal(opts.Postgres != nil)
		if err != nil {
			return nil, err
		}
		svc.RPC.MembershipPort = membership
		if name == "frontend" {
			svc.RPC.GRPCPort = opts.Port
			svc.RPC.BindOnIP = opts.Host
		} else {
			if svc.RPC.GRPCPort, err = ports.pickInternal(opts.Postgres != nil); err != nil {
				return nil, err
			}
			svc.RPC.BindOnLocalHost = true
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	return conf, nil
}

// portPicker hands out free loopback ports. Each stays bound until release, so that a
// later pick cannot return it again: picked and released one at a time, two services
// could be given the same port and the second would fail to listen.
type portPicker struct{ held []net.Listener }

func (p *portPicker) pick() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	p.held = append(p.held, l)
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pickInternal picks a port for a service other than the frontend. On PostgreSQL the
// ports are below 32768: the server's schema records membership ports as smallint, and
// Linux hands out ephemeral ports from 32768 up.
func (p *portPicker) pickInternal(low bool) (int, error) {
	if !low {
		return p.pick()
	}
	for range 200 {
		port := 10000 + rand.IntN(32767-10000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // taken
		}
		p.held = append(p.held, l)
		return port, nil
	}
	return 0, errors.New("find a free port below 32768: none found in 200 tries")
}

// release frees every port picked, for the services to bind.
func (p *portPicker) release() {
	for _, l := range p.held {
		_ = l.Close()
	}
	p.held = nil
}

func portFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("%s is in use (another hookflow or temporal running?): %w", net.JoinHostPort(host, strconv.Itoa(port)), err)
	}
	return l.Close()
}

// waitReady waits until the frontend serves the namespace.
func waitReady(ctx context.Context, hostPort, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitListening(ctx, hostPort); err != nil {
		return err
	}
	for {
		c, err := client.DialContext(ctx, client.Options{HostPort: hostPort, Namespace: namespace, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("temporal at %s did not become ready: %w", hostPort, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitListening(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not start listening: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// forgetMembers empties the cluster membership table of a data file left by an earlier
// run. This process is the file's only server, so every recorded member is a dead
// predecessor; left in place, the new server would try to join them and not route tasks
// between its own services until they expire (about a minute).
func forgetMembers(file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("open temporal data file: %w", err)
	}
	defer db.Close()
	if _, err := db.Exec("DELETE FROM cluster_membership"); err != nil {
		return fmt.Errorf("reset temporal cluster membership in %s: %w", file, err)
	}
	return nil
}
