package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// WriteAttemptBatch commits recs as one batch of the attempt writer, as if they had
// arrived together, and returns each record's answer.
func WriteAttemptBatch(s *Store, recs []AttemptRecord) []error {
	batch := make([]*attemptRequest, len(recs))
	for i, rec := range recs {
		batch[i] = &attemptRequest{ctx: context.Background(), rec: rec, err: make(chan error, 1)}
	}
	s.attempts.process(batch)
	errs := make([]error, len(recs))
	for i, req := range batch {
		errs[i] = <-req.err
	}
	return errs
}

// ExecForTest runs a raw statement on the write pool (test fixtures: a trigger or a
// constraint that makes one row fail).
func ExecForTest(s *Store, sql string) error { return s.db.Exec(sql).Error }

// SetAttemptWriterTimeout sets the deadline of each of the attempt writer's tries to
// commit a batch, and makes it call onTry with the batch's delivery ids as each try
// begins. Call it before the store records attempts.
func SetAttemptWriterTimeout(s *Store, d time.Duration, onTry func(deliveryIDs []int64)) {
	s.attempts.tryTimeout = d
	s.attempts.onTry = func(batch []*attemptRequest) {
		ids := make([]int64, len(batch))
		for i, req := range batch {
			ids[i] = req.rec.Attempt.DeliveryID
		}
		onTry(ids)
	}
}

// DBForTest returns the write pool (test fixtures and checks of raw rows).
func DBForTest(s *Store) *gorm.DB { return s.db }
