package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookflow/hookflow/models"
)

// Retention says how long Hookflow keeps what it stores; Purge removes what is older.
type Retention struct {
	// Records bounds events, deliveries, their attempts and alerts, and bulk-retry jobs,
	// counted from when each ended (a delivery's completion, an event's fan-out).
	Records time.Duration
	// Payloads bounds event payloads and attempts' response bodies: older ones are
	// expunged while the rest of the row stays (an expunged event cannot be redelivered).
	Payloads time.Duration
	// Reports bounds the per-minute rollups that the response-time and delivery reports
	// read (attempt_stats).
	Reports time.Duration
}

// Cutoffs are the instants before which a purge run removes things, fixed for the whole
// run so that a run resumed after a crash removes what the first try would have.
type Cutoffs struct {
	Records, Payloads, Reports time.Time
}

// CutoffsAt returns r's cutoffs for a run at now.
func (r Retention) CutoffsAt(now time.Time) Cutoffs {
	return Cutoffs{Records: now.Add(-r.Records), Payloads: now.Add(-r.Payloads), Reports: now.Add(-r.Reports)}
}

// The phases of a purge run, in order. Deliveries go before events, so that an event
// whose deliveries are removed in this run is removed in this run too.
const (
	PurgeDeliveries     = "deliveries"      // final deliveries, with their attempts and alerts
	PurgeEvents         = "events"          // fanned-out events without deliveries left
	PurgePayloads       = "payloads"        // event payloads expunged
	PurgeResponseBodies = "response_bodies" // attempts' response bodies expunged
	PurgeNotifications  = "notifications"   // alerts (those of a purged delivery go with it)
	PurgeRetryJobs      = "retry_jobs"      // ended bulk-retry jobs
	PurgeAttemptStats   = "attempt_stats"   // report rollups
)

// PurgePhases lists the phases in the order a run takes them.
var PurgePhases = []string{PurgeDeliveries, PurgeEvents, PurgePayloads, PurgeResponseBodies, PurgeNotifications, PurgeRetryJobs, PurgeAttemptStats}

// PurgeCursor is where a purge run stands: the phase it is in and the last row id that
// phase has looked at. The zero value starts a run.
type PurgeCursor struct {
	Phase int   `json:"phase"`
	After int64 `json:"after"`
}

// Done reports whether the run has taken every phase.
func (c PurgeCursor) Done() bool { return c.Phase >= len(PurgePhases) }

// PurgeProgress is where a purge run stands and what it has removed so far.
type PurgeProgress struct {
	Cursor  PurgeCursor      `json:"cursor"`
	Removed map[string]int64 `json:"removed"`
	Batches int              `json:"batches"`
}

// purgeRun is a purge run's progress as the database keeps it, written in the
// transaction of each of its batches: what a run reports is then exactly what it
// removed, however often it was interrupted.
type purgeRun struct {
	ID        string `gorm:"primaryKey;size:200"` // the purge workflow's id and run id
	Phase     int    `gorm:"not null"`
	After     int64  `gorm:"not null"`
	Removed   string `gorm:"not null"` // JSON object: table → rows
	Batches   int    `gorm:"not null"`
	UpdatedAt time.Time
}

func (purgeRun) TableName() string { return "purge_runs" }

// PurgeRunProgress returns the progress recorded for run, the zero progress for a run
// that has not removed anything yet.
func (s *Store) PurgeRunProgress(ctx context.Context, run string) (PurgeProgress, error) {
	p := PurgeProgress{Removed: map[string]int64{}}
	var r purgeRun
	err := s.db.WithContext(ctx).Where("id = ?", run).Limit(1).Find(&r).Error
	if err != nil || r.ID == "" {
		return p, dbError(err, "")
	}
	if err := json.Unmarshal([]byte(r.Removed), &p.Removed); err != nil {
		return p, fmt.Errorf("purge run %s: unreadable counts: %w", run, err)
	}
	p.Cursor, p.Batches = PurgeCursor{Phase: r.Phase, After: r.After}, r.Batches
	return p, nil
}

