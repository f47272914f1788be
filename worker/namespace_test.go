package worker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/hookflow/hookflow/devserver"
	"github.com/hookflow/hookflow/worker"
	"github.com/hookflow/hookflow/workflows"
)

// One embedded server for the tests of this file; each test works in namespaces of its
// own, which the server does not create.
var (
	temporalOnce sync.Once
	temporalSrv  *devserver.Server
	temporalErr  error
)

// mustClient returns a client of the shared embedded Temporal server.
func mustClient(t *testing.T) client.Client {
	t.Helper()
	temporalOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		temporalSrv, temporalErr = devserver.Start(ctx, devserver.Options{NoUI: true})
	})
	if temporalErr != nil {
		t.Fatalf("start temporal: %v", temporalErr)
	}
	c, err := client.Dial(client.Options{HostPort: temporalSrv.HostPort(), Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatalf("dial temporal: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestMain(m *testing.M) {
	code := m.Run()
	if temporalSrv != nil {
		temporalSrv.Stop()
	}
	os.Exit(code)
}

func newNamespaceName() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "hookflow-worker-" + hex.EncodeToString(b[:])
}

func describe(t *testing.T, c client.Client, ns string) (*workflowservice.DescribeNamespaceResponse, error) {
	t.Helper()
	return c.WorkflowService().DescribeNamespace(context.Background(), &workflowservice.DescribeNamespaceRequest{Namespace: ns})
}

// TestEnsureNamespace covers a namespace that is missing, one that exists, and a
// retention Temporal would refuse.
func TestEnsureNamespace(t *testing.T) {
	ctx := context.Background()
	c := mustClient(t)

	t.Run("Missing", func(t *testing.T) {
		name := newNamespaceName()
		ns, err := worker.EnsureNamespace(ctx, c, name, 30*24*time.Hour)
		if err != nil {
			t.Fatalf("ensure: %v", err)
		}
		if !ns.Created || ns.Name != name || ns.Retention != 30*24*time.Hour {
			t.Errorf("got %+v, want %s created with 720h", ns, name)
		}
		resp, err := describe(t, c, name)
		if err != nil {
			t.Fatalf("describe: %v", err)
		}
		if got := resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != 30*24*time.Hour {
			t.Errorf("the server says retention %v, want 720h", got)
		}
		// Registered a moment ago: the search attributes must go in all the same.
		if err := worker.RegisterSearchAttributes(ctx, c, name); err != nil {
			t.Fatalf("register search attributes: %v", err)
		}
		assertSearchAttributes(t, c, name)

		again, err := worker.EnsureNamespace(ctx, c, name, 48*time.Hour)
		if err != nil {
			t.Fatalf("ensure again: %v", err)
		}
		if again.Created || again.Retention != 30*24*time.Hour {
			t.Errorf("again: %+v, want the existing namespace with its 720h, untouched", again)
		}
	})

	t.Run("ErrTooShort", func(t *testing.T) {
		name := newNamespaceName()
		if _, err := worker.EnsureNamespace(ctx, c, name, 23*time.Hour); err == nil {
			t.Fatal("a retention of 23h was accepted")
		}
		var notFound *serviceerror.NamespaceNotFound
		if _, err := describe(t, c, name); !errors.As(err, &notFound) {
			t.Errorf("describe after the refusal: %v, want the namespace not found", err)
		}
	})
}

// TestEnsureNamespaceConcurrent: callers that race to set up one new namespace all
// succeed; one of them creates it, and the search attributes are there once each.
func TestEnsureNamespaceConcurrent(t *testing.T) {
	ctx := context.Background()
	c := mustClient(t)
	name := newNamespaceName()
	const peers = 5
	results := make([]worker.Namespace, peers)
	ensureErrs, registerErrs := make([]error, peers), make([]error, peers)
	var ensured, done sync.WaitGroup
	ensured.Add(peers)
	start := make(chan struct{})
	for i := range peers {
		done.Add(1)
		go func() {
			defer done.Done()
			<-start
			results[i], ensureErrs[i] = worker.EnsureNamespace(ctx, c, name, worker.DefaultNamespaceRetention)
			// All register at the same moment too.
			ensured.Done()
			ensured.Wait()
			registerErrs[i] = worker.RegisterSearchAttributes(ctx, c, name)
		}()
	}
	close(start)
	done.Wait()
	created := 0
	for i := range peers {
		if ensureErrs[i] != nil {
			t.Errorf("peer %d: ensure: %v", i, ensureErrs[i])
		}
		if registerErrs[i] != nil {
			t.Errorf("peer %d: register search attributes: %v", i, registerErrs[i])
		}
		if results[i].Created {
			created++
		}
		if results[i].Retention != worker.DefaultNamespaceRetention {
			t.Errorf("peer %d: retention %v, want %v", i, results[i].Retention, worker.DefaultNamespaceRetention)
		}
	}
	if created != 1 {
		t.Errorf("%d peers created the namespace, want 1", created)
	}
	assertSearchAttributes(t, c, name)
}

// assertSearchAttributes checks that ns has each of Hookflow's search attributes, with
// its type, and no other custom attribute (each was added once).
func assertSearchAttributes(t *testing.T, c client.Client, ns string) {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(context.Background(), &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatalf("list search attributes: %v", err)
	}
	want := workflows.SearchAttributes()
	for name, typ := range want {
		if got, ok := resp.GetCustomAttributes()[name]; !ok || got != typ {
			t.Errorf("search attribute %s: %v (present %v), want %v", name, got, ok, typ)
		}
	}
	if got := len(resp.GetCustomAttributes()); got != len(want) {
		t.Errorf("%d custom search attributes %v, want %d", got, resp.GetCustomAttributes(), len(want))
	}
}
