// Command histrec records the workflow histories that workflows/replay_test.go replays.
//
// Regenerate every history, from the repository root:
//
//	go build -o /tmp/hookflow ./cmd/hookflow && go run ./workflows/internal/histrec -hookflow /tmp/hookflow
//
// For each delivery mode (child, inline-first) it starts `hookflow dev --memory` on free
// ports, with a short retry schedule (first retry after 1 s, 3 attempts), and loopback
// receivers of its own: one that answers 200, one that fails each delivery's first
// attempt, one that answers 410 and one that always fails. It drives the scenarios of
// scenarios.go through the public REST API, waits until their workflows have completed,
// and writes each workflow's history, as `temporal workflow show --output json` does, to
// <out>/<mode>-<workflow type>-<scenario>.json, after removing that mode's older files.
// Every scenario uses a company of its own, so that each event has one subscriber and the
// histories stay a few events long.
//
// The product does not import this command; it only needs the binary.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/hookflow/hookflow/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "histrec:", err)
		}
		os.Exit(1)
	}
}

// olderCode matches the names of histories recorded under older workflow code.
var olderCode = regexp.MustCompile(`-v[0-9]+\.json$`)

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("histrec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("hookflow", "", "path of a built hookflow binary (required)")
	out := fs.String("out", filepath.Join("workflows", "testdata", "histories"), "directory the histories are written to")
	modes := fs.String("modes", workflows.ModeChild+","+workflows.ModeInlineFirst, "comma-separated delivery modes to record")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" {
		fs.Usage()
		return errors.New("-hookflow is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	for _, mode := range strings.Split(*modes, ",") {
		if err := recordMode(ctx, log, *bin, mode, *out); err != nil {
			return fmt.Errorf("mode %s: %w", mode, err)
		}
	}
	return nil
}

// recordMode runs every scenario against a fresh dev server in mode and writes the
// histories.
func recordMode(ctx context.Context, log *slog.Logger, bin, mode, out string) error {
	dev, err := startDev(ctx, bin, mode)
	if err != nil {
		return err
	}
	defer dev.stop()
	log.Info("hookflow dev started", "mode", mode, "api", dev.apiURL, "temporal", dev.temporalAddr)

	c, err := client.Dial(client.Options{
		HostPort:  dev.temporalAddr,
		Namespace: dev.namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", dev.temporalAddr, err)
	}
	defer c.Close()

	rcv, err := startReceiver()
	if err != nil {
		return err
	}
	defer rcv.close()

	// Histories of scenarios that no longer exist must not stay behind. Histories of
	// older workflow code (named *-v<N>.json, kept while runs of it may be open) cannot
	// be recorded again and stay.
	old, err := filepath.Glob(filepath.Join(out, mode+"-*.json"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if olderCode.MatchString(f) {
			continue
		}
		if err := os.Remove(f); err != nil {
			return err
		}
	}

	h := &harness{
		mode:     mode,
		api:      &apiClient{base: dev.apiURL, token: dev.token},
		temporal: c,
		receiver: rcv.url,
		since:    time.Now().Add(-time.Hour),
	}
	for i, sc := range scenarios {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		recs, err := sc.run(sctx, h, int64(i+1))
		if err == nil {
			err = h.save(sctx, out, sc.name, recs)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		log.Info("recorded", "mode", mode, "scenario", sc.name, "histories", len(recs))
	}
	return nil
}

// devServer is a `hookflow dev --memory` process.
type devServer struct {
	cmd          *exec.Cmd
	done         chan error
	apiURL       string
	temporalAddr string
	namespace    string
	token        string
}

// startDev starts `hookflow dev --memory` in mode on free ports and returns once it has
// printed where it listens.
func startDev(ctx context.Context, bin, mode string) (*devServer, error) {
	cmd := exec.Command(bin, "dev", "--memory", "--mode", mode,
		"--http-addr", "127.0.0.1:0", "--temporal-port", "0", "--ui-port", "0", "--log-level", "warn")
	// The caller's HOOKFLOW_* settings (a database URL, a retry schedule) would change
	// what is recorded: only the ones set here apply.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKFLOW_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"HOOKFLOW_RETRY_INITIAL_INTERVAL=1s", // retries within seconds, not minutes
		"HOOKFLOW_RETRY_MAX_INTERVAL=2s",
		"HOOKFLOW_RETRY_MAX_ATTEMPTS=3", // a failing receiver exhausts its attempts quickly
	)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &devServer{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan error, 1)
	go func() {
		signalled := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if signalled {
				continue // keep reading, so that the server never blocks on its output
			}
			fields := strings.Fields(sc.Text())
			switch {
			case len(fields) >= 2 && fields[0] == "API":
				d.apiURL = fields[1]
			case len(fields) >= 4 && fields[0] == "Temporal" && fields[2] == "(namespace":
				d.temporalAddr, d.namespace = fields[1], strings.TrimSuffix(fields[3], ")")
			case len(fields) >= 3 && fields[0] == "Admin" && fields[1] == "token":
				d.token = fields[2]
			case strings.HasPrefix(sc.Text(), "Press Ctrl+C"):
				signalled = true
				ready <- nil
			}
		}
		if !signalled {
			ready <- errors.New("hookflow dev exited before it was ready")
		}
	}()
	go func() { d.done <- cmd.Wait() }()

	select {
	case err = <-ready:
	case <-time.After(2 * time.Minute):
		err = errors.New("hookflow dev did not start within 2 minutes")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil && (d.apiURL == "" || d.temporalAddr == "" || d.token == "") {
		err = errors.New("hookflow dev did not print its API URL, Temporal address and admin token")
	}
	if err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

// stop interrupts the server and waits for it to exit.
func (d *devServer) stop() {
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}
