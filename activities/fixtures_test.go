package activities_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/transform"
	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/workflows"
)

// mustActivities returns activities over store s with a real webhook client and
// transform engine. temporal may be nil.
func mustActivities(tb testing.TB, s *store.Store, notifier activities.Notifier, temporal activities.Temporal) *activities.Activities {
	tb.Helper()
	acts, err := activities.New(activities.Deps{
		Store: s, Sender: webhook.NewClient(webhook.ClientOptions{}), Transform: transform.NewEngine(transform.Limits{}),
		Retry:    workflows.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 3},
		Notifier: notifier, Temporal: temporal,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return acts
}

// newActivityEnv returns a Temporal test environment in which acts' activities run.
func newActivityEnv(acts *activities.Activities) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return env
}

// mustSubscriber stores an active subscriber of org's extension "ext" on company 1 for
// slug, with the company's installation.
func mustSubscriber(tb testing.TB, s *store.Store, org, slug, email string) *models.Subscriber {
	tb.Helper()
	sub := &models.Subscriber{
		OrganizationID: org, ExtensionID: "ext", CompanyID: 1, Name: "receiver", WebhookURL: "https://example.com/hook",
		Status: models.StatusActive, InactivePolicy: models.PolicyQueue, Secret: "s3cret-value", EmailID: email,
		Events: []models.SubscriberEvent{{Slug: slug}},
	}
	storetest.MustInstall(tb, s, sub.OrganizationID, sub.ExtensionID, sub.CompanyID)
	if err := s.CreateSubscriber(context.Background(), sub); err != nil {
		tb.Fatalf("create subscriber: %v", err)
	}
	return sub
}

// mustDelivery stores event eventID and plans its delivery to sub, which it returns.
func mustDelivery(tb testing.TB, s *store.Store, sub *models.Subscriber, slug, eventID string) int64 {
	tb.Helper()
	ctx := context.Background()
	ev := &models.Event{CompanyID: sub.CompanyID, EventID: eventID, Slug: slug, Payload: []byte(`{}`), AcceptedAt: time.Now()}
	if _, err := s.StoreEvent(ctx, ev); err != nil {
		tb.Fatal(err)
	}
	planned, _, err := s.PlanDeliveries(ctx, ev, 0, 10, func(int64) string { return "wf:" + eventID })
	if err != nil {
		tb.Fatalf("plan %s: %v", eventID, err)
	}
	for _, p := range planned {
		if p.SubscriberID == sub.ID {
			return p.DeliveryID
		}
	}
	tb.Fatalf("plan %s: %+v, want a delivery to subscriber %d", eventID, planned, sub.ID)
	return 0
}

// recordingTemporal stands in for the Temporal client where a test must show that an
// activity asked nothing of it: it records every call and answers as if it had worked.
// (An embedded Temporal server is far heavier than what such a test checks.)
type recordingTemporal struct {
	mu    sync.Mutex
	calls []string
}

func (r *recordingTemporal) record(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

// Calls returns the calls made so far, e.g. "ExecuteWorkflow DeliveryWorkflow".
func (r *recordingTemporal) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func (r *recordingTemporal) SignalWorkflow(_ context.Context, workflowID, _, signalName string, _ any) error {
	r.record("SignalWorkflow " + workflowID + " " + signalName)
	return nil
}

func (r *recordingTemporal) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, workflow any, _ ...any) (client.WorkflowRun, error) {
	r.record("ExecuteWorkflow " + opts.ID)
	return nil, nil
}

func (r *recordingTemporal) DescribeWorkflowExecution(_ context.Context, workflowID, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	r.record("DescribeWorkflowExecution " + workflowID)
	return &workflowservice.DescribeWorkflowExecutionResponse{}, nil
}
