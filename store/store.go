// Package store keeps Hookflow's domain objects (package models) in a relational database
// through GORM: PostgreSQL, or SQLite for the embedded default. It holds the queries, the
// migrations and the event catalogue they seed, the attempt writer that group-commits
// attempts, and the statement counters the benchmark reads. Its errors are models.Error
// values with the domain's codes; it knows nothing of HTTP or Temporal.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	// The pure-Go SQLite driver, registered as "sqlite"; no cgo is needed.
	_ "modernc.org/sqlite"
)

// Store keeps Hookflow's domain objects in PostgreSQL or SQLite through GORM. It is safe
// for concurrent use.
type Store struct {
	db      *gorm.DB // writes, and reads that must see a transaction's own writes
	rdb     *gorm.DB // reads: on SQLite a separate pool, so that reads never queue behind the writer
	dialect string   // "postgres" or "sqlite"
	log     *slog.Logger

	// Now returns the current time; tests may replace it before use.
	Now func() time.Time

	statements atomic.Int64
	countKinds atomic.Bool // set by CountStatementKinds
	kindsMu    sync.Mutex
	kinds      map[string]int64 // statements by kind ("INSERT attempts"), see StatementKinds
	attempts   *attemptWriter

	viewColumnsOnce sync.Once
	viewColumns     string // see deliveryViewColumns
}

// Pool sizes a PostgreSQL connection pool; SQLite ignores it (one writer connection and
// a small read pool, see Open).
type Pool struct {
	// MaxOpen bounds the connections open at once; a caller beyond it waits for one.
	MaxOpen int
	// MaxIdle is how many unused connections are kept open for the next caller.
	MaxIdle int
	// MaxLifetime closes a connection this long after it was opened (0: never), so that
	// a pooler or a failed-over primary sees connections move.
	MaxLifetime time.Duration
	// MaxIdleTime closes a connection unused for this long (0: never).
	MaxIdleTime time.Duration
}

// DefaultPool fits several Hookflow processes beside a Temporal server on one
// PostgreSQL with its default 100 connections: 10 open per process at most, 5 kept idle.
// A worker's database work is short statements and batched attempt writes, which 10
// connections carry at the throughput one process reaches (see BENCHMARKS.md).
var DefaultPool = Pool{MaxOpen: 10, MaxIdle: 5, MaxLifetime: 30 * time.Minute, MaxIdleTime: 5 * time.Minute}

// Validate checks the pool's sizes, naming the setting at fault.
func (p Pool) Validate() error {
	switch {
	case p.MaxOpen < 1:
		return errors.New("HOOKFLOW_DB_MAX_OPEN_CONNS must be at least 1")
	case p.MaxIdle < 0 || p.MaxIdle > p.MaxOpen:
		return errors.New("HOOKFLOW_DB_MAX_IDLE_CONNS must be between 0 and HOOKFLOW_DB_MAX_OPEN_CONNS")
	case p.MaxLifetime < 0:
		return errors.New("HOOKFLOW_DB_CONN_MAX_LIFETIME must not be negative (0: no limit)")
	case p.MaxIdleTime < 0:
		return errors.New("HOOKFLOW_DB_CONN_MAX_IDLE_TIME must not be negative (0: no limit)")
	}
	return nil
}

// Open connects to the database named by dsn with the DefaultPool; see OpenPool.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	return OpenPool(ctx, dsn, log, DefaultPool)
}

