package activities

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/workflows"
)

// deliveryStore is what Deliver and FailDelivery need of the store.
type deliveryStore interface {
	LoadDeliveryJob(ctx context.Context, id int64) (*store.DeliveryJob, error)
	HoldIfInactive(ctx context.Context, deliveryID, subscriberID int64, run store.Run) (store.HoldResult, error)
	RecordAttempt(ctx context.Context, rec store.AttemptRecord) error
	FinishDelivery(ctx context.Context, deliveryID int64, status, reason string, run store.Run) error
	RecordDeliveryFailed(ctx context.Context, deliveryID int64, reason string, run store.Run) (bool, error)
	BlockSubscriberWithAlert(ctx context.Context, id int64, reason string, alert func(*models.Subscriber) *models.Notification) (bool, *models.Notification, error)
}

// Deliver makes one attempt of a delivery, in five steps: check that it may go out
// (the subscriber active, the extension installed, the slug still subscribed; otherwise
// the delivery queues or is discarded), render the body (filter and reducer; a retry
// sends the body its series' first attempt sent, see keepBody), wait for its turn under
// the subscriber's flow limits (takeTurn: a long wait answers OutcomeThrottled, and no
// attempt is made), send it signed, and record the attempt; a 429 or 503 slows the
// subscriber's later deliveries down too (pushedBack). A 2xx answer succeeds; 410 Gone fails without retry
// (ErrSubscriberGone); any other failure is an ErrAttemptFailed error (see failed).
//
// Attempts are numbered from the delivery's recorded attempts, not from Temporal's
// tries: a try that fails on Hookflow's own account (the database away, the event
// unreadable) returns an ErrInternal error, logged and counted as such, and the next try
// makes the same attempt.
func (a *Activities) Deliver(ctx context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
	t := a.newTry(ctx, in)
	// What comes before the send waits for the database at most dbWait: a pool that ran
	// dry, or a database that hangs, fails the try as Hookflow's own.
	loadCtx, cancel := context.WithTimeout(ctx, a.dbWait)
	defer cancel()
	job, err := a.store.LoadDeliveryJob(loadCtx, in.DeliveryID)
	if err != nil {
		return workflows.DeliverResult{}, a.internal(ctx, t, "load the delivery", err)
	}
	t.loaded(job)
	if res, done, err := a.check(ctx, t, job); done {
		return res, err
	}
	ev, err := a.events.get(loadCtx, a.store, in.EventRowID)
	if err != nil {
		return workflows.DeliverResult{}, a.internal(ctx, t, "load the event", err)
	}
	body, res, done, err := a.renderFor(ctx, t, job, ev)
	if done {
		return res, err
	}
	free, res, done, err := a.takeTurn(ctx, t, job)
	if done {
		return res, err
	}
	defer free()
	started := a.now()
	d, sub := &job.Delivery, &job.Subscriber
	resp := a.sender.Send(ctx, webhook.Request{
		URL: sub.WebhookURL, Body: body, Secrets: sub.SigningSecrets(started),
		MessageID: webhook.DeliveryMessageID(d.ID), EventID: d.EventID, CustomHeaders: sub.CustomHeaders,
		Timeout: sub.Timeout(), Now: started,
	})
	if err := a.record(ctx, t, job, ev, body, started, resp); err != nil {
		// The receiver had the request; the next try sends it again under the same
		// webhook-id and attempt number, and the receiver drops the duplicate.
		return workflows.DeliverResult{}, a.internal(ctx, t, "record the attempt", err)
	}
	a.pushedBack(ctx, t, sub, started, resp)
	switch {
	case resp.OK():
		return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: t.attempt, StatusCode: resp.StatusCode,
			SubscriberID: sub.ID, LatencyMS: float64(resp.Duration.Microseconds()) / 1000}, nil
	case resp.StatusCode == 410:
		return workflows.DeliverResult{}, temporal.NewNonRetryableApplicationError(
			"the receiver answered 410 Gone", workflows.ErrSubscriberGone, nil)
	}
	return workflows.DeliverResult{}, a.failed(t, sub.ID, resp)
}

// try is one execution of the Deliver activity.
type try struct {
	in             workflows.DeliverInput
	info           activity.Info
	run            store.Run
	log            *slog.Logger
	attempt        int // the attempt this try makes: the delivery's recorded attempts + 1
	loadedAttempts int // the delivery's recorded attempts; -1 until it is loaded
}

