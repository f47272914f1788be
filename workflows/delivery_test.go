package workflows_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookflow/hookflow/workflows"
)

var testRetry = workflows.RetryPolicy{
	InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
	MaximumAttempts: 5, Expiration: time.Hour,
}

// newEnv returns a workflow test environment with stand-ins registered under the
// activity names; each test sets their behaviour with OnActivity.
func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.DeliveryWorkflow, workflowOpts(workflows.DeliveryWorkflowName))
	env.RegisterWorkflowWithOptions(workflows.EventWorkflow, workflowOpts(workflows.EventWorkflowName))
	env.RegisterActivityWithOptions(func(context.Context, workflows.DeliverInput) (workflows.DeliverResult, error) {
		panic("unmocked")
	}, activity.RegisterOptions{Name: workflows.ActivityDeliver})
	env.RegisterActivityWithOptions(func(context.Context, workflows.FailInput) error { panic("unmocked") },
		activity.RegisterOptions{Name: workflows.ActivityFailDelivery})
	env.RegisterActivityWithOptions(func(context.Context, workflows.PrepareInput) (workflows.PrepareResult, error) {
		panic("unmocked")
	}, activity.RegisterOptions{Name: workflows.ActivityPrepareDeliveries})
	return env
}

func TestDeliveryWorkflow(t *testing.T) {
	in := workflows.DeliveryInput{DeliveryID: 7, SubscriberID: 3, EventRowID: 11, Retry: testRetry}

	t.Run("OK", func(t *testing.T) {
		env := newEnv(t)
		env.OnActivity(workflows.ActivityDeliver, mock.Anything, workflows.DeliverInput{DeliveryID: 7, EventRowID: 11}).
			Return(workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: 1, StatusCode: 200}, nil).Once()
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if got, want := res.Outcome, workflows.OutcomeSucceeded; got != want {
			t.Fatalf("outcome = %q, want %q", got, want)
		}
		env.AssertExpectations(t)
	})

	t.Run("RetriesThenSucceeds", func(t *testing.T) {
		env := newEnv(t)
		calls := 0
		var offsets []int
		env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
				calls++
				offsets = append(offsets, in.AttemptOffset)
				if calls < 3 {
					return workflows.DeliverResult{}, temporal.NewApplicationError("503", workflows.ErrAttemptFailed)
				}
				return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: 3}, nil
			})
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if res.Outcome != workflows.OutcomeSucceeded || calls != 3 {
			t.Fatalf("outcome %q after %d calls, want succeeded after 3", res.Outcome, calls)
		}
		// The first attempt (a local activity) has offset 0; the regular activity that
		// follows numbers its attempts from 2 (offset 1).
		if offsets[0] != 0 || offsets[1] != 1 || offsets[2] != 1 {
			t.Fatalf("attempt offsets %v, want [0 1 1]", offsets)
		}
	})

	t.Run("ExhaustedBlocks", func(t *testing.T) {
		env := newEnv(t)
		calls := 0
		env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
			func(context.Context, workflows.DeliverInput) (workflows.DeliverResult, error) {
				calls++
				return workflows.DeliverResult{}, temporal.NewApplicationError("HTTP 500", workflows.ErrAttemptFailed)
			})
		var failed workflows.FailInput
		env.OnActivity(workflows.ActivityFailDelivery, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in workflows.FailInput) error { failed = in; return nil }).Once()
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if got, want := calls, testRetry.MaximumAttempts; got != want {
			t.Errorf("attempts = %d, want %d", got, want)
		}
		if res.Outcome != workflows.OutcomeFailed || !failed.Block || failed.DeliveryID != 7 || failed.SubscriberID != 3 {
			t.Fatalf("outcome %q, fail input %+v; want failed and a blocking FailDelivery", res.Outcome, failed)
		}
	})

	t.Run("GoneStopsAtOnce", func(t *testing.T) {
		env := newEnv(t)
		calls := 0
		env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
			func(context.Context, workflows.DeliverInput) (workflows.DeliverResult, error) {
				calls++
				return workflows.DeliverResult{}, temporal.NewNonRetryableApplicationError("410", workflows.ErrSubscriberGone, nil)
			})
		var failed workflows.FailInput
		env.OnActivity(workflows.ActivityFailDelivery, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in workflows.FailInput) error { failed = in; return nil }).Once()
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if calls != 1 || !failed.Block || res.Outcome != workflows.OutcomeFailed {
			t.Fatalf("calls %d, fail %+v, outcome %q; want one call, blocked, failed", calls, failed, res.Outcome)
		}
	})

	t.Run("QueuedWaitsForRelease", func(t *testing.T) {
		env := newEnv(t)
		var offsets []int
		env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
				offsets = append(offsets, in.AttemptOffset)
				if len(offsets) == 1 {
					return workflows.DeliverResult{Outcome: workflows.OutcomeQueued, Attempt: 2}, nil
				}
				return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: 3}, nil
			})
		released := false
		env.RegisterDelayedCallback(func() {
			if len(offsets) != 1 {
				t.Errorf("before release: %d Deliver calls, want 1 (the delivery must wait)", len(offsets))
			}
			released = true
			env.SignalWorkflow(workflows.SignalRelease, nil)
		}, 10*time.Hour)
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if !released || res.Outcome != workflows.OutcomeSucceeded {
			t.Fatalf("released %v outcome %q, want a release then success", released, res.Outcome)
		}
		if len(offsets) != 2 || offsets[1] != 2 {
			t.Fatalf("attempt offsets %v, want [0 2]: attempts continue their numbering after a release", offsets)
		}
	})

	t.Run("RetryAfterDelaysTheRetry", func(t *testing.T) {
		env := newEnv(t)
		var times []time.Time
		env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
			func(context.Context, workflows.DeliverInput) (workflows.DeliverResult, error) {
				times = append(times, env.Now())
				if len(times) == 1 {
					return workflows.DeliverResult{}, temporal.NewApplicationErrorWithOptions("429", workflows.ErrAttemptFailed,
						temporal.ApplicationErrorOptions{NextRetryDelay: 45 * time.Second})
				}
				return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: 2}, nil
			})
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if len(times) != 2 {
			t.Fatalf("%d attempts, want 2", len(times))
		}
		if gap := times[1].Sub(times[0]); gap < 45*time.Second {
			t.Fatalf("retry came %v after the 429, want at least the Retry-After of 45s", gap)
		}
	})
}

func mustResult(t *testing.T, env *testsuite.TestWorkflowEnvironment, out any) {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	if err := env.GetWorkflowResult(out); err != nil {
		t.Fatalf("workflow result: %v", err)
	}
}
