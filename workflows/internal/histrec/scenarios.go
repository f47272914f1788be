package main

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/workflows"
)

// scenario drives one case through the API and returns the workflows whose histories it
// records. company is the scenario's own company.
type scenario struct {
	name string
	run  func(ctx context.Context, h *harness, company int64) ([]recording, error)
}

// scenarios are run in order against each mode's server; a scenario's number (from 1)
// is its company id.
var scenarios = []scenario{
	// A receiver that answers 200.
	{"ok", func(ctx context.Context, h *harness, company int64) ([]recording, error) {
		return h.deliverOnce(ctx, company, subscriberSpec{path: pathOK}, "succeeded")
	}},
	// A receiver that fails the first attempt: the second, after the retry wait, succeeds.
	{"retry", func(ctx context.Context, h *harness, company int64) ([]recording, error) {
		return h.deliverOnce(ctx, company, subscriberSpec{path: pathFlaky}, "succeeded")
	}},
	// A receiver that answers 410 Gone: the delivery fails at once and blocks the subscriber.
	{"gone", func(ctx context.Context, h *harness, company int64) ([]recording, error) {
		return h.deliverOnce(ctx, company, subscriberSpec{path: pathGone}, "failed")
	}},
	// A receiver that always fails: the attempts run out and the subscriber is blocked.
	{"exhausted", func(ctx context.Context, h *harness, company int64) ([]recording, error) {
		return h.deliverOnce(ctx, company, subscriberSpec{path: pathFail}, "failed")
	}},
	// A filter that excludes the event: nothing is sent.
	{"filtered", func(ctx context.Context, h *harness, company int64) ([]recording, error) {
		filter := map[string]string{"query": "$.uid", "condition": "(uid) => uid === 2"}
		return h.deliverOnce(ctx, company, subscriberSpec{path: pathOK, filter: filter}, "filtered")
	}},
	// An inactive subscriber whose policy is to discard.
	{"discarded", func(ctx context.Context, h *harness, company int64) ([]recording, error) {
		return h.deliverOnce(ctx, company, subscriberSpec{path: pathOK, status: "inactive", inactivePolicy: "discard"}, "discarded")
	}},
	// An inactive subscriber whose policy is to queue, re-activated once the delivery
	// waits: its ReleaseWorkflow wakes the delivery, which then goes out.
	{"queued", queued},
	// A redelivery of a delivery that succeeded (its original delivery is recorded by "ok").
	{"redelivery", redelivery},
	// A bulk redelivery of one subscriber's succeeded deliveries (the delivery workflow it
	// starts is a redelivery like the one "redelivery" records).
	{"bulkretry", bulkRetry},
	// A run of the retention purge, as its schedule starts it (with dev's retention it
	// finds nothing to remove; its history has the same shape either way).
	{"purge", purge},
}

// deliverOnce creates a subscriber of company, emits one event to it and waits until its
// delivery ends with status want. It records the event's workflow and, when the mode
// started one, the delivery's workflow.
func (h *harness) deliverOnce(ctx context.Context, company int64, spec subscriberSpec, want string) ([]recording, error) {
	recs, _, err := h.emitAndWait(ctx, company, spec, want)
	return recs, err
}

// emitAndWait is deliverOnce that also returns the delivery.
func (h *harness) emitAndWait(ctx context.Context, company int64, spec subscriberSpec, want string) ([]recording, deliveryRow, error) {
	sub, err := h.api.createSubscriber(ctx, company, h.receiver, spec)
	if err != nil {
		return nil, deliveryRow{}, err
	}
	eventID := fmt.Sprintf("evt-%d", company)
	eventWF, err := h.api.emit(ctx, company, eventID)
	if err != nil {
		return nil, deliveryRow{}, err
	}
	// The event workflow completes once its deliveries' workflows (if any) have started.
	if err := h.waitCompleted(ctx, eventWF); err != nil {
		return nil, deliveryRow{}, err
	}
	recs := []recording{{workflows.EventWorkflowName, eventWF}}
	deliveryWF := workflows.DeliveryWorkflowID(company, eventID, sub, 0)
	started, err := h.exists(ctx, deliveryWF)
	if err != nil {
		return nil, deliveryRow{}, err
	}
	if started {
		if err := h.waitCompleted(ctx, deliveryWF); err != nil {
			return nil, deliveryRow{}, err
		}
		recs = append(recs, recording{workflows.DeliveryWorkflowName, deliveryWF})
	}
	d, err := h.waitDelivery(ctx, company, want)
	return recs, d, err
}

func queued(ctx context.Context, h *harness, company int64) ([]recording, error) {
	sub, err := h.api.createSubscriber(ctx, company, h.receiver, subscriberSpec{path: pathOK, status: "inactive", inactivePolicy: "queue"})
	if err != nil {
		return nil, err
	}
	eventID := fmt.Sprintf("evt-%d", company)
	eventWF, err := h.api.emit(ctx, company, eventID)
	if err != nil {
		return nil, err
	}
	if err := h.waitCompleted(ctx, eventWF); err != nil {
		return nil, err
	}
	// Re-activate only once the delivery is queued, so that the release has it to wake.
	if _, err := h.waitDelivery(ctx, company, "queued"); err != nil {
		return nil, err
	}
	if err := h.api.activate(ctx, sub); err != nil {
		return nil, err
	}
	releaseWF := workflows.ReleaseWorkflowID(sub)
	deliveryWF := workflows.DeliveryWorkflowID(company, eventID, sub, 0)
	for _, id := range []string{releaseWF, deliveryWF} {
		if err := h.waitCompleted(ctx, id); err != nil {
			return nil, err
		}
	}
	if _, err := h.waitDelivery(ctx, company, "succeeded"); err != nil {
		return nil, err
	}
	return []recording{
		{workflows.EventWorkflowName, eventWF},
		{workflows.DeliveryWorkflowName, deliveryWF},
		{workflows.ReleaseWorkflowName, releaseWF},
	}, nil
}

func redelivery(ctx context.Context, h *harness, company int64) ([]recording, error) {
	_, d, err := h.emitAndWait(ctx, company, subscriberSpec{path: pathOK}, "succeeded")
	if err != nil {
		return nil, err
	}
	wf, err := h.api.redeliver(ctx, d.DeliveryID)
	if err != nil {
		return nil, err
	}
	if err := h.waitCompleted(ctx, wf); err != nil {
		return nil, err
	}
	if _, err := h.waitDelivery(ctx, company, "succeeded"); err != nil {
		return nil, err
	}
	return []recording{{workflows.DeliveryWorkflowName, wf}}, nil
}

func bulkRetry(ctx context.Context, h *harness, company int64) ([]recording, error) {
	_, d, err := h.emitAndWait(ctx, company, subscriberSpec{path: pathOK}, "succeeded")
	if err != nil {
		return nil, err
	}
	wf, err := h.api.bulkRetry(ctx, d.SubscriberID, "succeeded", h.since)
	if err != nil {
		return nil, err
	}
	if err := h.waitCompleted(ctx, wf); err != nil {
		return nil, err
	}
	return []recording{{workflows.BulkRetryWorkflowName, wf}}, nil
}

func purge(ctx context.Context, h *harness, company int64) ([]recording, error) {
	id := fmt.Sprintf("%s-histrec-%d", workflows.PurgeScheduleID, company)
	if _, err := h.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, workflows.PurgeWorkflowName); err != nil {
		return nil, fmt.Errorf("start the purge: %w", err)
	}
	if err := h.waitCompleted(ctx, id); err != nil {
		return nil, err
	}
	return []recording{{workflows.PurgeWorkflowName, id}}, nil
}
