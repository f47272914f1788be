package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// DefaultPurgeBatch is how many rows a purge transaction looks at (for deliveries, with
// their attempts: about ten times as many rows go): small enough that each transaction
// holds its locks briefly and autovacuum keeps up with the deletes. With the pause after
// each batch (see Purge), deliveries made during a purge of 1,000,000 attempts kept their
// p99 within 1.5× of their p99 without one (BENCHMARKS.md), at 29,000–65,000 rows/s.
const DefaultPurgeBatch = 100

type purgeStore interface {
	PurgeRunProgress(ctx context.Context, run string) (store.PurgeProgress, error)
	PurgeRunBatch(ctx context.Context, run string, c store.Cutoffs, p store.PurgeProgress, limit int) (store.PurgeProgress, map[string]int64, error)
	ForgetPurgeRuns(ctx context.Context, run string, cutoff time.Time) error
	ReclaimSpace(ctx context.Context) error
	VacuumPurged(ctx context.Context) error
}

// Purge removes what the retention policy allows (store.PurgeRunBatch), one batch per
// transaction. Each batch commits the run's progress with its deletes, so that a retry
// (after a crash, or a worker lost mid-run) resumes exactly where the last batch ended
// and the result counts every row the run removed, once. It heartbeats after each batch
// so that Temporal notices a lost worker within the heartbeat timeout. Without a
// retention policy (Deps.Retention zero) it removes nothing.
func (a *Activities) Purge(ctx context.Context, in workflows.PurgeInput) (workflows.PurgeResult, error) {
	if a.retention == (store.Retention{}) {
		return workflows.PurgeResult{Removed: map[string]int64{}}, nil
	}
	info := activity.GetInfo(ctx)
	run := info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
	p, err := a.store.PurgeRunProgress(ctx, run)
	if err != nil {
		return workflows.PurgeResult{}, fmt.Errorf("purge: read the run's progress: %w", err)
	}
	cutoffs := a.retention.CutoffsAt(in.Now)
	for !p.Cursor.Done() {
		began := time.Now()
		next, removed, err := a.store.PurgeRunBatch(ctx, run, cutoffs, p, a.purgeBatch)
		if err != nil {
			return workflows.PurgeResult{}, fmt.Errorf("purge %s after id %d: %w", store.PurgePhases[p.Cursor.Phase], p.Cursor.After, err)
		}
		for table, n := range removed {
			a.metrics.Purged(table, n)
		}
		p = next
		activity.RecordHeartbeat(ctx, p)
		// Yield to the deliveries: wait as long as the batch took, so that the purge
		// takes at most half of the database's time however large the backlog.
		if !p.Cursor.Done() {
			pause := time.NewTimer(time.Since(began))
			select {
			case <-ctx.Done():
				pause.Stop()
				return workflows.PurgeResult{}, ctx.Err()
			case <-pause.C:
			}
		}
	}
	// A run's progress is kept as long as the records it purged would have been.
	if err := a.store.ForgetPurgeRuns(ctx, run, cutoffs.Records); err != nil {
		a.log.Warn("purge: forget old runs", "error", err)
	}
	if err := a.store.ReclaimSpace(ctx); err != nil {
		// The rows are gone; the space comes back at the next run.
		a.log.Warn("purge: reclaim space", "error", err)
	}
	if a.purgeVacuum {
		if err := a.store.VacuumPurged(ctx); err != nil {
			a.log.Warn("purge: vacuum", "error", err)
		}
	}
	a.log.Info("purge done", "removed", p.Removed, "batches", p.Batches)
	return workflows.PurgeResult{Removed: p.Removed, Batches: p.Batches}, nil
}
