package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookflow/hookflow/models"
)

// Migrate creates or updates the schema and seeds the event catalogue. It is idempotent,
// and safe to call from several processes at once on one database: the migrations run
// one at a time, each in one transaction, so that the second finds the schema the first
// made. A migration that fails leaves the schema as it was (DDL is transactional on both
// databases).
//
// They must be serialized because GORM's AutoMigrate checks what exists (HasTable,
// HasColumn, HasIndex) before it creates it: two migrations that check at the same moment
// both try to create the same table, and one fails ("relation already exists", or a
// duplicate key in pg_type). So the transaction takes a lock first and holds it to the
// end:
//   - on PostgreSQL a transaction-scoped advisory lock (pg_advisory_xact_lock), since
//     DDL takes no lock that would order such checks. The commit or rollback releases
//     it, and so does the server when the connection drops: a migrate that dies mid-way
//     never leaves it held. A session lock would also work, taken and released on one
//     dedicated connection, but the statements of the migration would run on other
//     connections of the pool, outside any transaction, and a failure half-way would
//     leave half a schema.
//   - on SQLite the database's write lock: the store's transactions begin IMMEDIATE (see
//     sqliteDataSource), so a second process's migration waits at BEGIN (busy_timeout)
//     until the first commits. A process has one write connection, so within it there
//     is nothing to race.
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if s.dialect == "sqlite" {
		if err := migrateSQLite(db, s.migrate); err != nil {
			return err
		}
		return incrementalVacuum(db)
	}
	return db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(migrateLockSQL).Error; err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		return s.migrate(tx)
	})
}

// migrateSQLite runs migrate in a transaction with foreign keys off, as SQLite's procedure
// for schema changes asks: GORM changes a column's type by copying the table into a new
// one and dropping the old, which with foreign keys on would delete (or refuse to drop)
// the rows that reference it. The pragma is a no-op inside a transaction, so it is set on
// the connection before the transaction begins and set back after it ends; the
// references are checked before the commit instead.
func migrateSQLite(db *gorm.DB, migrate func(tx *gorm.DB) error) error {
	return db.Connection(func(conn *gorm.DB) error {
		if err := conn.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
			return fmt.Errorf("migrate schema: turn foreign keys off: %w", err)
		}
		defer conn.Exec("PRAGMA foreign_keys = ON")
		return conn.Transaction(func(tx *gorm.DB) error {
			if err := migrate(tx); err != nil {
				return err
			}
			var violations []map[string]any
			if err := tx.Raw("PRAGMA foreign_key_check").Scan(&violations).Error; err != nil {
				return fmt.Errorf("migrate schema: check foreign keys: %w", err)
			}
			if len(violations) > 0 {
				return fmt.Errorf("migrate schema: %d rows break foreign keys, e.g. %v", len(violations), violations[0])
			}
			return nil
		})
	})
}

// migrate is Migrate's work, in tx.
func (s *Store) migrate(tx *gorm.DB) error {
	if err := tx.AutoMigrate(&models.EventType{}, &models.Subscriber{}, &models.SubscriberEvent{}, &models.Event{},
		&models.Delivery{}, &models.Attempt{}, &models.APIKey{}, &models.Notification{}, &models.RetryJob{}, &models.AttemptStat{},
		&models.Installation{}, &purgeRun{}, &subscriberFlow{}, &flowLease{}, &schemaMigration{}); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if err := s.migrateTenancy(tx); err != nil {
		return fmt.Errorf("migrate tenancy: %w", err)
	}
	if err := s.runOnce(tx, "events-fanned-out", s.backfillFannedOut); err != nil {
		return fmt.Errorf("migrate events: %w", err)
	}
	// Partial indexes of the work not yet done, which Unstarted counts: they hold only the
	// rows of that work, however large the tables grow.
	for _, stmt := range []string{
		"CREATE INDEX IF NOT EXISTS idx_deliveries_backlog ON deliveries (company_id) WHERE status = 'pending'",
		"CREATE INDEX IF NOT EXISTS idx_events_backlog ON events (company_id) WHERE fanned_out_at IS NULL",
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("migrate backlog indexes: %w", err)
		}
	}
	if err := seedCatalogue(tx); err != nil {
		return fmt.Errorf("seed event catalogue: %w", err)
	}
	return nil
}

