package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/devserver"
)

// startPostgresTopology starts the deployed shape for one bench measurement, in this
// process: a Temporal server on new PostgreSQL databases (as `hookflow temporal`), the
// application schema and namespace prepared as `hookflow migrate` does, o.Workers
// workers and an API, with a worker of its own unless c.APIWorker is false (as
// `hookflow api`). The returned Main is the API; the workers and
// the server close with it, and the databases are dropped.
func startPostgresTopology(ctx context.Context, c Config, o benchOptions, n int, log *slog.Logger) (m *Main, err error) {
	base, err := url.Parse(o.TemporalDB)
	if err != nil {
		return nil, usageError{fmt.Errorf("--temporal-database-url: %w", err)}
	}
	name := "hookflow_bench_" + strconv.Itoa(os.Getpid()) + "_" + strconv.Itoa(n)
	dbURL := *base
	dbURL.Path = "/" + name
	var closers []func()
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
	}()
	closers = append(closers, func() { dropBenchDatabases(base, name) })
	// The server runs in this process, as in `hookflow temporal`, and gets its collector
	// setting (the API and workers beside it share it; on their own they allocate far
	// less).
	tuneGC()
	ts := c.TemporalServer
	srv, err := devserver.Start(ctx, devserver.Options{
		Postgres: &devserver.Postgres{URL: dbURL.String(), MaxConns: ts.MaxConns, MaxIdleConns: ts.MaxIdleConns, VisibilityMaxConns: ts.VisibilityMaxConns},
		NoUI:     true, HistoryShards: ts.HistoryShards, Namespace: c.TemporalNamespace, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("start temporal on postgres: %w", err)
	}
	closers = append(closers, srv.Stop)
	c.TemporalAddress = srv.HostPort()
	env := map[string]string{
		"HOOKFLOW_TEMPORAL_ADDRESS": c.TemporalAddress, "HOOKFLOW_TEMPORAL_NAMESPACE": c.TemporalNamespace,
		"HOOKFLOW_DATABASE_URL": c.DatabaseURL, "HOOKFLOW_LOG_LEVEL": "error", "HOOKFLOW_LOG_FORMAT": "text",
	}
	if err := runMigrate(ctx, nil, io.Discard, io.Discard, func(k string) string { return env[k] }); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var workers []*Main
	for i := range o.Workers {
		wc := c
		wc.DataDir = filepath.Join(c.DataDir, "worker-"+strconv.Itoa(i))
		w := NewMain(wc, Parts{Worker: true}, log)
		if err := w.Start(ctx); err != nil {
			return nil, err
		}
		workers = append(workers, w)
		closers = append(closers, w.Close)
	}
	api := NewMain(c, Parts{API: true, Worker: c.APIWorker}, log)
	if err := api.Start(ctx); err != nil {
		return nil, err
	}
	// From here the API owns the rest: workers first, then the server, then the
	// databases (closers run last first).
	api.peers = workers
	api.closers = closers[:2]
	return api, nil
}

// dropBenchDatabases drops a measurement's Temporal databases.
func dropBenchDatabases(base *url.URL, name string) {
	admin := *base
	admin.Path = "/postgres"
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	for _, db := range []string{name, name + "_visibility"} {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	}
}

// statements counts the SQL statements of m's store and its peers'.
func statements(m *Main) (total int64, kinds map[string]int64) {
	kinds = map[string]int64{}
	for _, x := range append([]*Main{m}, m.peers...) {
		total += x.Store().Statements()
		for k, n := range x.Store().StatementKinds() {
			kinds[k] += n
		}
	}
	return total, kinds
}

// countStatementKinds turns on the counting by kind in m's store and its peers'.
func countStatementKinds(m *Main) {
	for _, x := range append([]*Main{m}, m.peers...) {
		x.Store().CountStatementKinds()
	}
}

// postgresCPU adds up the CPU time of every PostgreSQL process on this machine (Linux;
// 0 elsewhere): the server's share of a measurement on a database on this machine,
// including backends that have exited (their times are the postmaster's children's);
// another user's queries add theirs.
func postgresCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		line := string(b)
		open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
		if open < 0 || end < open || line[open+1:end] != "postgres" {
			continue
		}
		fields := strings.Fields(line[end+1:])
		if len(fields) < 13 {
			continue
		}
		// After the command: state is field 3 of stat(5); utime and stime are 14 and 15,
		// cutime and cstime (reaped children's) 16 and 17. A backend that exits during
		// the measurement takes its own times with it and leaves them in the
		// postmaster's children's times, so the sum of all four only grows.
		for _, i := range []int{11, 12, 13, 14} {
			t, _ := strconv.ParseInt(fields[i], 10, 64)
			ticks += t
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
