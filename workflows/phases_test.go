package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/workflows"
)

// TestContinuePath: in inline-first mode the event workflow made attempt 1; the
// DeliveryWorkflow started for its retry waits what that attempt's failure said, then
// makes attempt 2 as a regular activity (durable across restarts), told that one attempt
// was made.
func TestContinuePath(t *testing.T) {
	env := newEnv(t)
	s := newScripted(env)
	s.made = 1 // attempt 1 was made by the event workflow
	regular, local := 0, 0
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { regular++ })
	env.SetOnLocalActivityStartedListener(func(*activity.Info, context.Context, []any) { local++ })
	in := deliveryIn
	in.Continue, in.ContinueAfter, in.AttemptOffset, in.LastFailure = true, 30*time.Second, 1, "HTTP 503"
	started := env.Now()
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
	var res workflows.DeliveryResult
	mustResult(t, env, &res)
	if res.Outcome != workflows.OutcomeSucceeded || res.Attempts != 2 || len(s.tries) != 1 {
		t.Fatalf("result %+v after %d tries, want succeeded at attempt 2 after one try", res, len(s.tries))
	}
	try := s.tries[0]
	if waited := try.at.Sub(started); waited < 30*time.Second {
		t.Fatalf("attempt 2 came %v after the start, want after the 30s the first attempt's failure asked", waited)
	}
	if try.in.AttemptOffset != 1 || try.in.Series == nil || try.in.Inline {
		t.Fatalf("attempt 2 input %+v, want one attempt made, its series, not inline", try.in)
	}
	if regular != 1 || local != 0 {
		t.Fatalf("%d regular and %d local activities started, want one regular", regular, local)
	}
}

// TestReleaseWorkflow: a rescan asked for while a pass runs makes one more pass; the
// released counts add up; a pass that fails is retried.
func TestReleaseWorkflow(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflowWithOptions(workflows.ReleaseWorkflow, workflowOpts(workflows.ReleaseWorkflowName))
	passes := 0
	env.RegisterActivityWithOptions(func(_ context.Context, in workflows.ReleaseInput) (workflows.ReleaseResult, error) {
		passes++
		if in.SubscriberID != 9 {
			t.Errorf("release input %+v, want subscriber 9", in)
		}
		switch passes {
		case 1:
			// A re-activation arrives while this pass runs.
			env.SignalWorkflow(workflows.SignalRescan, nil)
			return workflows.ReleaseResult{Released: 3}, nil
		case 2:
			return workflows.ReleaseResult{}, errors.New("the database is unavailable")
		}
		return workflows.ReleaseResult{Released: 2}, nil
	}, activity.RegisterOptions{Name: workflows.ActivityReleaseQueued})
	env.ExecuteWorkflow(workflows.ReleaseWorkflowName, workflows.ReleaseInput{SubscriberID: 9})
	var res workflows.ReleaseResult
	mustResult(t, env, &res)
	if passes != 3 || res.Released != 5 {
		t.Fatalf("%d passes released %d, want 3 passes (the second failed and was retried) releasing 5", passes, res.Released)
	}
}

// TestBulkRetryWorkflow: the job's activity runs until it completes, resuming after a
// failure, and its counts are the workflow's result.
func TestBulkRetryWorkflow(t *testing.T) {
	env := newEnv(t)
	env.RegisterWorkflowWithOptions(workflows.BulkRetryWorkflow, workflowOpts(workflows.BulkRetryWorkflowName))
	tries := 0
	env.RegisterActivityWithOptions(func(_ context.Context, in workflows.BulkRetryInput) (workflows.BulkRetryResult, error) {
		tries++
		if in.JobID != 4 {
			t.Errorf("bulk retry input %+v, want job 4", in)
		}
		if tries == 1 {
			return workflows.BulkRetryResult{}, errors.New("the database is unavailable")
		}
		return workflows.BulkRetryResult{Redelivered: 7, Skipped: 1}, nil
	}, activity.RegisterOptions{Name: workflows.ActivityBulkRetry})
	env.ExecuteWorkflow(workflows.BulkRetryWorkflowName, workflows.BulkRetryInput{JobID: 4})
	var res workflows.BulkRetryResult
	mustResult(t, env, &res)
	if tries != 2 || res.Redelivered != 7 || res.Skipped != 1 {
		t.Fatalf("%d tries, result %+v; want 2 tries and 7 redelivered, 1 skipped", tries, res)
	}

	t.Run("PermanentFailure", func(t *testing.T) {
		env := newEnv(t)
		env.RegisterWorkflowWithOptions(workflows.BulkRetryWorkflow, workflowOpts(workflows.BulkRetryWorkflowName))
		tries := 0
		env.RegisterActivityWithOptions(func(context.Context, workflows.BulkRetryInput) (workflows.BulkRetryResult, error) {
			tries++
			return workflows.BulkRetryResult{}, temporal.NewNonRetryableApplicationError("retry job 4: subscriber_ids: invalid JSON", workflows.ErrPermanent, nil)
		}, activity.RegisterOptions{Name: workflows.ActivityBulkRetry})
		env.ExecuteWorkflow(workflows.BulkRetryWorkflowName, workflows.BulkRetryInput{JobID: 4})
		if err := env.GetWorkflowError(); err == nil || tries != 1 {
			t.Fatalf("error %v after %d tries, want the job to fail after one", err, tries)
		}
	})
}
