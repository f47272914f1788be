package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookflow/hookflow/models"
)

// InstallationFilter selects installations to list; empty fields match everything.
type InstallationFilter struct {
	CompanyID      int64
	OrganizationID string
	ExtensionID    string
}

// CreateInstallation stores that in.CompanyID has installed in.ExtensionID of
// in.OrganizationID. It sets in.ID and CreatedAt. Returns EINVALID, or ECONFLICT when
// the company has installed that extension already.
func (s *Store) CreateInstallation(ctx context.Context, in *models.Installation) error {
	if err := models.ValidateInstallation(in); err != nil {
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
		var existing models.Installation
		if err := s.db.WithContext(ctx).Where("company_id = ? AND organization_id = ? AND extension_id = ?",
			in.CompanyID, in.OrganizationID, in.ExtensionID).Take(&existing).Error; err != nil {
			return dbError(err, "installation not found")
		}
		return &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("company %d has installed extension %s of organization %s already (installation %d)",
			in.CompanyID, in.ExtensionID, in.OrganizationID, existing.ID)}
	}
	return nil
}

// ListInstallations returns the installations that match f, oldest first.
func (s *Store) ListInstallations(ctx context.Context, f InstallationFilter) ([]models.Installation, error) {
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
	out := []models.Installation{}
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
func (s *Store) DeleteInstallation(ctx context.Context, id int64) (*models.Installation, []int64, error) {
	var (
		in     models.Installation
		queued []int64
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&in).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", id).Delete(&models.Installation{}).Error; err != nil {
			return err
		}
		subs := tx.Unscoped().Model(&models.Subscriber{}).Select("id").
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
		return tx.Model(&models.Delivery{}).Distinct("subscriber_id").
			Where("subscriber_id IN ? AND status = ?", ids, models.DeliveryQueued).Order("subscriber_id").Scan(&queued).Error
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
	err := db.Model(&models.Installation{}).Where("company_id = ? AND organization_id = ? AND extension_id = ?", company, org, ext).
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
		return notInstalled(org, ext, company)
	}
	return nil
}

// notInstalled is the EFORBIDDEN error of a subscription for a company that has not
// installed the extension; its cause is ErrNotInstalled.
func notInstalled(org, ext string, company int64) error {
	return &models.Error{Code: models.EFORBIDDEN, Err: ErrNotInstalled, Message: fmt.Sprintf(
		"company %d has not installed extension %s of organization %s: an extension receives a company's events only where the company has installed it",
		company, ext, org)}
}
