package store

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookflow/hookflow/models"
)

// maxAttemptBatch bounds the attempts committed in one transaction.
const maxAttemptBatch = 128

// attemptTries bounds the tries to commit one batch, and attemptTryTimeout each of them:
// a try that waits on a lock longer than that is abandoned and the batch tried again,
// while any of its callers still waits for it.
const (
	attemptTries      = 5
	attemptTryTimeout = 10 * time.Second
)

// attemptWriter commits attempt records in groups: a record waits while the previous
// transaction commits, and every record that arrived meanwhile goes into the next one.
// Under load many deliveries share one transaction (one commit, one round of locks)
// instead of each taking the database's single write lock in turn; alone, a record is
// written at once. A caller returns only once its record is committed.
type attemptWriter struct {
	s          *Store
	reqs       chan *attemptRequest
	done       chan struct{}
	tryTimeout time.Duration           // attemptTryTimeout; tests shorten it
	onTry      func([]*attemptRequest) // tests: called as each try of a batch begins
}

type attemptRequest struct {
	// ctx is the caller's: once the contexts of all of a batch's callers have ended, the
	// writer stops trying to commit it.
	ctx context.Context
	rec AttemptRecord
	err chan error
}

func newAttemptWriter(s *Store) *attemptWriter {
	w := &attemptWriter{s: s, reqs: make(chan *attemptRequest, maxAttemptBatch), done: make(chan struct{}), tryTimeout: attemptTryTimeout}
	go w.run()
	return w
}

func (w *attemptWriter) write(ctx context.Context, rec AttemptRecord) error {
	req := &attemptRequest{ctx: ctx, rec: rec, err: make(chan error, 1)}
	select {
	case w.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return &models.Error{Code: models.EUNAVAILABLE, Message: "the store is closed"}
	}
	select {
	case err := <-req.err:
		return err
	case <-ctx.Done():
		// The record may still be committed; the caller retries, and the attempt's
		// unique (delivery, attempt) key keeps it once.
		return ctx.Err()
	}
}

func (w *attemptWriter) stop() {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
}

func (w *attemptWriter) run() {
	for {
		var batch []*attemptRequest
		select {
		case req := <-w.reqs:
			batch = append(batch, req)
		case <-w.done:
			return
		}
	drain:
		for len(batch) < maxAttemptBatch {
			select {
			case req := <-w.reqs:
				batch = append(batch, req)
			default:
				break drain
			}
		}
		w.process(batch)
	}
}

// process commits a batch and answers each of its callers. When the database refuses
// the batch (rather than being away), it writes the records one by one: the record at
// fault fails alone, and the others' callers, often other tenants' deliveries, are not
// made to POST again.
func (w *attemptWriter) process(batch []*attemptRequest) {
	err := w.commit(batch)
	if err != nil && len(batch) > 1 && models.ErrorCode(err) != models.EUNAVAILABLE {
		w.s.log.Warn("attempt batch refused; writing its records one by one", "records", len(batch), "error", err)
		for _, req := range batch {
			req.err <- w.commitOne(req)
		}
		return
	}
	if err != nil && len(batch) == 1 {
		err = w.refused(batch[0], err)
	}
	for _, req := range batch {
		req.err <- err
	}
}

// commitOne writes one record in its own transaction.
func (w *attemptWriter) commitOne(req *attemptRequest) error {
	err := w.commit([]*attemptRequest{req})
	if err != nil {
		return w.refused(req, err)
	}
	return nil
}

// refused logs why a record could not be written, with its delivery, and returns the
// error its caller gets.
func (w *attemptWriter) refused(req *attemptRequest, err error) error {
	w.s.log.Error("record attempt", "delivery_id", req.rec.Attempt.DeliveryID, "attempt", req.rec.Attempt.Attempt, "error", err)
	return err
}

// commit writes a batch in one transaction, trying again a few times when another writer
// holds the database's lock or a try outlasts its own deadline, for as long as one of
// the batch's callers still waits. Once none does it stops, even in the middle of a try,
// and returns EUNAVAILABLE (which nobody reads).
func (w *attemptWriter) commit(batch []*attemptRequest) error {
	waiting, stop := waitingContext(batch)
	defer stop()
	gone := func() error {
		return &models.Error{Code: models.EUNAVAILABLE, Message: "no caller waits for the attempts any more", Err: waiting.Err()}
	}
	var err error
	for try := 0; try < attemptTries; try++ {
		if try > 0 {
			select {
			case <-time.After(time.Duration(10<<try) * time.Millisecond):
			case <-waiting.Done():
				return gone()
			}
		}
		if w.onTry != nil {
			w.onTry(batch)
		}
		tryCtx, cancel := context.WithTimeout(waiting, w.tryTimeout)
		err = w.s.db.WithContext(tryCtx).Transaction(func(tx *gorm.DB) error { return w.s.writeAttempts(tx, batch) })
		// Only this try's own deadline: when the callers' contexts end, tryCtx ends with
		// context.Canceled.
		timedOut := errors.Is(tryCtx.Err(), context.DeadlineExceeded)
		cancel()
		switch {
		case err == nil:
			return nil
		case waiting.Err() != nil:
			return gone()
		case !timedOut && !transientLock(err):
			return dbError(err, "")
		}
	}
	return dbError(err, "")
}