func (a *Activities) newTry(ctx context.Context, in workflows.DeliverInput) *try {
	info := activity.GetInfo(ctx)
	return &try{
		in: in, info: info, loadedAttempts: -1,
		run: store.Run{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID},
		log: a.log.With("delivery_id", in.DeliveryID, "workflow_id", info.WorkflowExecution.ID),
	}
}

// loaded numbers the try's attempt from the delivery's recorded attempts.
func (t *try) loaded(job *store.DeliveryJob) {
	t.loadedAttempts = job.Delivery.Attempts
	t.attempt = job.Delivery.Attempts + 1
	t.log = t.log.With("attempt", t.attempt, "subscriber_id", job.Subscriber.ID, "event_id", job.Delivery.EventID)
}

// check decides whether the delivery may go out now. When it may not, done is true and
// res, err are the activity's answer: the delivery ended before, or is queued or
// discarded now.
func (a *Activities) check(ctx context.Context, t *try, job *store.DeliveryJob) (res workflows.DeliverResult, done bool, err error) {
	d, sub := &job.Delivery, &job.Subscriber
	if models.DeliveryFinal(d.Status) {
		// Delivered (or ended) before: an at-least-once redo must not send it again.
		return workflows.DeliverResult{Outcome: d.Status, Attempt: d.Attempts}, true, nil
	}
	made := workflows.DeliverResult{Attempt: d.Attempts, SubscriberID: sub.ID}
	discarded := func(reason, logReason string) (workflows.DeliverResult, bool, error) {
		if reason != "" {
			if err := a.store.FinishDelivery(ctx, d.ID, models.DeliveryDiscarded, reason, t.run); err != nil {
				return workflows.DeliverResult{}, true, a.internal(ctx, t, "discard the delivery", err)
			}
		}
		a.metrics.Delivery(models.DeliveryDiscarded)
		t.log.InfoContext(ctx, "delivery discarded", "reason", logReason)
		made.Outcome = workflows.OutcomeDiscarded
		return made, true, nil
	}
	if !job.Installed {
		// The company uninstalled the extension: nothing more goes out, whatever the
		// subscriber's status (a queued delivery ends here when its release wakes it).
		return discarded(models.UninstalledReason(d.ExtensionID, d.CompanyID), "uninstalled")
	}
	discards := sub.DeletedAt.Valid || (sub.Status == models.StatusInactive && sub.InactivePolicy == models.PolicyDiscard)
	if t.in.Inline && sub.Status != models.StatusActive && !discards {
		// Leave the queueing to the delivery's own workflow (see DeliverInput.Inline).
		return workflows.DeliverResult{Outcome: workflows.OutcomeQueued, SubscriberID: sub.ID}, true, nil
	}
	if sub.Status != models.StatusActive || sub.DeletedAt.Valid {
		hold, err := a.store.HoldIfInactive(ctx, d.ID, sub.ID, t.run)
		if err != nil {
			return workflows.DeliverResult{}, true, a.internal(ctx, t, "queue the delivery", err)
		}
		switch hold {
		case store.HoldQueued:
			a.metrics.Delivery(models.DeliveryQueued)
			t.log.InfoContext(ctx, "delivery queued", "subscriber_status", sub.Status)
			made.Outcome = workflows.OutcomeQueued
			return made, true, nil
		case store.HoldDiscarded, store.HoldDeleted, store.HoldUninstalled:
			return discarded("", string(hold))
		}
		// Re-activated in the meantime: go ahead.
	}
	if sub.Event(d.EventSlug) == nil {
		return discarded("the subscriber no longer subscribes to "+d.EventSlug, "unsubscribed")
	}
	return workflows.DeliverResult{}, false, nil
}

// renderFor returns the body to send: the one kept for the series, or the event
// rendered for the subscriber. When the event must not be sent (filtered out, or the
// filter failed) it ends the delivery, and done is true with the activity's answer.
func (a *Activities) renderFor(ctx context.Context, t *try, job *store.DeliveryJob, ev *cachedEvent) (body []byte, res workflows.DeliverResult, done bool, err error) {
	d := &job.Delivery
	if d.RetryBody != nil {
		return d.RetryBody, res, false, nil
	}
	body, outcome, reason := a.render(ctx, ev, job.Subscriber.Event(d.EventSlug))
	if outcome == "" {
		return body, res, false, nil
	}
	if err := a.store.FinishDelivery(ctx, d.ID, outcome, reason, t.run); err != nil {
		return nil, res, true, a.internal(ctx, t, "finish the delivery", err)
	}
	a.metrics.Delivery(outcome)
	t.log.InfoContext(ctx, "delivery not sent", "outcome", outcome, "reason", reason)
	return nil, workflows.DeliverResult{Outcome: outcome, Attempt: d.Attempts, SubscriberID: job.Subscriber.ID}, true, nil
}

