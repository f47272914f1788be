// Command hookflow is Hookflow's one binary: a durable webhook delivery engine on
// Temporal.
//
//	hookflow dev       everything in one process: embedded Temporal + UI, SQLite, worker, API
//	hookflow worker    the Temporal worker, against an external Temporal and PostgreSQL
//	hookflow api       the REST API, against an external Temporal and PostgreSQL
//	hookflow migrate   create or update the schema; create the Temporal namespace; register search attributes
//	hookflow temporal  a Temporal server (and UI) on PostgreSQL, for deployments without one
//	hookflow emit      send one event (payload from a file or stdin)
//	hookflow apikey    create, list and revoke API keys
//	hookflow installation  install extensions on companies, list and remove installations
//	hookflow bench     measure throughput and latency end to end
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hookflow:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError marks errors in how the command was called (exit code 2).
type usageError struct{ error }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `usage: hookflow <command> [flags]

commands:
  dev       run everything in one process (embedded Temporal + UI, SQLite, worker, API)
  worker    run the Temporal worker (external Temporal and PostgreSQL)
  api       run the REST API (external Temporal and PostgreSQL)
  migrate   create or update the database schema; create the Temporal namespace and search attributes
  temporal  run a Temporal server on PostgreSQL (for deployments without a Temporal of their own)
  emit      send one event through the API
  apikey    create, list or revoke API keys
  installation  install an extension on a company, list or remove installations
  bench     measure deliveries per second end to end, against the floor and ceiling shapes

Run 'hookflow <command> -h' for the flags of a command.`

// Run runs the command in args until ctx ends (for servers) or the command is done.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "dev", "worker", "api":
		return runServer(ctx, cmd, rest, stdout, stderr, getenv)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr, getenv)
	case "temporal":
		return runTemporal(ctx, rest, stdout, stderr, getenv)
	case "emit":
		return runEmit(ctx, rest, stdin, stdout, stderr, getenv)
	case "apikey":
		return runAPIKey(ctx, rest, stdout, stderr, getenv)
	case "installation":
		return runInstallation(ctx, rest, stdout, stderr, getenv)
	case "bench":
		return runBench(ctx, rest, stdout, stderr, getenv)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return usageError{fmt.Errorf("unknown command %q", cmd)}
}

// loadConfig builds the configuration of cmd from defaults, environment and flags.
func loadConfig(cmd string, args []string, stderr io.Writer, getenv func(string) string, extra func(*flag.FlagSet)) (Config, error) {
	cfg := DefaultConfig(cmd)
	fs := flag.NewFlagSet("hookflow "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := cfg.bindFlags(fs, cmd, getenv); err != nil {
		return cfg, usageError{err}
	}
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	if err := cfg.Validate(cmd); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func runServer(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := loadConfig(cmd, args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	parts := map[string]Parts{
		"dev":    {EmbeddedTemporal: true, Worker: true, API: true},
		"worker": {Worker: true},
		"api":    {API: true, Worker: cfg.APIWorker},
	}[cmd]
	m := NewMain(cfg, parts, log)
	if err := m.Start(ctx); err != nil {
		return err
	}
	defer m.Close()
	if cmd == "dev" {
		fmt.Fprintf(stdout, "Hookflow is running.\n\n  API          %s\n  Temporal UI  %s\n  Temporal     %s (namespace %s)\n  Admin token  %s\n\n",
			m.APIURL(), m.Config.TemporalUIURL, m.Config.TemporalAddress, m.Config.TemporalNamespace, m.Config.AdminToken)
		if cfg.Memory {
			fmt.Fprintln(stdout, "  State is in memory and is lost on exit.")
		} else {
			fmt.Fprintf(stdout, "  State is kept in %s.\n", cfg.DataDir)
		}
		fmt.Fprintln(stdout, "\nPress Ctrl+C to stop.")
	} else {
		log.Info("hookflow started", "command", cmd, "api", m.APIURL(), "temporal", cfg.TemporalAddress)
	}
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

// newLogger returns the process logger: text for dev, JSON for the services.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log level %q: use debug, info, warn or error", s)
	}
	return l, nil
}
