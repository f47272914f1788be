// Package worker builds Hookflow's Temporal worker: it registers the workflows and the
// activities under the names package workflows uses, on workflows.TaskQueue. It also
// prepares the namespace the worker runs in (EnsureNamespace, RegisterSearchAttributes).
package worker

import (
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/workflows"
)

// Options tunes the worker; zero values take Hookflow's defaults.
type Options struct {
	// MaxConcurrentActivities bounds activities in flight (each is at most one POST).
	MaxConcurrentActivities int
	// MaxConcurrentWorkflowTasks bounds workflow tasks in flight.
	MaxConcurrentWorkflowTasks int
	// WorkflowTaskPollers and ActivityTaskPollers are the long polls kept open per task
	// kind (defaults 16 and 4). Every event starts a workflow, so workflow tasks are the
	// bulk of the work: with the SDK's default of 2 pollers a busy worker idles while
	// tasks wait in the server (measured: 16 pollers raised inline-first throughput by
	// about half).
	WorkflowTaskPollers int
	ActivityTaskPollers int
}

// New returns a worker (not yet started) for every Hookflow workflow and activity.
func New(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     opts.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize: opts.MaxConcurrentWorkflowTasks,
		MaxConcurrentWorkflowTaskPollers:       orDefault(opts.WorkflowTaskPollers, 16),
		MaxConcurrentActivityTaskPollers:       orDefault(opts.ActivityTaskPollers, 4),
		// Heartbeats reach the server at least every second (the SDK's default holds
		// them back up to 80 % of the heartbeat timeout), so that an activity retried
		// after its worker died resumes from a recent position: the purge and the
		// release of queued deliveries heartbeat after every batch.
		MaxHeartbeatThrottleInterval: time.Second,
	})
	Register(w, acts)
	return w
}

// Register registers the workflows and acts' activities on r.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.EventWorkflow, workflow.RegisterOptions{Name: workflows.EventWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.DeliveryWorkflow, workflow.RegisterOptions{Name: workflows.DeliveryWorkflowName})
	r.RegisterActivityWithOptions(acts.PrepareDeliveries, activity.RegisterOptions{Name: workflows.ActivityPrepareDeliveries})
	r.RegisterActivityWithOptions(acts.Deliver, activity.RegisterOptions{Name: workflows.ActivityDeliver})
	r.RegisterActivityWithOptions(acts.FailDelivery, activity.RegisterOptions{Name: workflows.ActivityFailDelivery})
	r.RegisterWorkflowWithOptions(workflows.ReleaseWorkflow, workflow.RegisterOptions{Name: workflows.ReleaseWorkflowName})
	r.RegisterActivityWithOptions(acts.ReleaseQueued, activity.RegisterOptions{Name: workflows.ActivityReleaseQueued})
	r.RegisterWorkflowWithOptions(workflows.BulkRetryWorkflow, workflow.RegisterOptions{Name: workflows.BulkRetryWorkflowName})
	r.RegisterActivityWithOptions(acts.BulkRetry, activity.RegisterOptions{Name: workflows.ActivityBulkRetry})
	r.RegisterActivityWithOptions(acts.RetryPolicy, activity.RegisterOptions{Name: workflows.ActivityRetryPolicy})
	r.RegisterWorkflowWithOptions(workflows.PurgeWorkflow, workflow.RegisterOptions{Name: workflows.PurgeWorkflowName})
	r.RegisterActivityWithOptions(acts.Purge, activity.RegisterOptions{Name: workflows.ActivityPurge})
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
