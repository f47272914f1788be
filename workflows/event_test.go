package workflows_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/workflows"
)

func workflowOpts(name string) workflow.RegisterOptions { return workflow.RegisterOptions{Name: name} }

func TestEventWorkflow(t *testing.T) {
	ev := workflows.Event{CompanyID: 1, ID: "e1", Slug: "company/product/create/v1", AcceptedAt: time.Unix(1700000000, 0),
		Payload: []byte(`{"uid":1}`)}

	t.Run("FansOutOneChildPerDelivery", func(t *testing.T) {
		env := newEnv(t)
		env.OnActivity(workflows.ActivityPrepareDeliveries, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in workflows.PrepareInput) (workflows.PrepareResult, error) {
				if in.Event.ID != "e1" || in.Limit != workflows.FanOutPage || string(in.Event.Payload) != `{"uid":1}` {
					t.Errorf("prepare input %+v", in)
				}
				return workflows.PrepareResult{EventRowID: 5, Retry: testRetry, Deliveries: []workflows.PlannedDelivery{
					{DeliveryID: 10, SubscriberID: 1, WorkflowID: workflows.DeliveryWorkflowID(1, "e1", 1, 0)},
					{DeliveryID: 11, SubscriberID: 2, WorkflowID: workflows.DeliveryWorkflowID(1, "e1", 2, 0)},
				}}, nil
			}).Once()
		var children []workflows.DeliveryInput
		env.OnWorkflow(workflows.DeliveryWorkflowName, mock.Anything, mock.Anything).Return(
			func(_ workflow.Context, in workflows.DeliveryInput) (workflows.DeliveryResult, error) {
				children = append(children, in)
				return workflows.DeliveryResult{Outcome: workflows.OutcomeSucceeded}, nil
			})
		executeEvent(env, workflows.EventInput{Event: ev})
		var res workflows.EventResult
		mustResult(t, env, &res)
		if res.Deliveries != 2 {
			t.Fatalf("deliveries = %d, want 2", res.Deliveries)
		}
		sort.Slice(children, func(i, j int) bool { return children[i].DeliveryID < children[j].DeliveryID })
		if len(children) != 2 || children[0].EventRowID != 5 || children[1].DeliveryID != 11 || children[0].Retry != testRetry {
			t.Fatalf("children %+v", children)
		}
	})

	t.Run("ContinuesAsNewPastAPage", func(t *testing.T) {
		env := newEnv(t)
		env.OnActivity(workflows.ActivityPrepareDeliveries, mock.Anything, mock.Anything).Return(
			workflows.PrepareResult{EventRowID: 5, Next: 1000, Retry: testRetry}, nil).Once()
		executeEvent(env, workflows.EventInput{Event: ev})
		err := env.GetWorkflowError()
		if !workflow.IsContinueAsNewError(err) {
			t.Fatalf("error = %v, want continue-as-new", err)
		}
	})

	t.Run("NoSubscribers", func(t *testing.T) {
		env := newEnv(t)
		env.OnActivity(workflows.ActivityPrepareDeliveries, mock.Anything, mock.Anything).Return(
			workflows.PrepareResult{EventRowID: 5, Retry: testRetry}, nil).Once()
		executeEvent(env, workflows.EventInput{Event: ev})
		var res workflows.EventResult
		mustResult(t, env, &res)
		if res.Deliveries != 0 {
			t.Fatalf("deliveries = %d, want 0", res.Deliveries)
		}
	})
}

func TestIDs(t *testing.T) {
	if got, want := workflows.EventWorkflowID(42, "ord-1"), "event:42:ord-1"; got != want {
		t.Errorf("EventWorkflowID = %q, want %q", got, want)
	}
	if got, want := workflows.DeliveryWorkflowID(42, "ord-1", 7, 0), "delivery:42:ord-1:7"; got != want {
		t.Errorf("DeliveryWorkflowID = %q, want %q", got, want)
	}
	if got, want := workflows.DeliveryWorkflowID(42, "ord-1", 7, 2), "delivery:42:ord-1:7:r2"; got != want {
		t.Errorf("DeliveryWorkflowID(series 2) = %q, want %q", got, want)
	}
}
