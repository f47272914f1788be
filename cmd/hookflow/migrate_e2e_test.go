package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/devserver"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// The embedded Temporal server always creates its own namespace, so these tests run
// migrate against another one, unique per test, that does not exist yet.

// TestMigrateCreatesNamespace: on a namespace that does not exist migrate creates it with
// the configured retention and registers the search attributes; a second run changes
// nothing and says the namespace exists; a run configured with another retention leaves
// the namespace's alone and says how to change it.
func TestMigrateCreatesNamespace(t *testing.T) {
	temporal := mustStartTemporal(t, 0)
	ns := newNamespaceName(t)
	env := map[string]string{
		"HOOKFLOW_DATABASE_URL":       storetest.Databases(t)[0].URL,
		"HOOKFLOW_TEMPORAL_ADDRESS":   temporal.HostPort(),
		"HOOKFLOW_TEMPORAL_NAMESPACE": ns,
	}

	out, err := runMigrate(env, "--namespace-retention", "96h")
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	wantLines(t, out, "database schema is up to date (sqlite)",
		"temporal namespace "+ns+" created (retention 96h0m0s)",
		"temporal search attributes are registered (namespace "+ns+")",
		"temporal schedule hookflow-purge created (purge every 1h0m0s)")
	c := mustTemporalClient(t, temporal.HostPort(), ns)
	if got := namespaceRetention(t, c, ns); got != 96*time.Hour {
		t.Errorf("retention of the new namespace: %v, want 96h", got)
	}
	assertSearchAttributes(t, c, ns)

	out, err = runMigrate(env, "--namespace-retention", "96h")
	if err != nil {
		t.Fatalf("migrate again: %v\n%s", err, out)
	}
	wantLines(t, out, "database schema is up to date (sqlite)",
		"temporal namespace "+ns+" exists (retention 96h0m0s)",
		"temporal search attributes are registered (namespace "+ns+")",
		"temporal schedule hookflow-purge unchanged (purge every 1h0m0s)")
	assertPurgeSchedule(t, c, time.Hour)

	env["HOOKFLOW_PURGE_INTERVAL"] = "30m"
	out, err = runMigrate(env, "--namespace-retention", "96h")
	if err != nil {
		t.Fatalf("migrate with another purge interval: %v\n%s", err, out)
	}
	wantLine(t, out, "temporal schedule hookflow-purge updated (purge every 30m0s)")
	assertPurgeSchedule(t, c, 30*time.Minute)
	delete(env, "HOOKFLOW_PURGE_INTERVAL")

	env["HOOKFLOW_TEMPORAL_NAMESPACE_RETENTION"] = "120h"
	out, err = runMigrate(env)
	if err != nil {
		t.Fatalf("migrate with another retention: %v\n%s", err, out)
	}
	if !strings.Contains(out, "temporal namespace "+ns+" exists (retention 96h0m0s)\n") ||
		!strings.Contains(out, "temporal operator namespace update --namespace "+ns+" --retention 120h0m0s") {
		t.Errorf("migrate with 120h on a namespace of 96h printed:\n%s\nwant its retention and how to change it", out)
	}
	if got := namespaceRetention(t, c, ns); got != 96*time.Hour {
		t.Errorf("retention after a migrate configured with 120h: %v, want the 96h it had", got)
	}
}

// TestMigrateConcurrent: three migrates started together on one fresh database, and
// before the Temporal server is up, all succeed; exactly one creates the namespace (with
// the default retention), and the schema and search attributes are complete.
func TestMigrateConcurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		addr := freeAddr(t)
		ns := newNamespaceName(t)
		env := map[string]string{
			"HOOKFLOW_DATABASE_URL":       db.URL,
			"HOOKFLOW_TEMPORAL_ADDRESS":   addr,
			"HOOKFLOW_TEMPORAL_NAMESPACE": ns,
		}
		const peers = 3
		outs, errs := make([]string, peers), make([]error, peers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range peers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				outs[i], errs[i] = runMigrate(env)
			}()
		}
		close(start)
		// The server boots while the migrates dial it, as in compose.
		_, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		temporal := mustStartTemporal(t, p)
		wg.Wait()

		created, schedules := 0, 0
		for i := range peers {
			if errs[i] != nil {
				t.Errorf("migrate %d: %v\n%s", i, errs[i], outs[i])
				continue
			}
			wantLine(t, outs[i], "database schema is up to date ("+db.Name+")")
			wantLine(t, outs[i], "temporal search attributes are registered (namespace "+ns+")")
			if strings.Contains(outs[i], "temporal schedule hookflow-purge created (purge every 1h0m0s)\n") {
				schedules++
			} else {
				wantLine(t, outs[i], "temporal schedule hookflow-purge unchanged (purge every 1h0m0s)")
			}
			switch {
			case strings.Contains(outs[i], "temporal namespace "+ns+" created (retention 72h0m0s)\n"):
				created++
			case strings.Contains(outs[i], "temporal namespace "+ns+" exists (retention 72h0m0s)\n"):
			default:
				t.Errorf("migrate %d printed no namespace line with 72h:\n%s", i, outs[i])
			}
		}
		if created != 1 || schedules != 1 {
			t.Errorf("%d migrates say they created the namespace and %d the purge schedule, want 1 each", created, schedules)
		}
		c := mustTemporalClient(t, temporal.HostPort(), ns)
		if got := namespaceRetention(t, c, ns); got != 72*time.Hour {
			t.Errorf("retention of the new namespace: %v, want the default 72h", got)
		}
		assertSearchAttributes(t, c, ns)

		st, err := store.Open(context.Background(), db.URL, nil)
		if err != nil {
			t.Fatalf("open the migrated database: %v", err)
		}
		defer st.Close()
		types, err := st.ListEventTypes(context.Background())
		if err != nil || len(types) == 0 {
			t.Fatalf("event catalogue after the migrates: %d entries, %v", len(types), err)
		}
		seen := map[string]bool{}
		for _, et := range types {
			if seen[et.Slug] {
				t.Errorf("event type %s is in the catalogue twice", et.Slug)
			}
			seen[et.Slug] = true
		}
	})
}

