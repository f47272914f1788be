package models

// WriteAttemptBatch commits recs as one batch of the attempt writer, as if they had
// arrived together, and returns each record's answer.
func WriteAttemptBatch(s *Store, recs []AttemptRecord) []error {
	batch := make([]*attemptRequest, len(recs))
	for i, rec := range recs {
		batch[i] = &attemptRequest{rec: rec, err: make(chan error, 1)}
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
