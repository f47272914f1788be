package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The floor shape: the least a design with one child workflow per subscriber costs on a
// Temporal server — a parent that starts one child per subscriber (waiting only for the
// starts, as EventWorkflow does), each child running one no-op activity. Hookflow's
// deliveries per second are reported as a ratio to it.
const floorTaskQueue = "hookflow-bench-floor"

type floorParentInput struct {
	Event    string
	Children int
}

func floorParentWorkflow(ctx workflow.Context, in floorParentInput) error {
	futures := make([]workflow.ChildWorkflowFuture, in.Children)
	for i := range futures {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:        in.Event + ":" + strconv.Itoa(i),
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		})
		futures[i] = workflow.ExecuteChildWorkflow(cctx, floorChildWorkflow, in.Event)
	}
	for _, f := range futures {
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func floorChildWorkflow(ctx workflow.Context, event string) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(actx, floorActivityName, event).Get(ctx, nil)
}

const floorActivityName = "FloorNoop"

// floorRun counts the children's activities as they complete.
type floorRun struct {
	mu   sync.Mutex
	done int
	last time.Time
}

func (r *floorRun) noop(ctx context.Context, _ string) error {
	now := time.Now()
	r.mu.Lock()
	r.done++
	r.last = now
	r.mu.Unlock()
	_ = activity.GetInfo(ctx)
	return nil
}

// runFloor runs events parents of subscribers children each and returns the children's
// completion rate per second.
func runFloor(ctx context.Context, c client.Client, namespace string, opts sdkworker.Options, events, subscribers, senders int) (float64, error) {
	run := &floorRun{}
	w := sdkworker.New(c, floorTaskQueue, opts)
	w.RegisterWorkflow(floorParentWorkflow)
	w.RegisterWorkflow(floorChildWorkflow)
	w.RegisterActivityWithOptions(run.noop, activity.RegisterOptions{Name: floorActivityName})
	if err := w.Start(); err != nil {
		return 0, err
	}
	defer w.Stop()
	want := events * subscribers
	start := time.Now()
	prefix := "floor-" + strconv.FormatInt(start.UnixNano(), 36)
	err := forEach(ctx, events, senders, 0, func(i int) error {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: prefix + "-" + strconv.Itoa(i), TaskQueue: floorTaskQueue},
			floorParentWorkflow, floorParentInput{Event: prefix + "-" + strconv.Itoa(i), Children: subscribers})
		return err
	})
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		run.mu.Lock()
		done, last := run.done, run.last
		run.mu.Unlock()
		if done >= want {
			// Let the parents record their children's completions before the worker
			// stops, so that none of this run's work is left for the next measurement.
			if _, err := waitSettled(ctx, c, namespace, floorTaskQueue, 10*time.Minute); err != nil {
				return 0, fmt.Errorf("floor: waiting for the workflows to close: %w", err)
			}
			return float64(want) / last.Sub(start).Seconds(), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("floor: %d of %d children done after 10 minutes", done, want)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// forEach calls fn(0…n-1) from workers goroutines, at most rate calls a second when rate
// is positive, and returns the first error.
func forEach(ctx context.Context, n, workers int, rate float64, fn func(i int) error) error {
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	start := time.Now()
	var err error
loop:
	for i := 0; i < n; i++ {
		if rate > 0 {
			if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
				time.Sleep(wait)
			}
		}
		select {
		case next <- i:
		case err = <-errs:
			break loop
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}