// record writes the attempt (its row, the delivery's state, the report's minute) and
// logs and counts it.
func (a *Activities) record(ctx context.Context, t *try, job *store.DeliveryJob, ev *cachedEvent, body []byte, started time.Time, resp webhook.Response) error {
	d := &job.Delivery
	status := models.DeliverySucceeded
	switch {
	case resp.OK():
	case resp.StatusCode == 410:
		status = models.DeliveryFailed
	default:
		status = models.DeliveryRetrying
	}
	rec := store.AttemptRecord{Status: status, Run: t.run, Attempt: models.Attempt{
		DeliveryID: d.ID, OrganizationID: d.OrganizationID, ExtensionID: d.ExtensionID, CompanyID: d.CompanyID,
		SubscriberID: d.SubscriberID, EventSlug: d.EventSlug, Attempt: t.attempt, AttemptedOn: started.UTC(),
		ResponseCode: resp.StatusCode, ResponseTimeMS: float64(resp.Duration.Microseconds()) / 1000,
		ErrorClass: resp.ErrorClass, ResponseBody: string(resp.Body),
	}}
	if !resp.OK() {
		rec.Attempt.Error = resp.Message() // the store keeps its first 1 KiB
	}
	keepBody(&rec, d, body)
	if err := a.store.RecordAttempt(ctx, rec); err != nil {
		return err
	}
	attrs := []any{"status_code", resp.StatusCode, "response_ms", resp.Duration.Milliseconds(), "error_class", resp.ErrorClass}
	if resp.Err != nil {
		// The attempt row keeps the partner-facing reason; the full error is for operators.
		attrs = append(attrs, "error", resp.Err.Error())
	}
	t.log.InfoContext(ctx, "attempt", attrs...)
	a.metrics.Attempt(attemptClass(resp), resp.Duration, resp.StatusCode > 0)
	if t.attempt == 1 {
		a.metrics.Latency("first_attempt", started.Sub(ev.row.AcceptedAt))
	}
	if resp.OK() {
		a.metrics.Latency("success", a.now().Sub(ev.row.AcceptedAt))
		a.metrics.Delivery(models.DeliverySucceeded)
	}
	return nil
}

// failed is the error of a failed attempt other than 410 Gone (see
// workflows.AttemptFailed).
func (a *Activities) failed(t *try, subscriberID int64, resp webhook.Response) error {
	if t.in.Series == nil {
		return attemptFailedV0(subscriberID, t.attempt, resp)
	}
	return workflows.AttemptFailed(t.in.Series, subscriberID, t.attempt, resp.Message(), resp.RetryAfter, a.now())
}

// internal is the error of a try that failed on Hookflow's own account at stage: logged
// with the delivery, counted, and retried after a backoff of its own that starts at a
// second; the attempt is not counted. A row that is missing can never appear by
// retrying, so that failure is permanent.
func (a *Activities) internal(ctx context.Context, t *try, stage string, err error) error {
	if models.ErrorCode(err) == models.ENOTFOUND {
		t.log.ErrorContext(ctx, "delivery cannot be made", "stage", stage, "error", err)
		return temporal.NewNonRetryableApplicationError(models.ErrorMessage(err), workflows.ErrPermanent, err)
	}
	// Tries of this activity that made no attempt, this one included.
	idle := int(t.info.Attempt)
	if t.loadedAttempts >= 0 {
		idle -= t.loadedAttempts - t.in.AttemptOffset
	}
	delay := min(time.Second<<min(max(idle-1, 0), 6), time.Minute)
	a.metrics.InternalFailure(stage)
	t.log.WarnContext(ctx, "internal failure: the attempt will be made again", "stage", stage, "error", err, "retry_in", delay)
	// The message is the error's class, safe to show; the cause keeps the detail for
	// Temporal UI.
	msg := "hookflow: " + models.ErrorMessage(err)
	if t.in.Series == nil {
		return temporal.NewApplicationErrorWithCause(msg, workflows.ErrInternal, err)
	}
	return temporal.NewApplicationErrorWithOptions(msg, workflows.ErrInternal,
		temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: delay})
}

