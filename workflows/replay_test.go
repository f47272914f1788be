package workflows_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/worker"
	"github.com/hookflow/hookflow/workflows"
)

// historiesDir holds the saved histories, named <mode>-<workflow type>-<scenario>.json.
// Record them again with workflows/internal/histrec (see its package comment).
const historiesDir = "testdata/histories"

// deliveryModes are the modes every workflow type needs a saved history in.
var deliveryModes = []string{workflows.ModeChild, workflows.ModeInlineFirst}

// TestReplay replays every saved history against the workflows as the worker registers
// them: a change to a workflow's command sequence that is not guarded by
// workflow.GetVersion makes it fail with a nondeterminism error.
func TestReplay(t *testing.T) {
	replayer, _ := mustReplayer(t)
	logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	for _, h := range mustLoadHistories(t) {
		t.Run(h.name, func(t *testing.T) {
			opts := sdkworker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: h.workflowID}}
			if err := replayer.ReplayWorkflowHistoryWithOptions(logger, h.history, opts); err != nil {
				t.Fatalf("replay %s: %v", h.file, err)
			}
		})
	}
}

// TestReplayCoversEveryWorkflow checks that every workflow type the worker registers has a
// saved history in every delivery mode, so that a new workflow cannot go without one.
func TestReplayCoversEveryWorkflow(t *testing.T) {
	_, registered := mustReplayer(t)
	covered := map[string]bool{}
	for _, h := range mustLoadHistories(t) {
		covered[h.mode+" "+h.workflowType] = true
	}
	for _, mode := range deliveryModes {
		for _, name := range registered {
			if !covered[mode+" "+name] {
				t.Errorf("no saved history of %s in mode %s: record one with workflows/internal/histrec", name, mode)
			}
		}
	}
}

// savedHistory is a history file of historiesDir.
type savedHistory struct {
	file         string
	name         string // the file name without .json
	mode         string // from the file name
	workflowType string // from its WorkflowExecutionStarted event
	// workflowID is the id the workflow ran under, where the workflow checks it (an
	// event's, from its input); empty for the replayer's default.
	workflowID string
	history    *historypb.History
}

// mustLoadHistories reads every file of historiesDir, checking that its name starts with
// a delivery mode and the workflow type its history starts.
func mustLoadHistories(tb testing.TB) []savedHistory {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no histories in %s", historiesDir)
	}
	var out []savedHistory
	for _, file := range files {
		h := savedHistory{file: file, name: strings.TrimSuffix(filepath.Base(file), ".json")}
		f, err := os.Open(file)
		if err != nil {
			tb.Fatal(err)
		}
		h.history, err = client.HistoryFromJSON(f, client.HistoryJSONOptions{})
		f.Close()
		if err != nil {
			tb.Fatalf("read %s: %v", file, err)
		}
		events := h.history.GetEvents()
		if len(events) == 0 {
			tb.Fatalf("%s: empty history", file)
		}
		h.workflowType = events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
		if h.workflowType == "" {
			tb.Fatalf("%s: the history does not start with WorkflowExecutionStarted", file)
		}
		if h.workflowType == workflows.EventWorkflowName {
			// The saved history does not hold the workflow id, which EventWorkflow checks
			// against its input (EventWorkflowID).
			var in workflows.EventInput
			if err := converter.GetDefaultDataConverter().FromPayloads(events[0].GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
				tb.Fatalf("%s: read the input: %v", file, err)
			}
			h.workflowID = workflows.EventWorkflowID(in.Event.CompanyID, in.Event.ID)
		}
		for _, mode := range deliveryModes {
			if strings.HasPrefix(h.name, mode+"-") {
				h.mode = mode
			}
		}
		if h.mode == "" {
			tb.Fatalf("%s: the name does not start with a delivery mode (%s)", file, strings.Join(deliveryModes, ", "))
		}
		if want := h.mode + "-" + h.workflowType + "-"; !strings.HasPrefix(h.name, want) {
			tb.Fatalf("%s: the history is of a %s, so its name should start with %q", file, h.workflowType, want)
		}
		out = append(out, h)
	}
	return out
}

// mustReplayer returns a replayer with the workflows registered by worker.Register, under
// the same names, and the sorted names of those workflows.
func mustReplayer(tb testing.TB) (sdkworker.WorkflowReplayer, []string) {
	tb.Helper()
	r := &replayRegistry{replayer: sdkworker.NewWorkflowReplayer()}
	worker.Register(r, &activities.Activities{})
	if r.dynamic {
		tb.Fatal("a dynamic workflow is registered: TestReplayCoversEveryWorkflow cannot tell which histories it needs")
	}
	sort.Strings(r.names)
	return r.replayer, r.names
}

// replayRegistry lets worker.Register register its workflows on a replayer and records
// their names. Activities are left out: a replay does not run them, it reads their
// results (local activities' included) from the history.
type replayRegistry struct {
	// Registry is nil: it only completes the interface (Nexus services, which Hookflow
	// has none of, would panic here). The methods below are what worker.Register calls.
	sdkworker.Registry
	replayer sdkworker.WorkflowReplayer
	names    []string
	dynamic  bool
}

func (r *replayRegistry) RegisterWorkflow(w any) {
	r.RegisterWorkflowWithOptions(w, workflow.RegisterOptions{})
}

func (r *replayRegistry) RegisterWorkflowWithOptions(w any, opts workflow.RegisterOptions) {
	r.replayer.RegisterWorkflowWithOptions(w, opts)
	name := opts.Name
	if name == "" {
		// The SDK names the workflow after its function.
		name = runtime.FuncForPC(reflect.ValueOf(w).Pointer()).Name()
		name = strings.TrimSuffix(name[strings.LastIndex(name, ".")+1:], "-fm")
	}
	r.names = append(r.names, name)
}

func (r *replayRegistry) RegisterDynamicWorkflow(w any, opts workflow.DynamicRegisterOptions) {
	r.replayer.RegisterDynamicWorkflow(w, opts)
	r.dynamic = true
}

func (*replayRegistry) RegisterActivity(any)                                         {}
func (*replayRegistry) RegisterActivityWithOptions(any, activity.RegisterOptions)    {}
func (*replayRegistry) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {}