// migrateLockSQL takes the advisory lock that serializes migrations on PostgreSQL. Its
// key is Hookflow's migration and the schema being migrated (the first of search_path
// that exists), so that deployments, or tests, in different schemas of one database do
// not wait for each other.
const migrateLockSQL = "SELECT pg_advisory_xact_lock(hashtext('hookflow migrate'), hashtext(coalesce(current_schema(), '')))"

// schemaMigration records a data migration that ran, so that it runs once: a backfill
// that ran again would undo what users did since (an installation removed on purpose).
type schemaMigration struct {
	Name      string `gorm:"size:100;primaryKey"`
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// runOnce runs a data migration in tx, Migrate's transaction, unless it ran before; the
// record that it ran commits with its changes.
func (s *Store) runOnce(tx *gorm.DB, name string, fn func(tx *gorm.DB) error) error {
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&schemaMigration{Name: name, AppliedAt: s.Now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return nil // applied before
	}
	return fn(tx)
}

// migrateTenancy brings a database from before installations and key scopes: every
// (organization, extension, company) with a subscriber gets an installation, so that
// existing subscribers keep receiving events, and ingest keys become platform keys,
// which may send for every company as they did.
func (s *Store) migrateTenancy(tx *gorm.DB) error {
	return s.runOnce(tx, "2026-12-installations", func(tx *gorm.DB) error {
		var rows []models.Installation
		if err := tx.Model(&models.Subscriber{}).Distinct("company_id", "organization_id", "extension_id").
			Order("company_id, organization_id, extension_id").Scan(&rows).Error; err != nil {
			return fmt.Errorf("list the tenants of existing subscribers: %w", err)
		}
		now := s.Now()
		for i := range rows {
			rows[i].ID, rows[i].CreatedAt = 0, now
		}
		if len(rows) > 0 {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error; err != nil {
				return fmt.Errorf("create installations of existing subscribers: %w", err)
			}
		}
		if err := tx.Model(&models.APIKey{}).Where("scope = ?", models.ScopeIngest).Update("scope", models.ScopePlatform).Error; err != nil {
			return fmt.Errorf("make ingest keys platform keys: %w", err)
		}
		return nil
	})
}

// backfillFannedOut marks the events stored before Event.FannedOutAt existed as fanned
// out, so that retention can remove them: those with deliveries (their fan-out has run),
// and those without that are more than a day old (no fan-out takes that long; they had
// no subscriber). An event accepted within the day without a delivery yet may still be
// fanning out, and stays unmarked, so never purged.
func (s *Store) backfillFannedOut(tx *gorm.DB) error {
	return tx.Exec(`UPDATE events SET fanned_out_at = accepted_at WHERE fanned_out_at IS NULL
		AND (EXISTS (SELECT 1 FROM deliveries d WHERE d.event_row_id = events.id) OR accepted_at < ?)`, s.Now().Add(-24*time.Hour)).Error
}

// incrementalVacuum puts an SQLite database into incremental auto-vacuum mode, where
// ReclaimSpace can give the pages that purges free back to the file system. New files are
// created in it (sqliteDataSource); a file from before is converted once, by a VACUUM that
// rewrites it (a pass over the whole file, under the write lock).
func incrementalVacuum(db *gorm.DB) error {
	var mode int
	if err := db.Raw("PRAGMA auto_vacuum").Scan(&mode).Error; err != nil {
		return fmt.Errorf("read auto_vacuum: %w", err)
	}
	if mode == 2 {
		return nil
	}
	if err := db.Exec("PRAGMA auto_vacuum = INCREMENTAL").Error; err != nil {
		return fmt.Errorf("set auto_vacuum: %w", err)
	}
	if err := db.Exec("VACUUM").Error; err != nil {
		return fmt.Errorf("vacuum into incremental mode: %w", err)
	}
	return nil
}
