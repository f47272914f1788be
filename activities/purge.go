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
// p99 within 1.4× of their p99 without one (BENCHMARKS.md), at about 77,000 rows/s.
const DefaultPurgeBatch = 100

type purgeStore interface {
	PurgeBatch(ctx context.Context, c store.Cutoffs, cur store.PurgeCursor, limit int) (store.PurgeCursor, map[string]int64, error)
	ReclaimSpace(ctx context.Context) error
	VacuumPurged(ctx context.Context) error
}

// purgeProgress is the Purge activity's heartbeat: where the run stands and what it has
// removed so far, so that a retry resumes there and reports the whole run.
type purgeProgress struct {
	Cursor  store.PurgeCursor `json:"cursor"`
	Removed map[string]int64  `json:"removed"`
	Batches int               `json:"batches"`
}

// Purge removes what the retention policy allows (store.PurgeBatch), one batch per
// transaction, heartbeating after each; a retry resumes from the last heartbeat. Without
// a retention policy (Deps.Retention zero) it removes nothing.
func (a *Activities) Purge(ctx context.Context, in workflows.PurgeInput) (workflows.PurgeResult, error) {
	p := purgeProgress{Removed: map[string]int64{}}
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &p); err != nil {
			a.log.Warn("purge: unreadable heartbeat, starting over", "error", err)
			p = purgeProgress{Removed: map[string]int64{}}
		}
		if p.Removed == nil {
			p.Removed = map[string]int64{}
		}
	}
	if a.retention == (store.Retention{}) {
		return workflows.PurgeResult{Removed: p.Removed}, nil
	}
	cutoffs := a.retention.CutoffsAt(in.Now)
	for !p.Cursor.Done() {
		began := time.Now()
		next, removed, err := a.store.PurgeBatch(ctx, cutoffs, p.Cursor, a.purgeBatch)
		if err != nil {
			return workflows.PurgeResult{}, fmt.Errorf("purge %s after id %d: %w", store.PurgePhases[p.Cursor.Phase], p.Cursor.After, err)
		}
		for table, n := range removed {
			p.Removed[table] += n
			a.metrics.Purged(table, n)
		}
		p.Cursor = next
		p.Batches++
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
