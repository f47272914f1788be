package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ReleaseWorkflowName is the workflow that releases a subscriber's queued deliveries.
const ReleaseWorkflowName = "ReleaseWorkflow"

// ActivityReleaseQueued releases queued deliveries; see ReleaseWorkflow.
const ActivityReleaseQueued = "ReleaseQueued"

// SignalRescan asks a running ReleaseWorkflow to look for queued deliveries once more
// after its current pass.
const SignalRescan = "rescan"

// ReleaseWorkflowID returns the id of a subscriber's release workflow; there is at most
// one at a time per subscriber.
func ReleaseWorkflowID(subscriberID int64) string {
	return "release:" + strconv.FormatInt(subscriberID, 10)
}

// ReleaseInput is the input of ReleaseWorkflow and of the ReleaseQueued activity.
type ReleaseInput struct {
	SubscriberID int64 `json:"subscriber_id"`
}

// ReleaseResult is the result of the ReleaseQueued activity.
type ReleaseResult struct {
	Released int `json:"released"`
}

// ReleaseWorkflow wakes every queued delivery of a subscriber that became active (or was
// deleted), oldest first, a few at a time so that the receiver is not flooded with its
// backlog at once. It is started with a signal (SignalRescan): a re-activation while a
// pass is running asks for one more pass instead of starting a second workflow.
func ReleaseWorkflow(ctx workflow.Context, in ReleaseInput) (ReleaseResult, error) {
	rescan := workflow.GetSignalChannel(ctx, SignalRescan)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 24 * time.Hour, // a long backlog is released at the receiver's pace
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second, // resume from the last heartbeat soon
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    0, // queued deliveries must not be forgotten
		},
	})
	var total ReleaseResult
	for {
		for rescan.ReceiveAsync(nil) {
		}
		var res ReleaseResult
		if err := workflow.ExecuteActivity(actx, ActivityReleaseQueued, in).Get(ctx, &res); err != nil {
			return total, err
		}
		total.Released += res.Released
		if !rescan.ReceiveAsync(nil) {
			return total, nil
		}
	}
}
