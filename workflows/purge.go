package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// PurgeWorkflowName is the workflow that applies the retention policy: the Temporal
// Schedule PurgeScheduleID starts it at its interval (see worker.EnsurePurgeSchedule).
const PurgeWorkflowName = "PurgeWorkflow"

// ActivityPurge removes what retention allows; see PurgeWorkflow.
const ActivityPurge = "Purge"

// PurgeScheduleID is the Temporal Schedule that runs PurgeWorkflow, visible (and
// pausable) in Temporal UI's Schedules page; each run's workflow id begins with it.
const PurgeScheduleID = "hookflow-purge"

// PurgeInput is the input of the Purge activity: the instant the retention windows are
// counted back from, fixed by the workflow so that a retried activity removes what the
// first try would have.
type PurgeInput struct {
	Now time.Time `json:"now"`
}

// PurgeResult is what a purge run removed: rows per table (payloads and response_bodies
// count the rows emptied), and the batches it took.
type PurgeResult struct {
	Removed map[string]int64 `json:"removed"`
	Batches int              `json:"batches"`
}

// PurgeWorkflow runs one purge: a single activity that deletes in bounded batches,
// heartbeating its position, so that after a crash the retry resumes where the last
// heartbeat left it. Its result, in Temporal UI, says what the run removed.
func PurgeWorkflow(ctx workflow.Context) (PurgeResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 6 * time.Hour,    // a first purge of years of data takes long
		HeartbeatTimeout:    10 * time.Second, // a batch takes milliseconds: a dead worker's run resumes soon
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    0, // Hookflow's own failures (its database away) never end a run
		},
	})
	var res PurgeResult
	err := workflow.ExecuteActivity(actx, ActivityPurge, PurgeInput{Now: workflow.Now(ctx)}).Get(ctx, &res)
	return res, err
}