// PurgeRunBatch takes one batch (see purgeBatch) of the run named run at p: the batch
// and the run's new progress are committed together. It returns that progress and what
// the batch removed.
func (s *Store) PurgeRunBatch(ctx context.Context, run string, c Cutoffs, p PurgeProgress, limit int) (PurgeProgress, map[string]int64, error) {
	var removed map[string]int64
	var next PurgeProgress
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, rm, err := s.purgeBatch(tx, c, p.Cursor, limit)
		if err != nil {
			return err
		}
		removed = rm
		next = PurgeProgress{Cursor: cur, Removed: maps.Clone(p.Removed), Batches: p.Batches + 1}
		if next.Removed == nil {
			next.Removed = map[string]int64{}
		}
		for t, n := range rm {
			next.Removed[t] += n
		}
		counts, err := json.Marshal(next.Removed)
		if err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, UpdateAll: true}).
			Create(&purgeRun{ID: run, Phase: cur.Phase, After: cur.After, Removed: string(counts), Batches: next.Batches, UpdatedAt: s.Now()}).Error
	})
	if err != nil {
		return p, nil, dbError(err, "")
	}
	return next, removed, nil
}

// ForgetPurgeRuns removes the progress of the purge runs other than run last updated
// before cutoff.
func (s *Store) ForgetPurgeRuns(ctx context.Context, run string, cutoff time.Time) error {
	return dbError(s.db.WithContext(ctx).Where("updated_at < ? AND id <> ?", cutoff, run).Delete(&purgeRun{}).Error, "")
}

// purgeBatch takes one batch of the purge at cur: it looks at up to limit rows of the
// phase, in id order, removes (or expunges) those the cutoffs allow, in one transaction,
// and returns the cursor to go on from and what it removed, per table ("attempts" and
// "notifications" count the rows that went with their deliveries). A phase ends at its
// first row too recent for its cutoff (ids grow with time), or at the end of the table.
//
// Nothing that a delivery under way needs is touched: only final deliveries are removed
// (a delivery that a redelivery re-opens between the read and the delete is left, since
// the delete checks the status again), events only once their fan-out has finished and
// no delivery refers to them, and payloads only of events none of whose deliveries is
// under way.
func (s *Store) purgeBatch(db *gorm.DB, c Cutoffs, cur PurgeCursor, limit int) (PurgeCursor, map[string]int64, error) {
	if cur.Done() {
		return cur, nil, nil
	}
	removed := map[string]int64{}
	var last int64
	var more bool
	var err error
	switch PurgePhases[cur.Phase] {
	case PurgeDeliveries:
		last, more, err = s.purgeDeliveries(db, c.Records, cur.After, limit, removed)
	case PurgeEvents:
		last, more, err = s.purgeEvents(db, c.Records, cur.After, limit, removed)
	case PurgePayloads:
		last, more, err = s.expungePayloads(db, c.Payloads, cur.After, limit, removed)
	case PurgeResponseBodies:
		last, more, err = s.expungeResponseBodies(db, c.Payloads, cur.After, limit, removed)
	case PurgeNotifications:
		last, more, err = keysetDelete(db, "notifications", "created_at", c.Records, cur.After, limit, "", removed)
	case PurgeRetryJobs:
		last, more, err = keysetDelete(db, "retry_jobs", "updated_at", c.Records, cur.After, limit,
			fmt.Sprintf("status IN ('%s', '%s')", models.RetryCompleted, models.RetryFailed), removed)
	case PurgeAttemptStats:
		// The rollups have no id: each batch takes the oldest, and the cursor counts
		// the batches.
		last = cur.After + 1
		more, err = s.purgeAttemptStats(db, c.Reports, limit, removed)
	}
	if err != nil {
		return cur, nil, dbError(err, "")
	}
	if more {
		return PurgeCursor{Phase: cur.Phase, After: last}, removed, nil
	}
	return PurgeCursor{Phase: cur.Phase + 1}, removed, nil
}

// finalStatuses are the delivery statuses that end a delivery (models.DeliveryFinal).
var finalStatuses = []string{models.DeliverySucceeded, models.DeliveryFailed, models.DeliveryFiltered, models.DeliveryDiscarded, models.DeliveryFilterFail}

