package apiserver

import (
	"net/url"
	"strings"
	"time"
)

// LiveState is what Temporal says about a delivery's workflow right now.
type LiveState struct {
	WorkflowStatus string // RUNNING, COMPLETED, FAILED, TERMINATED, …
	RunID          string
	// Phase is what the running delivery does: attempting, waiting_retry, retrying,
	// waiting_release or throttled (see workflows.DeliveryState); empty when unknown.
	Phase string
	// ThrottledBy names the flow limit a throttled delivery waits for: rate_limit,
	// max_in_flight or push_back.
	ThrottledBy string
	// CurrentAttempt is the number of the attempt under way or next as the workflow
	// knows it, 0 when unknown; the delivery row's count of attempts is exact.
	CurrentAttempt int
	NextAttemptAt  *time.Time // when the next attempt is scheduled
	LastFailure    string
	// WaitingForRelease is true when the workflow waits for its subscriber to become
	// active again.
	WaitingForRelease bool
}

// UIURL returns the Temporal UI page of a workflow run, or of the workflow's latest run
// when runID is empty; "" when no UI base URL is known.
func UIURL(base, namespace, workflowID, runID string) string {
	if base == "" {
		return ""
	}
	base = strings.TrimRight(base, "/") + "/namespaces/" + url.PathEscape(namespace) + "/workflows"
	if runID == "" {
		return base + "?query=" + url.QueryEscape(`WorkflowId="`+workflowID+`"`)
	}
	return base + "/" + url.PathEscape(workflowID) + "/" + url.PathEscape(runID) + "/history"
}