// waitingContext returns a context that ends once every caller of batch has stopped
// waiting (its context has ended), and the function that releases it.
func waitingContext(batch []*attemptRequest) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	var left atomic.Int64
	left.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, req := range batch {
		stops[i] = context.AfterFunc(req.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// transientLock reports whether err is another writer holding the database's lock. A
// deadline is not a lock: whose deadline passed decides whether to try again.
func transientLock(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "database table is locked") ||
		strings.Contains(msg, "SQLITE_BUSY")
}

// statKey identifies an AttemptStat row.
type statKey struct {
	org, ext string
	minute   time.Time
	code     int
	attempt  int
}

// attemptColumns are the columns writeAttempts inserts, in order.
const attemptColumns = "delivery_id, organization_id, extension_id, company_id, subscriber_id, event_slug, attempt, " +
	"attempted_on, response_code, response_time_ms, error, error_class, response_body"

func (s *Store) writeAttempts(tx *gorm.DB, batch []*attemptRequest) error {
	// One multi-row INSERT for the batch; RETURNING names the rows that were new, so that
	// an attempt recorded twice (a retried activity) is summed once.
	var sql strings.Builder
	sql.WriteString("INSERT INTO attempts (" + attemptColumns + ") VALUES ")
	args := make([]any, 0, len(batch)*13)
	for i, req := range batch {
		a := &req.rec.Attempt
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, a.DeliveryID, a.OrganizationID, a.ExtensionID, a.CompanyID, a.SubscriberID, a.EventSlug, a.Attempt,
			a.AttemptedOn.UTC(), a.ResponseCode, a.ResponseTimeMS, storableText(a.Error, 1024), a.ErrorClass,
			storableText(a.ResponseBody, models.MaxResponseBody))
	}
	sql.WriteString(" ON CONFLICT (delivery_id, attempt) DO NOTHING RETURNING delivery_id, attempt")
	rows, err := tx.Raw(sql.String(), args...).Rows()
	if err != nil {
		return err
	}
	type key struct {
		delivery int64
		attempt  int
	}
	inserted := map[key]bool{}
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.delivery, &k.attempt); err != nil {
			rows.Close()
			return err
		}
		inserted[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	stats := map[statKey]*models.AttemptStat{}
	var order []statKey
	for _, req := range batch {
		rec := req.rec
		a := rec.Attempt
		if inserted[key{a.DeliveryID, a.Attempt}] {
			k := statKey{a.OrganizationID, a.ExtensionID, a.AttemptedOn.UTC().Truncate(time.Minute), a.ResponseCode, a.Attempt}
			st := stats[k]
			if st == nil {
				st = &models.AttemptStat{OrganizationID: k.org, ExtensionID: k.ext, Minute: k.minute, ResponseCode: k.code, Attempt: k.attempt}
				stats[k] = st
				order = append(order, k)
			}
			st.Count++
			st.TotalMS += a.ResponseTimeMS
		}
		updates := rec.Run.updates(map[string]any{
			"status": rec.Status, "attempts": a.Attempt, "last_response_code": a.ResponseCode,
			"last_response_time_ms": a.ResponseTimeMS, "last_error": storableText(a.Error, 1024), "last_attempted_on": a.AttemptedOn,
			"updated_at": s.Now(),
		})
		if models.DeliveryFinal(rec.Status) {
			updates["completed_at"] = a.AttemptedOn
		}
		switch {
		case rec.RetryBody != nil:
			updates["retry_body"] = rec.RetryBody
		case rec.ClearRetryBody:
			updates["retry_body"] = nil
		}
		if err := tx.Model(&models.Delivery{}).Where("id = ?", a.DeliveryID).Updates(updates).Error; err != nil {
			return err
		}
	}
	for _, k := range order {
		if err := upsertStat(tx, stats[k]); err != nil {
			return err
		}
	}
	return nil
}

// upsertStat adds a sum of attempts to its minute's AttemptStat row.
func upsertStat(tx *gorm.DB, stat *models.AttemptStat) error {
	return tx.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "organization_id"}, {Name: "extension_id"}, {Name: "minute"}, {Name: "response_code"}, {Name: "attempt"}},
		DoUpdates: clause.Assignments(map[string]any{
			"count":    gorm.Expr("attempt_stats.count + excluded.count"),
			"total_ms": gorm.Expr("attempt_stats.total_ms + excluded.total_ms"),
		}),
	}).Create(stat).Error
}