// window reads the ids and times of up to limit rows of table after id after, in id
// order, and returns the ids whose time is before cutoff, the last id read, and whether
// the phase goes on (a full page whose every row was old enough).
func window(tx *gorm.DB, table, timeColumn string, cutoff time.Time, after int64, limit int, where string) (ids []int64, last int64, more bool, err error) {
	type row struct {
		ID int64
		T  time.Time
	}
	var rows []row
	q := tx.Table(table).Select("id, "+timeColumn+" AS t").Where("id > ?", after)
	if where != "" {
		q = q.Where(where)
	}
	if err := q.Order("id").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, 0, false, err
	}
	for _, r := range rows {
		if !r.T.Before(cutoff) {
			return ids, last, false, nil
		}
		ids, last = append(ids, r.ID), r.ID
	}
	return ids, last, len(rows) == limit, nil
}

func (s *Store) purgeDeliveries(db *gorm.DB, cutoff time.Time, after int64, limit int, removed map[string]int64) (int64, bool, error) {
	// created_at bounds the phase (ids follow it); completion decides each row.
	type row struct {
		ID          int64
		Status      string
		CreatedAt   time.Time
		CompletedAt *time.Time
		UpdatedAt   time.Time
	}
	var rows []row
	if err := db.Model(&models.Delivery{}).Select("id, status, created_at, completed_at, updated_at").
		Where("id > ?", after).Order("id").Limit(limit).Scan(&rows).Error; err != nil {
		return 0, false, err
	}
	var ids []int64
	last, more := after, len(rows) == limit
	for _, r := range rows {
		if !r.CreatedAt.Before(cutoff) {
			more = false
			break
		}
		last = r.ID
		ended := r.UpdatedAt
		if r.CompletedAt != nil {
			ended = *r.CompletedAt
		}
		if models.DeliveryFinal(r.Status) && ended.Before(cutoff) {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return last, more, nil
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		// Read again under the rows' locks (SQLite: the transaction holds the write
		// lock), so that a redelivery that re-opened one since keeps it.
		q := tx.Model(&models.Delivery{}).Where("id IN ? AND status IN ? AND coalesce(completed_at, updated_at) < ?", ids, finalStatuses, cutoff)
		if s.dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var goneIDs []int64
		if err := q.Pluck("id", &goneIDs).Error; err != nil || len(goneIDs) == 0 {
			return err
		}
		res := tx.Where("delivery_id IN ?", goneIDs).Delete(&models.Attempt{})
		if res.Error != nil {
			return res.Error
		}
		removed["attempts"] += res.RowsAffected
		res = tx.Where("delivery_id IN ?", goneIDs).Delete(&models.Notification{})
		if res.Error != nil {
			return res.Error
		}
		removed["notifications"] += res.RowsAffected
		res = tx.Where("id IN ?", goneIDs).Delete(&models.Delivery{})
		removed["deliveries"] += res.RowsAffected
		return res.Error
	})
	return last, more, err
}

func (s *Store) purgeEvents(db *gorm.DB, cutoff time.Time, after int64, limit int, removed map[string]int64) (int64, bool, error) {
	ids, last, more, err := window(db, "events", "accepted_at", cutoff, after, limit, "")
	if err != nil || len(ids) == 0 {
		return last, more, err
	}
	res := db.Where("id IN ? AND fanned_out_at IS NOT NULL AND fanned_out_at < ?", ids, cutoff).
		Where("NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_row_id = events.id)").
		Delete(&models.Event{})
	removed["events"] += res.RowsAffected
	return last, more, res.Error
}

func (s *Store) expungePayloads(db *gorm.DB, cutoff time.Time, after int64, limit int, removed map[string]int64) (int64, bool, error) {
	ids, last, more, err := window(db, "events", "accepted_at", cutoff, after, limit, "payload_expunged_at IS NULL")
	if err != nil || len(ids) == 0 {
		return last, more, err
	}
	res := db.Model(&models.Event{}).Where("id IN ? AND fanned_out_at IS NOT NULL AND payload_expunged_at IS NULL", ids).
		Where("NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_row_id = events.id AND d.status NOT IN ?)", finalStatuses).
		Updates(map[string]any{"payload": []byte{}, "payload_expunged_at": s.Now()})
	removed["payloads"] += res.RowsAffected
	return last, more, res.Error
}