// OpenPool connects to the database named by dsn: a postgres:// or postgresql:// URL,
// or sqlite:<path> for a file (the directory is created), or sqlite::memory: for a
// private in-memory database (tests). A PostgreSQL database gets a pool sized by pool.
// It does not migrate; call Migrate.
func OpenPool(ctx context.Context, dsn string, log *slog.Logger, pool Pool) (*Store, error) {
	if err := pool.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Each gorm.Open gets a Config of its own: gorm keeps a DB's callbacks and connection
	// pool in it, so the SQLite read pool must not share the writer's.
	cfg := func() *gorm.Config {
		return &gorm.Config{
			Logger:                 newGormLogger(log),
			SkipDefaultTransaction: true,
			// Parsing SQL is a large share of SQLite's cost per statement (and not free on
			// PostgreSQL): prepare each statement once per connection and reuse it.
			PrepareStmt:    true,
			NowFunc:        func() time.Time { return time.Now().UTC() },
			TranslateError: false,
		}
	}
	var (
		db        *gorm.DB
		err       error
		dialect   string
		sqliteDSN string
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		dialect = "postgres"
		db, err = gorm.Open(postgres.New(postgres.Config{DSN: dsn}), cfg())
	case strings.HasPrefix(dsn, "sqlite:"):
		dialect = "sqlite"
		sqliteDSN, err = sqliteDataSource(strings.TrimPrefix(dsn, "sqlite:"))
		if err == nil {
			db, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: "sqlite", DSN: sqliteDSN}), cfg())
		}
	default:
		return nil, fmt.Errorf("database URL must start with postgres:// or sqlite: (got %q)", redactDSN(dsn))
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	rdb := db
	if dialect == "sqlite" {
		// SQLite allows one writer at a time. One write connection makes writers queue
		// in Go instead of sleeping in SQLite's busy handler; a separate pool serves reads
		// beside it (a file database is in WAL mode, where readers never wait for the
		// writer; a memory database has no WAL, so it shares the one connection).
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		if !strings.Contains(sqliteDSN, "vfs=memdb") {
			if rdb, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: "sqlite", DSN: sqliteDSN}), cfg()); err != nil {
				_ = sqlDB.Close()
				return nil, fmt.Errorf("open sqlite read pool: %w", err)
			}
			readDB, err := rdb.DB()
			if err != nil {
				_ = sqlDB.Close()
				return nil, err
			}
			readDB.SetMaxOpenConns(4)
			readDB.SetMaxIdleConns(4)
		}
	} else {
		sqlDB.SetMaxOpenConns(pool.MaxOpen)
		sqlDB.SetMaxIdleConns(pool.MaxIdle)
		sqlDB.SetConnMaxLifetime(pool.MaxLifetime)
		sqlDB.SetConnMaxIdleTime(pool.MaxIdleTime)
	}
	s := &Store{db: db, rdb: rdb, dialect: dialect, log: log, Now: func() time.Time { return time.Now().UTC() }}
	s.countStatements()
	s.attempts = newAttemptWriter(s)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	return s, nil
}

// sqliteDataSource turns a path into a modernc.org/sqlite DSN with the pragmas Hookflow
// relies on: WAL so readers never wait on the writer, a busy timeout so concurrent writers
// queue instead of failing, and immediate transactions so that a transaction that will
// write takes the lock up front (no upgrade deadlocks).
func sqliteDataSource(path string) (string, error) {
	// _time_format=sqlite stores times as "2006-01-02 15:04:05.999999999-07:00", which
	// SQLite's date functions read (the reports bucket with strftime) and which sorts in
	// time order for UTC values.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate&_time_format=sqlite"
	if path == ":memory:" {
		// The memdb VFS shares one memory database between the pool's connections with
		// SQLite's ordinary locking (a shared cache would fail busy writers at once with
		// SQLITE_LOCKED instead of waiting for them).
		return fmt.Sprintf("file:/hookflow-%d?vfs=memdb&%s", time.Now().UnixNano(), pragmas), nil
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("create database directory: %w", err)
		}
	}
	// auto_vacuum first: it takes effect only on a database without tables (Migrate
	// converts older files), and lets ReclaimSpace give purged pages back.
	return "file:" + path + "?" + pragmas + "&_pragma=auto_vacuum(2)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=cache_size(-32768)&_pragma=mmap_size(268435456)", nil
}

func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close stops the attempt writer and closes the connection pools.
func (s *Store) Close() error {
	s.attempts.stop()
	if s.rdb != s.db {
		if readDB, err := s.rdb.DB(); err == nil {
			_ = readDB.Close()
		}
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// gormLogger sends GORM's slow-query and error reports to slog, without SQL values.
type gormLogger struct{ log *slog.Logger }

func newGormLogger(log *slog.Logger) logger.Interface { return gormLogger{log: log} }

func (l gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (l gormLogger) Info(context.Context, string, ...any)     {}
func (l gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, "database", "message", fmt.Sprintf(msg, args...))
}
func (l gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, "database", "message", fmt.Sprintf(msg, args...))
}
func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if elapsed := time.Since(begin); elapsed > 500*time.Millisecond {
		// The SQL text is not logged: GORM interpolates values, which may hold secrets
		// and payloads.
		_, rows := fc()
		l.log.WarnContext(ctx, "slow query", "elapsed_ms", elapsed.Milliseconds(), "rows", rows, "error", err)
	}
}

// PoolStats reports the (writer) connection pool: connections open, in use and idle,
// and how often and how long callers waited for one. A pool that keeps callers waiting
// is too small for the load, or the database is slow.
func (s *Store) PoolStats() sql.DBStats {
	if db := s.SQL(); db != nil {
		return db.Stats()
	}
	return sql.DBStats{}
}

// SQL returns the writer pool's database handle, for what works below the store: tests
// that hold its connections, tools that inspect it.
func (s *Store) SQL() *sql.DB {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil
	}
	return sqlDB
}
