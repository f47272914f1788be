package workflows_test

import (
	"context"
	"log/slog"
	"sync"
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

// Answers of a scripted Deliver activity, one per try.
const (
	answerOK       = "ok"       // the receiver answers 2xx
	answerFail     = "fail"     // the receiver answers 503
	answerGone     = "gone"     // the receiver answers 410
	answerQueued   = "queued"   // the subscriber is not active: the delivery queues
	answerInternal = "internal" // Hookflow's database is away: no attempt is made
)

// scriptedDeliver stands in for the Deliver activity (activities.Deliver, whose own
// tests run it against a real database): it answers each try from a script and keeps
// the count of attempts made as the delivery's row would, so that a try that fails on
// Hookflow's account makes no attempt. Its failed attempts are built by
// workflows.AttemptFailed, which the real activity uses.
type scriptedDeliver struct {
	env        *testsuite.TestWorkflowEnvironment
	mu         sync.Mutex
	script     []string
	retryAfter map[int]time.Duration // Retry-After sent with the answer to attempt n
	tries      []deliverTry
	made       int // attempts made (the delivery row's attempts)
}

type deliverTry struct {
	at      time.Time
	answer  string
	attempt int // the attempt it made, 0 for none
	in      workflows.DeliverInput
}

func (s *scriptedDeliver) deliver(_ context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	answer := answerOK
	if len(s.tries) < len(s.script) {
		answer = s.script[len(s.tries)]
	}
	try := deliverTry{at: s.env.Now(), answer: answer, in: in}
	defer func() { s.tries = append(s.tries, try) }()
	switch answer {
	case answerInternal:
		return workflows.DeliverResult{}, temporal.NewApplicationErrorWithOptions("hookflow: the database is unavailable",
			workflows.ErrInternal, temporal.ApplicationErrorOptions{NextRetryDelay: time.Second})
	case answerQueued:
		return workflows.DeliverResult{Outcome: workflows.OutcomeQueued, Attempt: s.made}, nil
	}
	s.made++
	try.attempt = s.made
	switch answer {
	case answerOK:
		return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: s.made, StatusCode: 200}, nil
	case answerGone:
		return workflows.DeliverResult{}, temporal.NewNonRetryableApplicationError("the receiver answered 410 Gone", workflows.ErrSubscriberGone, nil)
	}
	if in.Series == nil {
		return workflows.DeliverResult{}, temporal.NewApplicationError("HTTP 503", workflows.ErrAttemptFailed)
	}
	return workflows.DeliverResult{}, workflows.AttemptFailed(in.Series, 3, s.made, "HTTP 503", s.retryAfter[s.made], s.env.Now())
}

// attempts returns the tries that made an attempt.
func (s *scriptedDeliver) attempts() []deliverTry {
	var out []deliverTry
	for _, t := range s.tries {
		if t.attempt > 0 {
			out = append(out, t)
		}
	}
	return out
}

func newScripted(env *testsuite.TestWorkflowEnvironment, script ...string) *scriptedDeliver {
	s := &scriptedDeliver{env: env, script: script, retryAfter: map[int]time.Duration{}}
	env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(s.deliver)
	return s
}

// onFail records the FailDelivery activity's input.
func onFail(env *testsuite.TestWorkflowEnvironment, failed *workflows.FailInput) {
	env.OnActivity(workflows.ActivityFailDelivery, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.FailInput) error { *failed = in; return nil }).Once()
}

var deliveryIn = workflows.DeliveryInput{Version: workflows.DeliveryV1, DeliveryID: 7, SubscriberID: 3, EventRowID: 11, Retry: testRetry}

