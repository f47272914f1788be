package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CreateInstallation stores that in.CompanyID has installed in.ExtensionID of
// in.OrganizationID. It sets in.ID and CreatedAt. Returns EINVALID, or ECONFLICT when
// the company has installed that extension already.
func (s *Store) CreateInstallation(ctx context.Context, in *Installation) error {
	if err := ValidateInstallation(in); err != nil {
		return err
	}
	in.ID = 0
	in.CreatedAt = s.Now()
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "company_id"}, {Name: "organization_id"}, {Name: "extension_id"}},
		DoNothing: true,
	}).Create(in)
	if res.Error != nil {
		return dbError(res.Error, "")
	}
	if res.RowsAffected == 0 {
		var existing Installation
		if err := s.db.WithContext(ctx).Where("company_id = ? AND organization_id = ? AND extension_id = ?",
			in.CompanyID, in.OrganizationID, in.ExtensionID).Take(&existing).Error; err != nil {
			return dbError(err, "installation not found")
		}
		return &Error{Code: ECONFLICT, Message: fmt.Sprintf("company %d has installed extension %s of organization %s already (installation %d)",
			in.CompanyID, in.ExtensionID, in.OrganizationID, existing.ID)}
	}
	return nil
}

// ListInstallations returns the installations that match f, oldest first.
func (s *Store) ListInstallations(ctx context.Context, f InstallationFilter) ([]Installation, error) {
	q := s.rdb.WithContext(ctx).Order("id")
	if f.CompanyID != 0 {
		q = q.Where("company_id = ?", f.CompanyID)
	}
	if f.OrganizationID != "" {
		q = q.Where("organization_id = ?", f.OrganizationID)
	}
	if f.ExtensionID != "" {
		q = q.Where("extension_id = ?", f.ExtensionID)
	}
	out := []Installation{}
	if err := q.Find(&out).Error; err != nil {
		return nil, dbError(err, "")
	}
	return out, nil
}

// DeleteInstallation removes installation id: from then on its extension's subscribers
// receive none of the company's events, and their deliveries that have not gone out are
// discarded at their next attempt (see HoldIfInactive and LoadDeliveryJob). It returns
// the removed installation and the subscribers that have queued deliveries, which the
// caller must release so that those deliveries' workflows see the uninstall and end.
// Returns ENOTFOUND.
//
// The subscribers' rows are locked before the commit, as SetSubscriberStatus does: a
// delivery that queues concurrently (HoldIfInactive, under the same lock) either queued
// before, and is among the subscribers returned, or sees the installation gone.
func (s *Store) DeleteInstallation(ctx context.Context, id int64) (*Installation, []int64, error) {
	var (
		in     Installation
		queued []int64
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&in).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", id).Delete(&Installation{}).Error; err != nil {
			return err
		}
		subs := tx.Unscoped().Model(&Subscriber{}).Select("id").
			Where("organization_id = ? AND extension_id = ? AND company_id = ?", in.OrganizationID, in.ExtensionID, in.CompanyID)
		if s.dialect == "postgres" {
			subs = subs.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var ids []int64
		if err := subs.Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return tx.Model(&Delivery{}).Distinct("subscriber_id").
			Where("subscriber_id IN ? AND status = ?", ids, DeliveryQueued).Order("subscriber_id").Scan(&queued).Error
	})
	if err != nil {
		return nil, nil, dbError(err, fmt.Sprintf("installation %d not found", id))
	}
	return &in, queued, nil
}

// Installed reports whether company has installed extension ext of organization org.
func (s *Store) Installed(ctx context.Context, org, ext string, company int64) (bool, error) {
	ok, err := installed(s.rdb.WithContext(ctx), org, ext, company)
	return ok, dbError(err, "")
}

func installed(db *gorm.DB, org, ext string, company int64) (bool, error) {
	var n int64
	err := db.Model(&Installation{}).Where("company_id = ? AND organization_id = ? AND extension_id = ?", company, org, ext).
		Limit(1).Count(&n).Error
	return n > 0, err
}

// requireInstallation returns EFORBIDDEN, saying why and what to do, unless company has
// installed extension ext of organization org.
func requireInstallation(db *gorm.DB, org, ext string, company int64) error {
	ok, err := installed(db, org, ext, company)
	if err != nil {
		return err
	}
	if !ok {
		return NotInstalled(org, ext, company)
	}
	return nil
}

// NotInstalled is the EFORBIDDEN error of a subscription for a company that has not
// installed the extension.
func NotInstalled(org, ext string, company int64) error {
	return &Error{Code: EFORBIDDEN, Message: fmt.Sprintf(
		"company %d has not installed extension %s of organization %s: an extension receives a company's events only where the company has installed it; "+
			"install it first (POST /service/platform/webhook/v1.0/installation with the admin token or a platform key, or hookflow installation create)",
		company, ext, org)}
}

// UninstalledReason is the last_error of a delivery discarded because its extension was
// uninstalled from the event's company.
func UninstalledReason(ext string, company int64) string {
	return fmt.Sprintf("extension %s was uninstalled from company %d", ext, company)
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
		var rows []Installation
		if err := tx.Model(&Subscriber{}).Distinct("company_id", "organization_id", "extension_id").
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
		if err := tx.Model(&APIKey{}).Where("scope = ?", ScopeIngest).Update("scope", ScopePlatform).Error; err != nil {
			return fmt.Errorf("make ingest keys platform keys: %w", err)
		}
		return nil
	})
}
