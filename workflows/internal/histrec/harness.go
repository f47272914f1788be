package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
)

// harness is what the scenarios share within one mode.
type harness struct {
	mode     string
	api      *apiClient
	temporal client.Client
	receiver string    // the receiver's base URL
	since    time.Time // before every delivery of this run
}

// recording is a workflow whose history a scenario records.
type recording struct {
	workflowType string
	workflowID   string
}

const pollInterval = 50 * time.Millisecond

// exists reports whether a workflow with id was started.
func (h *harness) exists(ctx context.Context, id string) (bool, error) {
	_, err := h.temporal.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return false, nil
	}
	return err == nil, err
}

// waitCompleted waits until the latest run of workflow id has closed, and fails unless
// it completed.
func (h *harness) waitCompleted(ctx context.Context, id string) error {
	for {
		resp, err := h.temporal.DescribeWorkflowExecution(ctx, id, "")
		var notFound *serviceerror.NotFound
		if err != nil && !errors.As(err, &notFound) {
			return fmt.Errorf("describe workflow %s: %w", id, err)
		}
		if err == nil {
			switch status := resp.GetWorkflowExecutionInfo().GetStatus(); status {
			case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
			case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
				return nil
			default:
				return fmt.Errorf("workflow %s ended %s", id, status)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for workflow %s: %w", id, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// waitDelivery waits until company's only delivery has status want, and returns it.
func (h *harness) waitDelivery(ctx context.Context, company int64, want string) (deliveryRow, error) {
	var last []deliveryRow
	for {
		rows, err := h.api.deliveries(ctx, company, h.since)
		if err != nil {
			return deliveryRow{}, err
		}
		if len(rows) == 1 && rows[0].Status == want {
			return rows[0], nil
		}
		last = rows
		select {
		case <-ctx.Done():
			return deliveryRow{}, fmt.Errorf("wait for the delivery of company %d to be %s (have %+v): %w", company, want, last, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// save writes the history of each recording to dir as <mode>-<type>-<scenario>.json.
func (h *harness) save(ctx context.Context, dir, scenario string, recs []recording) error {
	for _, r := range recs {
		hist, err := h.history(ctx, r.workflowID)
		if err != nil {
			return err
		}
		got := hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
		if got != r.workflowType {
			return fmt.Errorf("workflow %s is a %s, want %s", r.workflowID, got, r.workflowType)
		}
		// The format of `temporal workflow show --output json`, which
		// worker.WorkflowReplayer reads.
		b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(hist)
		if err != nil {
			return err
		}
		name := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.json", h.mode, r.workflowType, scenario))
		if err := os.WriteFile(name, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// history reads the whole history of the latest run of workflow id.
func (h *harness) history(ctx context.Context, id string) (*historypb.History, error) {
	it := h.temporal.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	hist := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read the history of %s: %w", id, err)
		}
		hist.Events = append(hist.Events, ev)
	}
	if len(hist.Events) == 0 {
		return nil, fmt.Errorf("workflow %s has no history", id)
	}
	return hist, nil
}
