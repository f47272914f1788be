package activities

import (
	"context"
	"strconv"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/workflows"
)

// Deliver makes one attempt of a delivery: it checks that the subscriber is active
// (otherwise the delivery queues or is discarded), applies the subscriber's filter and
// reducer to the event, signs and POSTs the envelope, and records the attempt. A 2xx
// answer succeeds; 410 Gone fails without retry (ErrSubscriberGone); any other failure
// returns an ErrAttemptFailed error that Temporal retries under the delivery's retry
// policy, or, when the receiver sent Retry-After, an ErrRetryAfter error with which the
// workflow schedules the next attempt itself. A retry sends the body its series' first
// attempt sent (see keepBody).
func (a *Activities) Deliver(ctx context.Context, in workflows.DeliverInput) (workflows.DeliverResult, error) {
	info := activity.GetInfo(ctx)
	attempt := in.AttemptOffset + int(info.Attempt)
	run := models.Run{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}
	log := a.log.With("delivery_id", in.DeliveryID, "workflow_id", info.WorkflowExecution.ID, "attempt", attempt)

	job, err := a.store.LoadDeliveryJob(ctx, in.DeliveryID)
	if err != nil {
		return workflows.DeliverResult{}, retryable(err)
	}
	d, sub := &job.Delivery, &job.Subscriber
	if models.DeliveryFinal(d.Status) {
		// Delivered (or ended) before: an at-least-once redo must not send it again.
		return workflows.DeliverResult{Outcome: d.Status, Attempt: d.Attempts}, nil
	}
	log = log.With("subscriber_id", sub.ID, "event_id", d.EventID)
	if !job.Installed {
		// The company uninstalled the extension: nothing more goes out, whatever the
		// subscriber's status (a queued delivery ends here when its release wakes it).
		if err := a.store.FinishDelivery(ctx, d.ID, models.DeliveryDiscarded, models.UninstalledReason(d.ExtensionID, d.CompanyID), run); err != nil {
			return workflows.DeliverResult{}, retryable(err)
		}
		a.metrics.Delivery(models.DeliveryDiscarded)
		log.InfoContext(ctx, "delivery discarded", "reason", "uninstalled")
		return workflows.DeliverResult{Outcome: workflows.OutcomeDiscarded, Attempt: attempt - 1, SubscriberID: sub.ID}, nil
	}
	discards := sub.DeletedAt.Valid || (sub.Status == models.StatusInactive && sub.InactivePolicy == models.PolicyDiscard)
	if in.Inline && sub.Status != models.StatusActive && !discards {
		// Leave the queueing to the delivery's own workflow (see DeliverInput.Inline).
		return workflows.DeliverResult{Outcome: workflows.OutcomeQueued, SubscriberID: sub.ID}, nil
	}
	if sub.Status != models.StatusActive || sub.DeletedAt.Valid {
		hold, err := a.store.HoldIfInactive(ctx, d.ID, sub.ID, run)
		if err != nil {
			return workflows.DeliverResult{}, retryable(err)
		}
		switch hold {
		case models.HoldQueued:
			a.metrics.Delivery(models.DeliveryQueued)
			log.InfoContext(ctx, "delivery queued", "subscriber_status", sub.Status)
			return workflows.DeliverResult{Outcome: workflows.OutcomeQueued, Attempt: attempt - 1, SubscriberID: sub.ID}, nil
		case models.HoldDiscarded, models.HoldDeleted, models.HoldUninstalled:
			a.metrics.Delivery(models.DeliveryDiscarded)
			log.InfoContext(ctx, "delivery discarded", "reason", string(hold))
			return workflows.DeliverResult{Outcome: workflows.OutcomeDiscarded, Attempt: attempt - 1, SubscriberID: sub.ID}, nil
		}
		// Re-activated in the meantime: go ahead.
	}
	subEvent := sub.Event(d.EventSlug)
	if subEvent == nil {
		reason := "the subscriber no longer subscribes to " + d.EventSlug
		if err := a.store.FinishDelivery(ctx, d.ID, models.DeliveryDiscarded, reason, run); err != nil {
			return workflows.DeliverResult{}, retryable(err)
		}
		a.metrics.Delivery(models.DeliveryDiscarded)
		return workflows.DeliverResult{Outcome: workflows.OutcomeDiscarded, Attempt: attempt - 1, SubscriberID: sub.ID}, nil
	}
	ev, err := a.events.get(ctx, a.store, in.EventRowID)
	if err != nil {
		return workflows.DeliverResult{}, retryable(err)
	}

	body, outcome, reason := d.RetryBody, "", ""
	if body == nil {
		body, outcome, reason = a.render(ctx, ev, subEvent)
	}
	if outcome != "" {
		if err := a.store.FinishDelivery(ctx, d.ID, outcome, reason, run); err != nil {
			return workflows.DeliverResult{}, retryable(err)
		}
		a.metrics.Delivery(outcome)
		log.InfoContext(ctx, "delivery not sent", "outcome", outcome, "reason", reason)
		return workflows.DeliverResult{Outcome: outcome, Attempt: attempt - 1, SubscriberID: sub.ID}, nil
	}

	started := a.now()
	resp := a.sender.Send(ctx, webhook.Request{
		URL: sub.WebhookURL, Body: body, Secrets: sub.SigningSecrets(started),
		MessageID: MessageID(d.ID), EventID: d.EventID, CustomHeaders: sub.CustomHeaders,
		Timeout: sub.Timeout(), Now: started,
	})
	status := models.DeliverySucceeded
	switch {
	case resp.OK():
	case resp.StatusCode == 410:
		status = models.DeliveryFailed
	default:
		status = models.DeliveryRetrying
	}
	rec := models.AttemptRecord{Status: status, Run: run, Attempt: models.Attempt{
		DeliveryID: d.ID, OrganizationID: d.OrganizationID, ExtensionID: d.ExtensionID, CompanyID: d.CompanyID,
		SubscriberID: d.SubscriberID, EventSlug: d.EventSlug, Attempt: attempt, AttemptedOn: started.UTC(),
		ResponseCode: resp.StatusCode, ResponseTimeMS: float64(resp.Duration.Microseconds()) / 1000,
		ErrorClass: resp.ErrorClass, ResponseBody: string(resp.Body),
	}}
	if !resp.OK() {
		rec.Attempt.Error = truncate(resp.Message(), 1024)
	}
	keepBody(&rec, d, body)
	if err := a.store.RecordAttempt(ctx, rec); err != nil {
		log.ErrorContext(ctx, "record attempt", "error", err)
		return workflows.DeliverResult{}, retryable(err)
	}
	attrs := []any{"status_code", resp.StatusCode, "response_ms", resp.Duration.Milliseconds(), "error_class", resp.ErrorClass}
	if resp.Err != nil {
		// The attempt row keeps the partner-facing reason; the full error is for operators.
		attrs = append(attrs, "error", resp.Err.Error())
	}
	log.InfoContext(ctx, "attempt", attrs...)
	a.metrics.Attempt(attemptClass(resp), resp.Duration, resp.StatusCode > 0)
	if attempt == 1 {
		a.metrics.Latency("first_attempt", started.Sub(ev.row.AcceptedAt))
	}
	if resp.OK() {
		a.metrics.Latency("success", a.now().Sub(ev.row.AcceptedAt))
		a.metrics.Delivery(models.DeliverySucceeded)
	}

	switch {
	case resp.OK():
		return workflows.DeliverResult{Outcome: workflows.OutcomeSucceeded, Attempt: attempt, StatusCode: resp.StatusCode,
			SubscriberID: sub.ID, LatencyMS: rec.Attempt.ResponseTimeMS}, nil
	case resp.StatusCode == 410:
		return workflows.DeliverResult{}, temporal.NewNonRetryableApplicationError(
			"the receiver answered 410 Gone", workflows.ErrSubscriberGone, nil)
	}
	return workflows.DeliverResult{}, attemptFailed(sub.ID, attempt, resp)
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

// MessageID is the webhook-id of a delivery: the same for every attempt and every
// redelivery of it, so that receivers can drop duplicates.
func MessageID(deliveryID int64) string {
	return "msg_" + strconv.FormatInt(deliveryID, 10)
}

// FailDelivery records that a delivery failed for good and, when asked, blocks its
// subscriber so that new deliveries queue until a user re-activates it. The block and its
// alert are stored together; then every try mails the alerts of this delivery's block not
// sent yet (see sendAlerts and AlertSendTries), so that an alert is sent at least once
// even when a try fails or dies after the block.
func (a *Activities) FailDelivery(ctx context.Context, in workflows.FailInput) error {
	info := activity.GetInfo(ctx)
	run := models.Run{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}
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

// RetryPolicy returns the deployment's delivery retry policy, for deliveries started
// without one (redeliveries started by the API).
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
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
