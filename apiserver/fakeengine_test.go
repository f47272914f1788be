package apiserver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"

	"github.com/hookflow/hookflow/apiserver"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/producer"
	"github.com/hookflow/hookflow/workflows"
)

// fakeEngine stands in for the Temporal side of the API (engine.Engine), which this test
// binary must not link: the whole-stack tests in cmd/hookflow run the real one. It
// behaves like it where the API can tell: workflow ids are the real ones, starting an
// event twice is a duplicate, unknown workflows are ENOTFOUND, and while it is down
// every call fails with EUNAVAILABLE, as an unreachable Temporal does.
type fakeEngine struct {
	mu sync.Mutex
	// down makes every call fail as if Temporal could not be reached.
	down bool
	// started holds the event workflows started, by workflow id.
	started map[string]workflows.EventInput
	// released lists the subscribers whose queues were released, in call order.
	released []int64
	// redelivered lists the deliveries redelivered, in call order.
	redelivered []int64
	// bulk lists the bulk retry jobs started.
	bulk []int64
	// running holds the delivery workflows that run, by workflow id.
	running map[string]apiserver.LiveState
}

var _ apiserver.Engine = (*fakeEngine)(nil)

func newFakeEngine() *fakeEngine {
	return &fakeEngine{started: map[string]workflows.EventInput{}, running: map[string]apiserver.LiveState{}}
}

// SetDown makes the engine unreachable (true) or reachable again (false).
func (e *fakeEngine) SetDown(down bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.down = down
}

// SetRunning records that the delivery workflow id runs in state st.
func (e *fakeEngine) SetRunning(workflowID string, st apiserver.LiveState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running[workflowID] = st
}

// Released returns the subscribers released so far.
func (e *fakeEngine) Released() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.released...)
}

// Started returns the number of event workflows started.
func (e *fakeEngine) Started() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.started)
}

func (e *fakeEngine) unavailable(what string) error {
	return &models.Error{Code: models.EUNAVAILABLE, Message: "could not " + what + ": the workflow engine is unavailable, try again"}
}

func (e *fakeEngine) StartEvent(_ context.Context, in workflows.EventInput) (producer.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return producer.Result{}, &models.Error{Code: models.EUNAVAILABLE, Message: "the workflow engine is unavailable; the event was not accepted, try again"}
	}
	id := producer.WorkflowID(in)
	_, dup := e.started[id]
	if !dup {
		e.started[id] = in
	}
	return producer.Result{EventID: in.Event.ID, WorkflowID: id, Duplicate: dup}, nil
}

func (e *fakeEngine) Ping(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return e.unavailable("reach the workflow engine")
	}
	return nil
}

func (e *fakeEngine) ReleaseSubscriber(_ context.Context, subscriberID int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return e.unavailable("release the queued deliveries")
	}
	e.released = append(e.released, subscriberID)
	return nil
}

func (e *fakeEngine) Redeliver(_ context.Context, d *models.Delivery) (string, string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return "", "", e.unavailable("start the redelivery")
	}
	id := workflows.DeliveryWorkflowID(d.CompanyID, d.EventID, d.SubscriberID, d.Series)
	if _, ok := e.running[id]; ok {
		return "", "", &models.Error{Code: models.ECONFLICT, Message: "workflow " + id + " already runs"}
	}
	runID := newRunID()
	e.running[id] = apiserver.LiveState{WorkflowStatus: "RUNNING", RunID: runID, Phase: "attempting", CurrentAttempt: d.Attempts + 1}
	e.redelivered = append(e.redelivered, d.ID)
	return id, runID, nil
}

func (e *fakeEngine) StartBulkRetry(_ context.Context, jobID int64) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return "", e.unavailable("start the bulk retry")
	}
	e.bulk = append(e.bulk, jobID)
	return workflows.BulkRetryWorkflowID(jobID), nil
}

func (e *fakeEngine) DescribeDelivery(_ context.Context, workflowID, _ string) (*apiserver.LiveState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return nil, e.unavailable("read the workflow")
	}
	st, ok := e.running[workflowID]
	if !ok {
		return nil, &models.Error{Code: models.ENOTFOUND, Message: "could not read the workflow: not found"}
	}
	return &st, nil
}

func newRunID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