// TestMigrateBadRetention: a retention that is not a duration, or shorter than
// Temporal's minimum of a day, is a usage error naming the setting, before migrate
// touches the database or Temporal.
func TestMigrateBadRetention(t *testing.T) {
	cases := []struct {
		name, env string
		args      []string
		want      string
	}{
		{"EnvTooShort", "12h", nil, "HOOKFLOW_TEMPORAL_NAMESPACE_RETENTION"},
		{"EnvNotADuration", "3 days", nil, "HOOKFLOW_TEMPORAL_NAMESPACE_RETENTION"},
		{"FlagTooShort", "", []string{"--namespace-retention", "23h59m"}, "--namespace-retention"},
		{"FlagZero", "", []string{"--namespace-retention", "0"}, "--namespace-retention"},
		{"FlagNotADuration", "", []string{"--namespace-retention", "3d"}, "-namespace-retention"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{
				// Nothing listens there: a migrate that got past its configuration would
				// fail on the connection instead.
				"HOOKFLOW_DATABASE_URL":     "postgres://nobody@127.0.0.1:1/none",
				"HOOKFLOW_TEMPORAL_ADDRESS": "127.0.0.1:1",
			}
			if tc.env != "" {
				env["HOOKFLOW_TEMPORAL_NAMESPACE_RETENTION"] = tc.env
			}
			out, err := runMigrate(env, tc.args...)
			if err == nil {
				t.Fatalf("migrate succeeded:\n%s", out)
			}
			if code := main.ExitCode(err); code != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q (exit code %d), output:\n%s\nwant a usage error (2) naming %s", err, code, out, tc.want)
			}
		})
	}
}

// runMigrate runs `hookflow migrate args` in this process with env as its whole
// environment, and returns what it printed on stdout; what it printed on stderr (logs,
// usage) is in the error.
func runMigrate(env map[string]string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := main.Run(ctx, append([]string{"migrate"}, args...), nil, &stdout, &stderr, func(k string) string { return env[k] })
	if err != nil {
		return stdout.String(), migrateError{err, stderr.String()}
	}
	return stdout.String(), nil
}

// migrateError is a failed migrate's error with its standard error output.
type migrateError struct {
	error
	stderr string
}

func (e migrateError) Unwrap() error { return e.error }

func (e migrateError) Error() string { return e.error.Error() + "\nstderr:\n" + e.stderr }

// mustStartTemporal starts an embedded Temporal server, in memory and without UI, on
// port (0: any), stopped when the test ends.
func mustStartTemporal(t *testing.T, port int) *devserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, devserver.Options{Port: port, NoUI: true})
	if err != nil {
		t.Fatalf("start temporal: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// newNamespaceName returns a namespace name no test used before.
func newNamespaceName(t *testing.T) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "hookflow-migrate-" + hex.EncodeToString(b[:])
}

func mustTemporalClient(t *testing.T, hostPort, ns string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: hostPort, Namespace: ns, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatalf("dial temporal: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func namespaceRetention(t *testing.T, c client.Client, ns string) time.Duration {
	t.Helper()
	resp, err := c.WorkflowService().DescribeNamespace(context.Background(), &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if err != nil {
		t.Fatalf("describe namespace %s: %v", ns, err)
	}
	return resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
}

// assertSearchAttributes checks that ns has every Hookflow search attribute, with its type.
func assertSearchAttributes(t *testing.T, c client.Client, ns string) {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(context.Background(), &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatalf("list search attributes of %s: %v", ns, err)
	}
	for name, typ := range workflows.SearchAttributes() {
		if got, ok := resp.GetCustomAttributes()[name]; !ok || got != typ {
			t.Errorf("search attribute %s in %s: %v (present %v), want %v", name, ns, got, ok, typ)
		}
	}
}

// wantLines checks that out is exactly these lines.
func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	if want := strings.Join(lines, "\n") + "\n"; out != want {
		t.Errorf("migrate printed:\n%s\nwant:\n%s", out, want)
	}
}

func wantLine(t *testing.T, out, line string) {
	t.Helper()
	if !strings.Contains("\n"+out, fmt.Sprintf("\n%s\n", line)) {
		t.Errorf("migrate printed:\n%s\nwant the line %q", out, line)
	}
}

// assertPurgeSchedule checks that the purge schedule runs PurgeWorkflow on Hookflow's task
// queue every interval, without overlapping runs.
func assertPurgeSchedule(t *testing.T, c client.Client, interval time.Duration) {
	t.Helper()
	d, err := c.ScheduleClient().GetHandle(context.Background(), workflows.PurgeScheduleID).Describe(context.Background())
	if err != nil {
		t.Fatalf("describe the purge schedule: %v", err)
	}
	act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || act.TaskQueue != workflows.TaskQueue || fmt.Sprint(act.Workflow) != workflows.PurgeWorkflowName {
		t.Errorf("purge schedule action %+v, want %s on %s", d.Schedule.Action, workflows.PurgeWorkflowName, workflows.TaskQueue)
	}
	if iv := d.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != interval {
		t.Errorf("purge schedule intervals %+v, want every %v", iv, interval)
	}
	if d.Schedule.Policy == nil || d.Schedule.Policy.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Errorf("purge schedule policy %+v, want overlap skip", d.Schedule.Policy)
	}
}
