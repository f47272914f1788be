package workflows_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/workflows"
)

// fyndRetry is the deployment's default schedule: 20 attempts within 48 hours, waits up
// to 4 hours.
var fyndRetry = workflows.RetryPolicy{
	InitialInterval: 30 * time.Second, BackoffCoefficient: 2, MaximumInterval: 4 * time.Hour,
	MaximumAttempts: 20, Expiration: 48 * time.Hour,
}

// attempts returns when each attempt was made.
func attemptTimes(s *scriptedDeliver) []time.Time {
	var at []time.Time
	for _, t := range s.attempts() {
		at = append(at, t.at)
	}
	return at
}

func gap(at []time.Time, i int) time.Duration { return at[i].Sub(at[i-1]) }

// repeat returns n times answer.
func repeat(answer string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = answer
	}
	return out
}

func TestRetryAfterHeldToThePolicy(t *testing.T) {
	in := deliveryIn
	in.Retry = fyndRetry
	huge := time.Duration(math.MaxInt64) // an HTTP date in year 9999

	for _, c := range []struct {
		name   string
		onTry  int // the attempt whose receiver sends Retry-After
		wait   time.Duration
		policy workflows.RetryPolicy
	}{
		{"SevenDaysOnAttempt1", 1, 7 * 24 * time.Hour, fyndRetry},
		{"Year9999OnAttempt1", 1, huge, fyndRetry},
		{"TwoDaysOnAttempt2", 2, 172800 * time.Second, fyndRetry},
		{"Year9999OnAttempt3", 3, huge, fyndRetry},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			s := newScripted(env, append(repeat(answerFail, 5), answerOK)...)
			s.retryAfter[c.onTry] = c.wait
			in := in
			in.Retry = c.policy
			env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
			var res workflows.DeliveryResult
			mustResult(t, env, &res)
			at := attemptTimes(s)
			if res.Outcome != workflows.OutcomeSucceeded || len(at) != 6 {
				t.Fatalf("outcome %q after %d attempts, want succeeded at attempt 6: Retry-After must not end the series", res.Outcome, len(at))
			}
			if gap := gap(at, c.onTry); gap > c.policy.MaximumInterval || gap < c.policy.MaximumInterval-time.Minute {
				t.Fatalf("attempt %d came %v after the Retry-After, want the policy's longest wait %v", c.onTry+1, gap, c.policy.MaximumInterval)
			}
			if span := at[5].Sub(at[0]); span > c.policy.Expiration {
				t.Fatalf("attempts spread over %v, beyond the %v window", span, c.policy.Expiration)
			}
		})
	}

	t.Run("AllAttemptsDespiteRetryAfter", func(t *testing.T) {
		// A receiver that asks for two days on every answer still gets its attempts, each
		// at most 4 hours apart, within the window; then the delivery fails.
		env := newEnv(t)
		s := newScripted(env, repeat(answerFail, fyndRetry.MaximumAttempts)...)
		for n := 1; n <= fyndRetry.MaximumAttempts; n++ {
			s.retryAfter[n] = 172800 * time.Second
		}
		var failed workflows.FailInput
		onFail(env, &failed)
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		at := attemptTimes(s)
		// 4 h apart, 13 attempts fit in 48 h (the 13th at its very end).
		if n := len(at); n < 12 || res.Outcome != workflows.OutcomeFailed {
			t.Fatalf("%d attempts, outcome %q; want at least 12 then failed", n, res.Outcome)
		}
		for i := 1; i < len(at); i++ {
			if gap(at, i) > fyndRetry.MaximumInterval {
				t.Fatalf("attempt %d came %v after the previous one", i+1, gap(at, i))
			}
		}
		if span := at[len(at)-1].Sub(at[0]); span > fyndRetry.Expiration {
			t.Fatalf("attempts spread over %v, beyond the window", span)
		}
		if failed.Reason != "retries exhausted: the retry period ended" || !failed.Block {
			t.Fatalf("fail input %+v", failed)
		}
	})

	t.Run("NearTheWindowsEnd", func(t *testing.T) {
		// With 30 minutes of the window left, a Retry-After of 4 hours still leaves one
		// attempt, made before the window closes.
		policy := workflows.RetryPolicy{InitialInterval: 30 * time.Minute, BackoffCoefficient: 1, MaximumInterval: 4 * time.Hour,
			MaximumAttempts: 10, Expiration: 2 * time.Hour}
		env := newEnv(t)
		s := newScripted(env, answerFail, answerFail, answerFail, answerFail, answerOK)
		s.retryAfter[4] = 4 * time.Hour
		in := in
		in.Retry = policy
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		at := attemptTimes(s)
		if res.Outcome != workflows.OutcomeSucceeded || len(at) != 5 {
			t.Fatalf("outcome %q after %d attempts, want succeeded at attempt 5", res.Outcome, len(at))
		}
		if span := at[4].Sub(at[0]); span > policy.Expiration {
			t.Fatalf("attempt 5 came %v after the first, beyond the %v window", span, policy.Expiration)
		}
	})

	t.Run("InlineFirstHandsOverHeld", func(t *testing.T) {
		// Inline-first: attempt 1 runs in the event workflow; its Retry-After of 7 days
		// is held to 4 hours in the child that makes attempt 2.
		env := newEnv(t)
		env.OnActivity(workflows.ActivityPrepareDeliveries, mock.Anything, mock.Anything).Return(
			workflows.PrepareResult{EventRowID: 11, Retry: fyndRetry, Mode: workflows.ModeInlineFirst, Deliveries: []workflows.PlannedDelivery{
				{DeliveryID: 7, SubscriberID: 3, WorkflowID: workflows.DeliveryWorkflowID(1, "e1", 3, 0)},
			}}, nil).Once()
		s := newScripted(env, answerFail, answerFail, answerOK)
		s.retryAfter[1] = 7 * 24 * time.Hour
		s.retryAfter[2] = 7 * 24 * time.Hour
		var child workflows.DeliveryInput
		env.OnWorkflow(workflows.DeliveryWorkflowName, mock.Anything, mock.Anything).Return(
			func(ctx workflow.Context, in workflows.DeliveryInput) (workflows.DeliveryResult, error) {
				child = in
				return workflows.DeliveryWorkflow(ctx, in)
			})
		executeEvent(env, workflows.EventInput{Event: workflows.Event{
			CompanyID: 1, ID: "e1", Slug: "company/product/create/v1", AcceptedAt: time.Unix(1700000000, 0), Payload: []byte(`{}`)}})
		var res workflows.EventResult
		mustResult(t, env, &res)
		if !child.Continue || child.ContinueAfter > fyndRetry.MaximumInterval {
			t.Fatalf("child input %+v, want it to continue after at most %v", child, fyndRetry.MaximumInterval)
		}
		at := attemptTimes(s)
		if len(at) != 3 || !s.tries[0].in.Inline {
			t.Fatalf("%d attempts, the first inline: %v; want 3, the first inline", len(at), s.tries[0].in.Inline)
		}
		for i := 1; i < 3; i++ {
			if gap(at, i) > fyndRetry.MaximumInterval {
				t.Fatalf("attempt %d came %v after the previous one, want at most %v", i+1, gap(at, i), fyndRetry.MaximumInterval)
			}
		}
	})
}
