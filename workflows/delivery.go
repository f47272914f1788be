package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// deliverStartToClose bounds one attempt: the longest subscriber timeout (30 s) plus room
// for loading the delivery and recording the attempt.
const deliverStartToClose = 45 * time.Second

// DeliveryWorkflow delivers one event to one subscriber, in phases:
//
//   - the first attempt, a local activity inside the workflow task that starts the
//     delivery (most deliveries succeed at once, and then the whole delivery costs one
//     workflow task and no activity task); in inline-first mode the event workflow made
//     it already and this workflow starts at the next phase (Continue);
//   - the retry series: after the first retry's wait, one regular activity makes every
//     later attempt, and Temporal retries it durably, across worker and server restarts;
//   - waiting for release, when the subscriber is not active (queue policy) or blocked:
//     durably, without polling, until SignalRelease; then an attempt at once and, when it
//     fails, the series again, continuing its schedule.
//
// The Deliver activity decides each attempt's fate (see activities.Deliver): it numbers
// attempts from the delivery's recorded attempts, spaces them by the retry policy and the
// receiver's Retry-After (NextRetryDelay), and ends the series when the attempts or the
// window run out. A failure of Hookflow's own (its database, the event cache, a worker
// lost mid-attempt) is retried promptly under this workflow's internal backoff and makes
// no attempt: the receiver's attempts and window are the receiver's. The window covers
// attempting only: the time spent waiting for release does not count.
//
// A delivery whose attempts run out, or whose receiver answers 410 Gone, fails and blocks
// its subscriber.
func DeliveryWorkflow(ctx workflow.Context, in DeliveryInput) (DeliveryResult, error) {
	if in.Version < DeliveryV1 {
		return deliveryWorkflowV0(ctx, in)
	}
	if in.Retry.MaximumAttempts < 1 || in.Retry.InitialInterval <= 0 {
		return DeliveryResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("delivery %d: invalid retry policy %+v", in.DeliveryID, in.Retry), ErrPermanent, nil)
	}
	d := &delivery{in: in, attempts: in.AttemptOffset, window: attemptWindow{left: in.Retry.Expiration, since: workflow.Now(ctx)}}
	d.state = DeliveryState{Phase: PhaseAttempting, Attempt: d.attempts + 1}
	if err := workflow.SetQueryHandler(ctx, QueryDeliveryState, func() (DeliveryState, error) { return d.state, nil }); err != nil {
		return DeliveryResult{}, err
	}

	var res DeliverResult
	var err error
	switch {
	case in.Throttled != nil:
		// The event workflow's attempt was throttled (inline-first mode): wait for its turn.
		res = DeliverResult{Outcome: OutcomeThrottled, Turn: in.Throttled}
	case in.Continue:
		// The event workflow made the first attempt (inline-first mode) and it failed.
		d.state.LastFailure = in.LastFailure
		res, err = d.retries(ctx, min(in.ContinueAfter, in.Retry.MaximumInterval))
	default:
		res, err = d.attempt(ctx)
	}
	for {
		if err := d.leftTurn(ctx, res, err); err != nil {
			return DeliveryResult{}, err
		}
		// A series ends with a retryable failure only when Temporal gave up on it (its
		// time limit, say): the delivery goes on with a new one.
		for err != nil && isRetryable(err) {
			res, err = d.retries(ctx, nextDelay(err))
			if err := d.leftTurn(ctx, res, err); err != nil {
				return DeliveryResult{}, err
			}
		}
		if err != nil {
			return failDelivery(ctx, in, err)
		}
		switch res.Outcome {
		case OutcomeThrottled:
			if err := d.waitForTurn(ctx, res.Turn); err != nil {
				return DeliveryResult{}, err
			}
		case OutcomeQueued:
			if err := d.waitForRelease(ctx, res); err != nil {
				return DeliveryResult{}, err
			}
		default:
			return finish(ctx, res.Outcome, res.Attempt)
		}
		res, err = d.attempt(ctx)
	}
}

// DeliveryV1 is the Version of DeliveryInput that DeliveryWorkflow runs as above. Runs
// started with an input without it replay the code they started under (delivery_v0.go).
const DeliveryV1 = 1

// delivery is a running DeliveryWorkflow's state.
type delivery struct {
	in       DeliveryInput
	state    DeliveryState // what the query answers
	attempts int           // attempts made, as far as the workflow has heard
	window   attemptWindow
	// turn is the turn the delivery was given when it was last throttled, which its
	// next attempt takes; throttled says that its status attribute shows it throttled.
	turn      *Turn
	throttled bool
}

// attemptWindow is the time the delivery may spend attempting (the policy's Expiration).
// It runs while the delivery attempts and retries and stops while it waits for release.
type attemptWindow struct {
	left  time.Duration // what was left when it last started running
	since time.Time     // when it last started running
}

func (w attemptWindow) deadline() time.Time { return w.since.Add(w.left) }