// render applies the subscriber's filter and reducer to the event and builds the body.
// When the event must not be sent it returns the final delivery status and why.
func (a *Activities) render(ctx context.Context, ev *cachedEvent, se *models.SubscriberEvent) (body []byte, outcome, reason string) {
	payloadJSON, contains := ev.row.Payload, ev.contains
	if !se.Filters.IsEmpty() {
		f, err := a.transform.Filter(se.Filters)
		if err != nil {
			return nil, models.DeliveryFilterFail, "filter: " + err.Error()
		}
		ok, err := f.Match(ctx, ev.doc)
		if err != nil {
			return nil, models.DeliveryFilterFail, "filter: " + err.Error()
		}
		if !ok {
			return nil, models.DeliveryFiltered, ""
		}
	}
	if !se.Reducer.IsEmpty() {
		r, err := a.transform.Reducer(se.Reducer)
		if err != nil {
			return nil, models.DeliveryFilterFail, "reducer: " + err.Error()
		}
		reduced, err := r.Apply(ev.doc)
		if err != nil {
			return nil, models.DeliveryFilterFail, "reducer: " + err.Error()
		}
		payloadJSON = payload.Marshal(reduced)
		contains = nil
		if obj, ok := reduced.(*payload.Object); ok {
			contains = obj.Keys()
		}
	}
	return webhook.AppendBody(make([]byte, 0, len(payloadJSON)+512), ev.meta, contains, payloadJSON), "", ""
}

// FailDelivery records that a delivery failed for good and, when asked, blocks its
// subscriber so that new deliveries queue until a user re-activates it. The block and its
// alert are stored together; then every try mails the alerts of this delivery's block not
// sent yet (see sendAlerts and AlertSendTries), so that an alert is sent at least once
// even when a try fails or dies after the block.
func (a *Activities) FailDelivery(ctx context.Context, in workflows.FailInput) error {
	info := activity.GetInfo(ctx)
	run := store.Run{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}
	failed, err := a.store.RecordDeliveryFailed(ctx, in.DeliveryID, in.Reason, run)
	if err != nil {
		return retryable(err)
	}
	if failed {
		a.metrics.Delivery(models.DeliveryFailed)
		a.log.WarnContext(ctx, "delivery failed", "delivery_id", in.DeliveryID, "subscriber_id", in.SubscriberID, "reason", in.Reason)
	}
	if !in.Block {
		return nil
	}
	blocked, n, err := a.store.BlockSubscriberWithAlert(ctx, in.SubscriberID, in.Reason, func(sub *models.Subscriber) *models.Notification {
		return blockedAlert(sub, in.DeliveryID, in.Reason)
	})
	if err != nil {
		return retryable(err)
	}
	if blocked {
		a.log.WarnContext(ctx, "subscriber blocked", "subscriber_id", in.SubscriberID, "delivery_id", in.DeliveryID, "reason", in.Reason,
			"notification_id", n.ID, "has_email", n.Email != "")
	}
	return a.sendAlerts(ctx, in.DeliveryID)
}

// RetryPolicy returns the deployment's delivery retry policy, for runs of the previous
// delivery code that were started without one (redeliveries from an older API; see
// workflows/delivery_v0.go). Every delivery started now carries its policy.
func (a *Activities) RetryPolicy(context.Context) (workflows.RetryPolicy, error) {
	return a.retry, nil
}

// retryable turns a store error into an activity error: a missing row can never appear
// by retrying, so it is permanent; anything else (the database being away) is retried.
func retryable(err error) error {
	if err == nil {
		return nil
	}
	if models.ErrorCode(err) == models.ENOTFOUND {
		return temporal.NewNonRetryableApplicationError(models.ErrorMessage(err), workflows.ErrPermanent, err)
	}
	// The message is the error's class, safe to show: it becomes the delivery's last
	// failure that partners read. The cause keeps the detail for Temporal UI.
	return temporal.NewApplicationErrorWithCause("hookflow: "+models.ErrorMessage(err), workflows.ErrInternal, err)
}

// attemptClass names the outcome class of an attempt for the attempts metric.
func attemptClass(r webhook.Response) string {
	switch {
	case r.StatusCode >= 500:
		return "5xx"
	case r.StatusCode >= 400:
		return "4xx"
	case r.StatusCode >= 300:
		return "3xx"
	case r.StatusCode >= 200:
		return "2xx"
	case r.ErrorClass == models.ErrClassTimeout:
		return "timeout"
	case r.ErrorClass == models.ErrClassRefused:
		return "refused"
	}
	return "connection"
}
