package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookflow/hookflow/models"
)

// Migrate creates or updates the schema and seeds the event catalogue. It is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if err := db.AutoMigrate(&models.EventType{}, &models.Subscriber{}, &models.SubscriberEvent{}, &models.Event{},
		&models.Delivery{}, &models.Attempt{}, &models.APIKey{}, &models.Notification{}, &models.RetryJob{}, &models.AttemptStat{},
		&models.Installation{}, &schemaMigration{}); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if err := s.migrateTenancy(ctx); err != nil {
		return fmt.Errorf("migrate tenancy: %w", err)
	}
	if err := s.seedCatalogue(ctx); err != nil {
		return fmt.Errorf("seed event catalogue: %w", err)
	}
	return nil
}

// schemaMigration records a data migration that ran, so that it runs once: a backfill
// that ran again would undo what users did since (an installation removed on purpose).
type schemaMigration struct {
	Name      string `gorm:"size:100;primaryKey"`
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// runOnce runs a data migration in a transaction unless it ran before.
func (s *Store) runOnce(ctx context.Context, name string, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&schemaMigration{Name: name, AppliedAt: s.Now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // applied before
		}
		return fn(tx)
	})
}

// migrateTenancy brings a database from before installations and key scopes: every
// (organization, extension, company) with a subscriber gets an installation, so that
// existing subscribers keep receiving events, and ingest keys become platform keys,
// which may send for every company as they did.
func (s *Store) migrateTenancy(ctx context.Context) error {
	return s.runOnce(ctx, "2026-12-installations", func(tx *gorm.DB) error {
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
