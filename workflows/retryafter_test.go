package workflows_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/workflows"
)

// fyndRetry is the deployment's default schedule: 20 attempts within 48 hours, waits up
// to 4 hours.
var fyndRetry = workflows.RetryPolicy{
	InitialInterval: 30 * time.Second, BackoffCoefficient: 2, MaximumInterval: 4 * time.Hour,
	MaximumAttempts: 20, Expiration: 48 * time.Hour,
}

// retryAfter is the error the Deliver activity returns when the receiver sent Retry-After.
func retryAfter(ctx context.Context, in workflows.DeliverInput, d time.Duration) error {
	attempt := in.AttemptOffset + int(activity.GetInfo(ctx).Attempt)
	return temporal.NewApplicationErrorWithOptions("HTTP 429", workflows.ErrRetryAfter,
		temporal.ApplicationErrorOptions{NextRetryDelay: d, Details: []any{attempt}})
}

// attemptLog records when each attempt was made.
type attemptLog struct{ at []time.Time }

func (l *attemptLog) gap(i int) time.Duration { return l.at[i].Sub(l.at[i-1]) }

func TestRetryAfterHeldToThePolicy(t *testing.T) {
	in := workflows.DeliveryInput{DeliveryID: 7, SubscriberID: 3, EventRowID: 11, Retry: fyndRetry}
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
			var log attemptLog
			env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
				func(ctx context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
					log.at = append(log.at, env.Now())
					n := len(log.at)
					switch {
					case n == c.onTry:
						return workflows.DeliverResult{}, retryAfter(ctx, in, c.wait)
					case n < 6:
						return workflows.DeliverResult{}, temporal.NewApplicationError("HTTP 503", workflows.ErrAttemptFailed)
					}
					return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: n}, nil
				})
			in := in
			in.Retry = c.policy
			env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
			var res workflows.DeliveryResult
			mustResult(t, env, &res)
			if res.Outcome != workflows.OutcomeSucceeded || len(log.at) != 6 {
				t.Fatalf("outcome %q after %d attempts, want succeeded at attempt 6: Retry-After must not end the series", res.Outcome, len(log.at))
			}
			if gap := log.gap(c.onTry); gap > c.policy.MaximumInterval || gap < c.policy.MaximumInterval-time.Minute {
				t.Fatalf("attempt %d came %v after the Retry-After, want the policy's longest wait %v", c.onTry+1, gap, c.policy.MaximumInterval)
			}
			if span := log.at[5].Sub(log.at[0]); span > c.policy.Expiration {
				t.Fatalf("attempts spread over %v, beyond the %v window", span, c.policy.Expiration)
			}
		})
	}

	t.Run("AllAttemptsDespiteRetryAfter", func(t *testing.T) {
		// A receiver that asks for two days on every answer still gets its attempts, each
		// at most 4 hours apart, within the window; then the delivery fails.
		env := newEnv(t)
		var log attemptLog
		env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
				log.at = append(log.at, env.Now())
				return workflows.DeliverResult{}, retryAfter(ctx, in, 172800*time.Second)
			})
		var failed workflows.FailInput
		env.OnActivity(workflows.ActivityFailDelivery, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in workflows.FailInput) error { failed = in; return nil }).Once()
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		// 4 h apart, 12 attempts fit in 48 h (the 13th would come at 48 h).
		if n := len(log.at); n < 12 || res.Outcome != workflows.OutcomeFailed {
			t.Fatalf("%d attempts, outcome %q; want at least 12 then failed", n, res.Outcome)
		}
		for i := 1; i < len(log.at); i++ {
			if log.gap(i) > fyndRetry.MaximumInterval {
				t.Fatalf("attempt %d came %v after the previous one", i+1, log.gap(i))
			}
		}
		if span := log.at[len(log.at)-1].Sub(log.at[0]); span > fyndRetry.Expiration {
			t.Fatalf("attempts spread over %v, beyond the window", span)
		}
		if failed.Reason != "retries exhausted: HTTP 429" || !failed.Block {
			t.Fatalf("fail input %+v", failed)
		}
	})

	t.Run("NearTheWindowsEnd", func(t *testing.T) {
		// With 30 minutes of the window left, a Retry-After of 4 hours still leaves one
		// attempt, made before the window closes.
		policy := workflows.RetryPolicy{InitialInterval: 30 * time.Minute, BackoffCoefficient: 1, MaximumInterval: 4 * time.Hour,
			MaximumAttempts: 10, Expiration: 2 * time.Hour}
		env := newEnv(t)
		var log attemptLog
		env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
				log.at = append(log.at, env.Now())
				switch len(log.at) {
				case 1, 2, 3:
					return workflows.DeliverResult{}, temporal.NewApplicationError("HTTP 503", workflows.ErrAttemptFailed)
				case 4:
					return workflows.DeliverResult{}, retryAfter(ctx, in, 4*time.Hour)
				}
				return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: len(log.at)}, nil
			})
		in := in
		in.Retry = policy
		env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
		var res workflows.DeliveryResult
		mustResult(t, env, &res)
		if res.Outcome != workflows.OutcomeSucceeded || len(log.at) != 5 {
			t.Fatalf("outcome %q after %d attempts, want succeeded at attempt 5", res.Outcome, len(log.at))
		}
		if span := log.at[4].Sub(log.at[0]); span > policy.Expiration {
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
		var log attemptLog
		env.OnActivity(workflows.ActivityDeliver, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
				log.at = append(log.at, env.Now())
				switch len(log.at) {
				case 1:
					if !in.Inline {
						t.Errorf("attempt 1 input %+v, want inline", in)
					}
					return workflows.DeliverResult{}, retryAfter(ctx, in, 7*24*time.Hour)
				case 2:
					return workflows.DeliverResult{}, retryAfter(ctx, in, 7*24*time.Hour)
				}
				return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: len(log.at)}, nil
			})
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
		if len(log.at) != 3 {
			t.Fatalf("%d attempts, want 3", len(log.at))
		}
		for i := 1; i < 3; i++ {
			if log.gap(i) > fyndRetry.MaximumInterval {
				t.Fatalf("attempt %d came %v after the previous one, want at most %v", i+1, log.gap(i), fyndRetry.MaximumInterval)
			}
		}
	})
}