func (w *attemptWindow) stop(now time.Time)  { w.left -= now.Sub(w.since) }
func (w *attemptWindow) start(now time.Time) { w.since = now }

// series is what the Deliver activity is told of the series an attempt belongs to.
func (d *delivery) series() *AttemptSeries {
	return &AttemptSeries{Retry: d.in.Retry, Deadline: d.window.deadline()}
}

// attempt makes one attempt now, as a local activity.
func (d *delivery) attempt(ctx workflow.Context) (DeliverResult, error) {
	d.state = DeliveryState{Phase: PhaseAttempting, Attempt: d.attempts + 1, LastFailure: d.state.LastFailure}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: deliverStartToClose,
		// One try: the retries are the regular activity's, which survive restarts.
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var res DeliverResult
	err := workflow.ExecuteLocalActivity(lctx, ActivityDeliver, DeliverInput{
		DeliveryID: d.in.DeliveryID, EventRowID: d.in.EventRowID, AttemptOffset: d.attempts, Series: d.series(), Turn: d.turn,
	}).Get(ctx, &res)
	d.heard(res, err)
	return res, err
}

// retries waits delay, then makes the rest of the series' attempts as one regular
// activity. The activity sets the wait before each of its retries (NextRetryDelay) and
// ends the series; Temporal's own backoff, below, spaces only the tries that ended
// without a word from the activity (a timeout, a worker lost), which are Hookflow's.
func (d *delivery) retries(ctx workflow.Context, delay time.Duration) (DeliverResult, error) {
	next := workflow.Now(ctx).Add(delay)
	d.state = DeliveryState{Phase: PhaseWaitingRetry, Attempt: d.attempts + 1, NextAttemptAt: &next, LastFailure: d.state.LastFailure}
	if err := workflow.Sleep(ctx, delay); err != nil {
		return DeliverResult{}, err
	}
	d.state = DeliveryState{Phase: PhaseRetrying, Attempt: d.attempts + 1, LastFailure: d.state.LastFailure}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: deliverStartToClose,
		// The activity ends the series at the window's end. Past it, a day more for
		// Hookflow's own failures; when even that runs out, the series starts again here.
		ScheduleToCloseTimeout: max(d.window.deadline().Sub(workflow.Now(ctx)), 0) + 24*time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second, // Hookflow's own failure: try again soon
			BackoffCoefficient:     2,           // then back off
			MaximumInterval:        time.Minute, // but keep checking every minute
			MaximumAttempts:        0,           // the activity ends the series
			NonRetryableErrorTypes: []string{ErrSubscriberGone, ErrPermanent},
		},
	})
	var res DeliverResult
	err := workflow.ExecuteActivity(actx, ActivityDeliver, DeliverInput{
		DeliveryID: d.in.DeliveryID, EventRowID: d.in.EventRowID, AttemptOffset: d.attempts, Series: d.series(), Turn: d.turn,
	}).Get(ctx, &res)
	d.heard(res, err)
	return res, err
}

// waitForRelease waits, with the window stopped, until the subscriber is released.
func (d *delivery) waitForRelease(ctx workflow.Context, res DeliverResult) error {
	d.window.stop(workflow.Now(ctx))
	d.state = DeliveryState{Phase: PhaseWaitingRelease, Attempt: d.attempts + 1, LastFailure: d.state.LastFailure}
	if err := setStatus(ctx, OutcomeQueued); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, SignalRelease).Receive(ctx, nil)
	d.window.start(workflow.Now(ctx))
	return nil
}

// maxThrottleSleep bounds one wait of a throttled delivery: a delivery whose turn is
// further away looks again then (its turn kept), so that it sees a change of its
// subscriber's limits by then at the latest.
const maxThrottleSleep = 10 * time.Minute

// TurnLead is how long before its turn a throttled delivery wakes: its next try is
// under way by then and waits out the rest itself (a wait that short is not throttled
// again), so that the send goes out on its turn, not a timer's and a task's latency
// after it, beside the turns of the next deliveries.
const TurnLead = 3 * time.Second

// waitForTurn waits, with the window stopped, until TurnLead before the delivery's turn
// under its subscriber's flow limits (or maxThrottleSleep). The first wait sets its status
// attribute to throttled, for Temporal UI.
func (d *delivery) waitForTurn(ctx workflow.Context, turn *Turn) error {
	now := workflow.Now(ctx)
	d.window.stop(now)
	d.turn = turn
	at := turn.At
	d.state = DeliveryState{Phase: PhaseThrottled, Attempt: d.attempts + 1, NextAttemptAt: &at, LastFailure: d.state.LastFailure, Limit: turn.Why}
	if !d.throttled {
		if err := setStatus(ctx, OutcomeThrottled); err != nil {
			return err
		}
		d.throttled = true
	}
	if wait := at.Sub(now) - TurnLead; wait > 0 {
		if err := workflow.Sleep(ctx, min(wait, maxThrottleSleep)); err != nil {
			return err
		}
	}
	d.window.start(workflow.Now(ctx))
	return nil
}

