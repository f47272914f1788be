package store_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// holdWriteLock makes another connection hold what the attempt writer needs: on SQLite
// the database's write lock (BEGIN IMMEDIATE), on PostgreSQL an exclusive lock on the
// attempts table. It returns the function that releases it, which may be called more
// than once; the lock is released when the test ends at the latest.
func holdWriteLock(t *testing.T, db storetest.Database) (release func()) {
	t.Helper()
	ctx := context.Background()
	var unlock func() error
	switch {
	case strings.HasPrefix(db.URL, "sqlite:"):
		// The driver package store registers; the writer's pool is another connection.
		pool, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(db.URL, "sqlite:")+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatalf("take the write lock: %v", err)
		}
		unlock = func() error {
			_, err := conn.ExecContext(ctx, "ROLLBACK")
			conn.Close()
			pool.Close()
			return err
		}
	default:
		conn, err := pgx.Connect(ctx, db.URL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "LOCK TABLE attempts IN EXCLUSIVE MODE"); err != nil {
			t.Fatalf("lock the attempts table: %v", err)
		}
		unlock = func() error {
			_, err := conn.Exec(ctx, "ROLLBACK")
			conn.Close(ctx)
			return err
		}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if err := unlock(); err != nil {
				t.Errorf("release the lock: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// tryLog records the batches the attempt writer tries to commit, by delivery ids.
type tryLog struct {
	mu    sync.Mutex
	tries [][]int64
}

func (l *tryLog) add(ids []int64) { l.mu.Lock(); l.tries = append(l.tries, ids); l.mu.Unlock() }

func (l *tryLog) all() [][]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.tries)
}

// triesOf counts the tries whose batch held delivery id.
func (l *tryLog) triesOf(id int64) int {
	n := 0
	for _, ids := range l.all() {
		if slices.Contains(ids, id) {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A lock held longer than one try's deadline delays the record; a later try writes it.
// (Before, one deadline covered every try: once the first had used it up, each of the
// others failed at once, and the record was lost.)
func TestAttemptWriterOutlastsALock(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, nil)
		id := mustDeliveries(t, s, sub, slug, "l1")[0]
		const try = 300 * time.Millisecond
		var log tryLog
		store.SetAttemptWriterTimeout(s, try, log.add)

		release := holdWriteLock(t, db)
		// Longer than a try, shorter than the tries together.
		timer := time.AfterFunc(2*try+try/2, release)
		defer timer.Stop()
		callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		start := time.Now()
		err := s.RecordAttempt(callCtx, attemptRecord(sub, slug, id, 1, 500, models.DeliveryRetrying))
		took := time.Since(start)
		if err != nil {
			t.Fatalf("record attempt while another connection held the lock for %v: %v after %v and %d tries",
				2*try+try/2, err, took.Round(time.Millisecond), log.triesOf(id))
		}
		if n := log.triesOf(id); n < 2 {
			t.Errorf("written by try %d; want a later try than the first (did the lock hold?)", n)
		}
		t.Logf("written after %v, by try %d", took.Round(time.Millisecond), log.triesOf(id))
		attempts, err := s.ListAttempts(ctx, id)
		if err != nil || len(attempts) != 1 || attempts[0].ResponseCode != 500 {
			t.Fatalf("attempts = %+v, %v; want the one recorded", attempts, err)
		}
	})
}

// A caller whose context ends while its record waits for a lock gets its error at once,
// and the writer does not go on trying to commit that record for nobody: the next
// record's batch is the writer's next try.
func TestAttemptWriterStopsForAGoneCaller(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, nil)
		ids := mustDeliveries(t, s, sub, slug, "g1", "g2")
		var log tryLog
		store.SetAttemptWriterTimeout(s, 2*time.Second, log.add)

		release := holdWriteLock(t, db)
		callCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.RecordAttempt(callCtx, attemptRecord(sub, slug, ids[0], 1, 500, models.DeliveryRetrying))
		if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > time.Second {
			t.Fatalf("record with a 200 ms context under a lock: %v after %v; want context.DeadlineExceeded at once", err, took)
		}

		next := make(chan error, 1)
		go func() {
			next <- s.RecordAttempt(ctx, attemptRecord(sub, slug, ids[1], 1, 200, models.DeliverySucceeded))
		}()
		// On PostgreSQL the gone caller's try is cancelled at once. On SQLite a try waiting
		// for another connection's write lock ends only at the busy timeout (10 s): SQLite's
		// busy handler does not see an interrupt. Either way it is not tried again.
		waitFor(t, 30*time.Second, "the writer's second try", func() bool { return len(log.all()) >= 2 })
		release()
		if err := <-next; err != nil {
			t.Fatalf("the next record: %v", err)
		}
		if got := log.all(); len(got) != 2 || !slices.Equal(got[0], ids[:1]) || !slices.Equal(got[1], ids[1:]) {
			t.Fatalf("the writer's tries, by delivery: %v; want %v then %v: one try for the gone caller's record, then the next record",
				got, ids[:1], ids[1:])
		}
	})
}
