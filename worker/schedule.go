package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/workflows"
)

// DefaultPurgeInterval is how often the purge schedule runs when none is configured.
const DefaultPurgeInterval = time.Hour

// ScheduleState says what EnsurePurgeSchedule did.
type ScheduleState string

const (
	ScheduleCreated   ScheduleState = "created"
	ScheduleUpdated   ScheduleState = "updated"
	ScheduleUnchanged ScheduleState = "unchanged"
)

// EnsurePurgeSchedule makes the Temporal Schedule workflows.PurgeScheduleID exist and run
// workflows.PurgeWorkflow every interval. An existing schedule gets the interval (its
// paused state, and a pause note an operator left, stay); concurrent calls from several
// processes agree, since the schedule's id is fixed. Runs never overlap: a run still going
// when the next is due makes that one skipped.
func EnsurePurgeSchedule(ctx context.Context, c client.Client, interval time.Duration) (ScheduleState, error) {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}}
	action := &client.ScheduleWorkflowAction{
		ID:                       workflows.PurgeScheduleID,
		Workflow:                 workflows.PurgeWorkflowName,
		TaskQueue:                workflows.TaskQueue,
		WorkflowExecutionTimeout: 24 * time.Hour,
	}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      workflows.PurgeScheduleID,
		Spec:    spec,
		Action:  action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Note:    "Hookflow's retention purge (HOOKFLOW_RETENTION); pausing it stops purging",
	})
	if err == nil {
		return ScheduleCreated, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return "", fmt.Errorf("create the purge schedule: %w", err)
	}
	state := ScheduleUnchanged
	err = c.ScheduleClient().GetHandle(ctx, workflows.PurgeScheduleID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			if s.Spec != nil && len(s.Spec.Intervals) == 1 && s.Spec.Intervals[0].Every == interval && len(s.Spec.Calendars) == 0 && len(s.Spec.CronExpressions) == 0 {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			s.Spec, s.Action = &spec, action
			state = ScheduleUpdated
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return "", fmt.Errorf("update the purge schedule: %w", err)
	}
	return state, nil
}
