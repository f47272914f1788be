package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/hookflow/hookflow/devserver"
)

// runTemporal runs a Temporal server on PostgreSQL in this process, until ctx ends: the
// Temporal of a deployment that has none of its own. Its databases are created, and
// their schema set up or brought up to date, at start; `hookflow migrate` then creates
// the namespace.
func runTemporal(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := loadConfig("temporal", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	host, portText, _ := net.SplitHostPort(cfg.TemporalAddress) // validated
	port, _ := strconv.Atoi(portText)
	ts := cfg.TemporalServer
	tuneGC()
	srv, err := devserver.Start(ctx, devserver.Options{
		Postgres: &devserver.Postgres{
			URL: ts.DatabaseURL, VisibilityDatabase: ts.VisibilityDatabase,
			MaxConns: ts.MaxConns, MaxIdleConns: ts.MaxIdleConns, VisibilityMaxConns: ts.VisibilityMaxConns,
		},
		Host: host, Port: port, UIPort: cfg.UIPort, NoUI: cfg.NoUI, HistoryShards: ts.HistoryShards,
		Namespace: cfg.TemporalNamespace, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("start temporal: %w", err)
	}
	defer srv.Stop()
	log.Info("temporal started", "address", srv.HostPort(), "ui", srv.UIURL(), "history_shards", ts.HistoryShards,
		"max_db_connections", (devserver.Postgres{MaxConns: ts.MaxConns, VisibilityMaxConns: ts.VisibilityMaxConns}).PostgresConns())
	fmt.Fprintf(stdout, "temporal is serving at %s", srv.HostPort())
	if srv.UIURL() != "" {
		fmt.Fprintf(stdout, ", Temporal UI at %s", srv.UIURL())
	}
	fmt.Fprintln(stdout)
	<-ctx.Done()
	log.Info("temporal shutting down")
	return nil
}