func (s *Store) expungeResponseBodies(db *gorm.DB, cutoff time.Time, after int64, limit int, removed map[string]int64) (int64, bool, error) {
	ids, last, more, err := window(db, "attempts", "attempted_on", cutoff, after, limit, "")
	if err != nil || len(ids) == 0 {
		return last, more, err
	}
	res := db.Model(&models.Attempt{}).Where("id IN ? AND response_body <> ''", ids).Update("response_body", "")
	removed["response_bodies"] += res.RowsAffected
	return last, more, res.Error
}

// keysetDelete deletes the rows of table older than cutoff by timeColumn (and matching
// where), one window of ids at a time.
func keysetDelete(db *gorm.DB, table, timeColumn string, cutoff time.Time, after int64, limit int, where string, removed map[string]int64) (int64, bool, error) {
	ids, last, more, err := window(db, table, timeColumn, cutoff, after, limit, where)
	if err != nil || len(ids) == 0 {
		return last, more, err
	}
	sql := "DELETE FROM " + table + " WHERE id IN ?"
	if where != "" {
		sql += " AND " + where
	}
	res := db.Exec(sql, ids)
	removed[table] += res.RowsAffected
	return last, more, res.Error
}

// purgeAttemptStats deletes up to limit report rollups older than cutoff; the table has
// no id, so each batch takes the oldest minutes (idx_attempt_stats_minute).
func (s *Store) purgeAttemptStats(db *gorm.DB, cutoff time.Time, limit int, removed map[string]int64) (bool, error) {
	rowid := "ctid"
	if s.dialect == "sqlite" {
		rowid = "rowid"
	}
	res := db.Exec("DELETE FROM attempt_stats WHERE "+rowid+" IN (SELECT "+rowid+" FROM attempt_stats WHERE minute < ? ORDER BY minute LIMIT ?)", cutoff, limit)
	removed["attempt_stats"] += res.RowsAffected
	return res.Error == nil && res.RowsAffected == int64(limit), res.Error
}

// ReclaimSpace returns the space freed by a purge to the file system where the database
// does not do it by itself: SQLite files in incremental auto-vacuum mode give their free
// pages back (PostgreSQL's autovacuum makes deleted rows' space reusable; see README).
func (s *Store) ReclaimSpace(ctx context.Context) error {
	if s.dialect != "sqlite" {
		return nil
	}
	return dbError(s.db.WithContext(ctx).Exec("PRAGMA incremental_vacuum").Error, "")
}

// purgedTables are the tables a purge deletes from, which VacuumPurged vacuums.
var purgedTables = []string{"attempts", "deliveries", "events", "notifications", "retry_jobs", "attempt_stats"}

// VacuumPurged runs VACUUM (ANALYZE) on the tables a purge deletes from, on PostgreSQL,
// so that their dead rows' space is reused without waiting for autovacuum (or where it is
// off). On SQLite it does nothing (see ReclaimSpace).
func (s *Store) VacuumPurged(ctx context.Context) error {
	if s.dialect != "postgres" {
		return nil
	}
	db := s.db.WithContext(ctx)
	for _, table := range purgedTables {
		if err := db.Exec("VACUUM (ANALYZE) " + table).Error; err != nil {
			return dbError(err, "")
		}
	}
	return nil
}

// StorageStats are the row counts of the tables that grow with traffic and the space the
// application's tables take (PostgreSQL: tables, indexes and TOAST of the schema in use;
// SQLite: the file's pages in use).
type StorageStats struct {
	Rows  map[string]int64 `json:"rows"`
	Bytes int64            `json:"bytes"`
}

// Storage measures s (for soaks and operators' checks; it counts every row, so it is not
// for a hot path).
func (s *Store) Storage(ctx context.Context) (StorageStats, error) {
	db := s.db.WithContext(ctx)
	st := StorageStats{Rows: map[string]int64{}}
	for _, table := range purgedTables {
		var n int64
		if err := db.Table(table).Count(&n).Error; err != nil {
			return st, dbError(err, "")
		}
		st.Rows[table] = n
	}
	var err error
	if s.dialect == "postgres" {
		err = db.Raw(`SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'`).Scan(&st.Bytes).Error
	} else {
		// The file's size, free pages included (incremental vacuum gives them back).
		var pages, size int64
		if err = db.Raw("PRAGMA page_count").Scan(&pages).Error; err == nil {
			err = db.Raw("PRAGMA page_size").Scan(&size).Error
		}
		st.Bytes = pages * size
	}
	return st, dbError(err, "")
}