// leftTurn takes in an answer after a throttled wait: unless throttled again, the turn
// is used, and a delivery that goes on retrying shows as pending again.
func (d *delivery) leftTurn(ctx workflow.Context, res DeliverResult, err error) error {
	if err == nil && res.Outcome == OutcomeThrottled {
		return nil
	}
	d.turn = nil
	if d.throttled && err != nil {
		d.throttled = false
		return setStatus(ctx, OutcomePending)
	}
	return nil
}

// heard takes in what an attempt's activity answered.
func (d *delivery) heard(res DeliverResult, err error) {
	d.attempts = max(d.attempts, res.Attempt, attemptOf(err))
	if err != nil && !isInternal(err) {
		d.state.LastFailure = failureMessage(err)
	}
}

// nextDelay is the wait the activity set after a failed attempt; a failure without one
// (a timeout, a worker lost) is Hookflow's own and is tried again after a second.
func nextDelay(err error) time.Duration {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NextRetryDelay() > 0 {
		return appErr.NextRetryDelay()
	}
	return time.Second
}

// attemptOf is the number of the attempt a failure reports, 0 when it reports none.
func attemptOf(err error) int {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrAttemptFailed || !appErr.HasDetails() {
		return 0
	}
	var n int
	if appErr.Details(&n) != nil {
		return 0
	}
	return n
}

// isInternal reports whether err is Hookflow's own failure rather than an attempt's.
func isInternal(err error) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type() == ErrInternal
	}
	return true // timeouts, panics, a worker gone
}

// Phases a running delivery reports through QueryDeliveryState.
const (
	PhaseAttempting     = "attempting"      // the first attempt of a series is under way
	PhaseWaitingRetry   = "waiting_retry"   // waiting before the second attempt
	PhaseRetrying       = "retrying"        // later attempts run as an activity (see its pending state)
	PhaseWaitingRelease = "waiting_release" // the subscriber is inactive or blocked
	PhaseThrottled      = "throttled"       // waiting for its turn under the subscriber's flow limits
)

// QueryDeliveryState is the query that returns a running delivery's DeliveryState.
const QueryDeliveryState = "delivery_state"

// DeliveryState is what a running delivery is doing.
type DeliveryState struct {
	Phase         string     `json:"phase"`
	Attempt       int        `json:"attempt"` // the attempt under way or next
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastFailure   string     `json:"last_failure,omitempty"`
	// Limit names the flow limit a throttled delivery waits for (see Turn.Why).
	Limit string `json:"limit,omitempty"`
}

func failureMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

// isRetryable reports whether a failed attempt may be retried.
func isRetryable(err error) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return !appErr.NonRetryable() && appErr.Type() != ErrSubscriberGone && appErr.Type() != ErrPermanent
	}
	return true // timeouts, panics, a worker gone
}

// failDelivery records that the attempts ran out (or the receiver is gone), blocks the
// subscriber and ends the workflow as failed. The workflow itself completes: a failed
// delivery is a business outcome, visible through the HookflowDeliveryStatus attribute.
func failDelivery(ctx workflow.Context, in DeliveryInput, cause error) (DeliveryResult, error) {
	reason := "retries exhausted"
	block := true
	var appErr *temporal.ApplicationError
	if errors.As(cause, &appErr) {
		switch appErr.Type() {
		case ErrSubscriberGone:
			reason = "the receiver answered 410 Gone"
		case ErrPermanent:
			reason, block = appErr.Message(), false
		case ErrAttemptFailed, ErrRetryAfter:
			reason = "retries exhausted: " + appErr.Message()
		case ErrRetryPeriodEnded:
			reason = "retries exhausted: the retry period ended"
		default:
			// Hookflow's own failure (its database, say): partners see the class only; the
			// error itself is for operators.
			reason = "retries exhausted: internal error"
			workflow.GetLogger(ctx).Error("delivery failed on an internal error", "delivery_id", in.DeliveryID, "error", cause)
		}
	} else {
		var timeoutErr *temporal.TimeoutError
		if errors.As(cause, &timeoutErr) {
			reason = "retries exhausted: the retry period ended"
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second, // the database may be briefly away
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    0, // the failure must be recorded
		},
	})
	err := workflow.ExecuteActivity(actx, ActivityFailDelivery, FailInput{
		DeliveryID: in.DeliveryID, SubscriberID: in.SubscriberID, Reason: reason, Block: block,
	}).Get(ctx, nil)
	if err != nil {
		return DeliveryResult{}, err
	}
	return finish(ctx, OutcomeFailed, 0)
}

func finish(ctx workflow.Context, outcome string, attempts int) (DeliveryResult, error) {
	if err := setStatus(ctx, outcome); err != nil {
		return DeliveryResult{}, err
	}
	return DeliveryResult{Outcome: outcome, Attempts: attempts}, nil
}

func setStatus(ctx workflow.Context, status string) error {
	return workflow.UpsertTypedSearchAttributes(ctx, SearchDeliveryStatus.ValueSet(status))
}