func TestDeliveryWorkflow(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		env := newEnv(t)
		s := newScripted(env, answerOK)
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryIn)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if res.Outcome != workflows.OutcomeSucceeded || len(s.tries) != 1 {
			t.Fatalf("outcome %q after %d tries, want succeeded after 1", res.Outcome, len(s.tries))
		}
		if in := s.tries[0].in; in.Series == nil || in.Series.Retry != testRetry || in.DeliveryID != 7 || in.EventRowID != 11 {
			t.Fatalf("attempt input %+v, want the delivery and its series", in)
		}
	})

	t.Run("RetriesFollowThePolicy", func(t *testing.T) {
		env := newEnv(t)
		s := newScripted(env, answerFail, answerFail, answerFail, answerOK)
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryIn)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if res.Outcome != workflows.OutcomeSucceeded || res.Attempts != 4 {
			t.Fatalf("result %+v, want succeeded at attempt 4", res)
		}
		// 1 s after attempt 1, then ×2.
		for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
			if gap := s.tries[i+1].at.Sub(s.tries[i].at); gap < want || gap > want+time.Second {
				t.Errorf("attempt %d came %v after attempt %d, want %v", i+2, gap, i+1, want)
			}
		}
	})

	t.Run("ExhaustedBlocks", func(t *testing.T) {
		env := newEnv(t)
		s := newScripted(env, answerFail, answerFail, answerFail, answerFail, answerFail, answerFail, answerFail)
		var failed workflows.FailInput
		onFail(env, &failed)
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryIn)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if got, want := len(s.attempts()), testRetry.MaximumAttempts; got != want {
			t.Errorf("attempts = %d, want %d", got, want)
		}
		if res.Outcome != workflows.OutcomeFailed || !failed.Block || failed.DeliveryID != 7 || failed.SubscriberID != 3 {
			t.Fatalf("outcome %q, fail input %+v; want failed and a blocking FailDelivery", res.Outcome, failed)
		}
		if want := "retries exhausted: subscriber 3: attempt 5 failed: HTTP 503"; failed.Reason != want {
			t.Fatalf("reason %q, want %q", failed.Reason, want)
		}
	})

	t.Run("GoneStopsAtOnce", func(t *testing.T) {
		env := newEnv(t)
		s := newScripted(env, answerGone)
		var failed workflows.FailInput
		onFail(env, &failed)
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryIn)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if len(s.tries) != 1 || !failed.Block || res.Outcome != workflows.OutcomeFailed {
			t.Fatalf("tries %d, fail %+v, outcome %q; want one try, blocked, failed", len(s.tries), failed, res.Outcome)
		}
	})

	t.Run("QueuedWaitsForRelease", func(t *testing.T) {
		env := newEnv(t)
		s := newScripted(env, answerFail, answerQueued, answerOK)
		released := false
		env.RegisterDelayedCallback(func() {
			if len(s.tries) != 2 {
				t.Errorf("before release: %d tries, want 2 (the delivery must wait)", len(s.tries))
			}
			released = true
			env.SignalWorkflow(workflows.SignalRelease, nil)
		}, 10*time.Hour)
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryIn)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if !released || res.Outcome != workflows.OutcomeSucceeded || res.Attempts != 2 {
			t.Fatalf("released %v, result %+v; want a release then success at attempt 2", released, res)
		}
		if got := s.tries[2].in.AttemptOffset; got != 1 {
			t.Fatalf("attempt after release told %d attempts were made, want 1", got)
		}
	})

	t.Run("RetryAfterDelaysTheRetry", func(t *testing.T) {
		env := newEnv(t)
		s := newScripted(env, answerFail, answerOK)
		s.retryAfter[1] = 45 * time.Second
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryIn)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if len(s.tries) != 2 {
			t.Fatalf("%d attempts, want 2", len(s.tries))
		}
		if gap := s.tries[1].at.Sub(s.tries[0].at); gap < 45*time.Second {
			t.Fatalf("retry came %v after the 429, want at least the Retry-After of 45s", gap)
		}
	})
}

// TestInternalFailuresMakeNoAttempt: tries that fail on Hookflow's account (its database
// away) are retried within seconds and use none of the receiver's attempts: the
// receiver still gets all MaximumAttempts of them, on the policy's schedule.
func TestInternalFailuresMakeNoAttempt(t *testing.T) {
	for _, c := range []struct {
		name   string
		script []string
	}{
		{"OnTheFirstAttempt", []string{answerInternal, answerInternal, answerFail, answerFail, answerFail, answerFail, answerFail}},
		{"WithinTheSeries", []string{answerFail, answerInternal, answerFail, answerInternal, answerInternal, answerFail, answerFail, answerFail}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			s := newScripted(env, c.script...)
			var failed workflows.FailInput
			onFail(env, &failed)
			env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryIn)
			var res workflows.DeliveryResult
			mustResult(t, env, &res)
			if got, want := len(s.attempts()), testRetry.MaximumAttempts; got != want {
				t.Fatalf("%d attempts reached the receiver, want all %d: Hookflow's failures must not use them", got, want)
			}
			if len(s.tries) != len(c.script) {
				t.Fatalf("%d tries, want %d", len(s.tries), len(c.script))
			}
			for i := 1; i < len(s.tries); i++ {
				if s.tries[i-1].answer != answerInternal {
					continue
				}
				if gap := s.tries[i].at.Sub(s.tries[i-1].at); gap > 2*time.Second {
					t.Errorf("try %d came %v after an internal failure, want about a second", i+1, gap)
				}
			}
			if !failed.Block || res.Outcome != workflows.OutcomeFailed {
				t.Fatalf("fail input %+v, outcome %q", failed, res.Outcome)
			}
		})
	}
}

// TestQueueTimeLeavesTheWindow: a delivery that waited 3 days for its subscriber's
// release still has its whole attempt window: the attempt after release fails, the
// schedule goes on, and a later attempt succeeds.
func TestQueueTimeLeavesTheWindow(t *testing.T) {
	policy := workflows.RetryPolicy{InitialInterval: 30 * time.Second, BackoffCoefficient: 2, MaximumInterval: 4 * time.Hour,
		MaximumAttempts: 20, Expiration: 48 * time.Hour}
	env := newEnv(t)
	s := newScripted(env, answerQueued, answerFail, answerFail, answerOK)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalRelease, nil) }, 72*time.Hour)
	in := deliveryIn
	in.Retry = policy
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
	var res workflows.DeliveryResult
	mustResult(t, env, &res)
	if res.Outcome != workflows.OutcomeSucceeded || res.Attempts != 3 {
		t.Fatalf("result %+v after %d tries, want succeeded at attempt 3", res, len(s.tries))
	}
	if waited := s.tries[1].at.Sub(s.tries[0].at); waited < 72*time.Hour {
		t.Fatalf("first attempt %v after the delivery queued, want after the 3-day release", waited)
	}
	if d := s.tries[1].in.Series.Deadline.Sub(s.tries[1].at); d < 47*time.Hour {
		t.Fatalf("after release the window had %v left, want the whole 48h", d)
	}
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
