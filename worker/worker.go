// Package worker builds Hookflow's Temporal worker: it registers the workflows and the
// activities under the names package workflows uses, on workflows.TaskQueue.
package worker

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
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
}

// RegisterSearchAttributes adds Hookflow's custom search attributes to namespace, skipping
// those that exist. It is idempotent; `hookflow migrate` and `hookflow dev` call it.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range workflows.SearchAttributes() {
		if have, ok := existing.GetCustomAttributes()[name]; ok {
			if have != typ {
				return fmt.Errorf("search attribute %s exists with type %s, want %s", name, have, typ)
			}
			continue
		}
		missing[name] = typ
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	if err != nil {
		return fmt.Errorf("add search attributes to namespace %s: %w", namespace, err)
	}
	return nil
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
