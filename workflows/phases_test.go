package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

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

// TestInlineFirstAttempts: in inline-first mode the event workflow makes every first
// attempt itself and starts a DeliveryWorkflow only for those that need one: a retry
// (continuing after the wait the attempt's failure set), a wait for release, or an
// attempt that Hookflow's own failure kept from being made (made by the child, within
// a second). A delivery whose receiver is gone is failed there; one delivered needs
// nothing more.
func TestInlineFirstAttempts(t *testing.T) {
	env := newEnv(t)
	const (
		ok, fail, queued, gone, internal = 1, 2, 3, 4, 5
	)
	var planned []workflows.PlannedDelivery
	for id := int64(ok); id <= internal; id++ {
		planned = append(planned, workflows.PlannedDelivery{DeliveryID: id, SubscriberID: 10 + id, WorkflowID: workflows.DeliveryWorkflowID(1, "e1", 10+id, 0)})
	}
	env.OnActivity(workflows.ActivityPrepareDeliveries, mock.Anything, mock.Anything).Return(
		workflows.PrepareResult{EventRowID: 5, Retry: testRetry, Mode: workflows.ModeInlineFirst, Deliveries: planned}, nil).Once()
	var inline []workflows.DeliverInput
	env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
			inline = append(inline, in)
			switch in.DeliveryID {
			case ok:
				return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: 1}, nil
			case fail:
				return workflows.DeliverResult{}, workflows.AttemptFailed(in.Series, 12, 1, "HTTP 503", 0, env.Now())
			case queued:
				return workflows.DeliverResult{Outcome: workflows.OutcomeQueued}, nil
			case gone:
				return workflows.DeliverResult{}, temporal.NewNonRetryableApplicationError("the receiver answered 410 Gone", workflows.ErrSubscriberGone, nil)
			}
			return workflows.DeliverResult{}, temporal.NewApplicationErrorWithOptions("hookflow: the database is unavailable",
				workflows.ErrInternal, temporal.ApplicationErrorOptions{NextRetryDelay: time.Second})
		})
	var failed []workflows.FailInput
	env.OnActivity(workflows.ActivityFailDelivery, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.FailInput) error { failed = append(failed, in); return nil })
	children := map[int64]workflows.DeliveryInput{}
	env.OnWorkflow(workflows.DeliveryWorkflowName, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in workflows.DeliveryInput) (workflows.DeliveryResult, error) {
			children[in.DeliveryID] = in
			return workflows.DeliveryResult{Outcome: workflows.OutcomeSucceeded}, nil
		})
	ev := workflows.Event{CompanyID: 1, ID: "e1", Slug: "company/product/create/v1", AcceptedAt: time.Unix(1700000000, 0), Payload: []byte(`{"uid":1}`)}
	executeEvent(env, workflows.EventInput{Event: ev})
	var res workflows.EventResult
	mustResult(t, env, &res)

	if len(inline) != 5 {
		t.Fatalf("%d first attempts in the event workflow, want 5", len(inline))
	}
	for _, in := range inline {
		if !in.Inline || in.Series == nil || in.Series.Retry != testRetry || in.EventRowID != 5 {
			t.Fatalf("first attempt input %+v, want inline with the series", in)
		}
	}
	if res.Deliveries != 3 || len(children) != 3 {
		t.Fatalf("%d deliveries reported, children %v; want 3 children (retry, queued, internal)", res.Deliveries, children)
	}
	for id, c := range children {
		if c.Version != workflows.DeliveryV1 || c.Retry != testRetry || c.EventRowID != 5 || c.SubscriberID != 10+id {
			t.Errorf("child %d input %+v", id, c)
		}
	}
	if c := children[fail]; !c.Continue || c.AttemptOffset != 1 || c.ContinueAfter != testRetry.DelayAfter(1) || c.LastFailure == "" {
		t.Errorf("retry child %+v, want it to continue after attempt 1, in %v", c, testRetry.DelayAfter(1))
	}
	if c := children[queued]; c.Continue || c.AttemptOffset != 0 {
		t.Errorf("queued child %+v, want it to start from the beginning", c)
	}
	if c := children[internal]; !c.Continue || c.AttemptOffset != 0 || c.ContinueAfter > time.Second {
		t.Errorf("child after an internal failure %+v, want it to make attempt 1 within a second", c)
	}
	if len(failed) != 1 || failed[0].DeliveryID != gone || !failed[0].Block {
		t.Fatalf("FailDelivery calls %+v, want one blocking the gone subscriber's delivery", failed)
	}
}
