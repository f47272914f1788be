package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Tenant scopes partner resources: an organization and one of its extensions.
type Tenant struct {
	OrganizationID string
	ExtensionID    string
}

// CreateSubscriber stores s and its events. It sets s.ID, CreatedOn and UpdatedOn.
// Returns EINVALID naming events[i].slug when an event is not in the catalogue.
func (s *Store) CreateSubscriber(ctx context.Context, sub *Subscriber) error {
	if err := s.checkCatalogue(ctx, sub.Events); err != nil {
		return err
	}
	now := s.Now()
	sub.ID = 0
	sub.CreatedOn, sub.UpdatedOn = now, now
	for i := range sub.Events {
		sub.Events[i].ID, sub.Events[i].SubscriberID = 0, 0
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.Create(sub).Error
	})
	return dbError(err, "")
}

func (s *Store) checkCatalogue(ctx context.Context, events []SubscriberEvent) error {
	slugs := make([]string, len(events))
	for i, e := range events {
		slugs[i] = e.Slug
	}
	missing, err := s.missingEventTypes(ctx, slugs)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	var v Validation
	for i, e := range events {
		for _, m := range missing {
			if e.Slug == m {
				v.Add(fieldIndex("events", i)+".slug", "%s is not in the event catalogue (GET /service/common/webhook/v1.0/events lists it)", m)
			}
		}
	}
	return v.Err()
}

// GetSubscriber returns the subscriber id of tenant t in company companyID, with its
// events. Returns ENOTFOUND if it does not exist or belongs to another tenant or company.
func (s *Store) GetSubscriber(ctx context.Context, t Tenant, companyID, id int64) (*Subscriber, error) {
	var sub Subscriber
	err := s.db.WithContext(ctx).Preload("Events", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).
		Where("id = ? AND organization_id = ? AND extension_id = ? AND company_id = ?", id, t.OrganizationID, t.ExtensionID, companyID).
		Take(&sub).Error
	if err != nil {
		return nil, dbError(err, fmt.Sprintf("subscriber %d not found", id))
	}
	return &sub, nil
}

// SubscriberByID returns a subscriber with its events regardless of tenant, including a
// deleted one (deliveries in flight still need its name and URL). Returns ENOTFOUND.
func (s *Store) SubscriberByID(ctx context.Context, id int64) (*Subscriber, error) {
	var sub Subscriber
	err := s.db.WithContext(ctx).Unscoped().Preload("Events").Where("id = ?", id).Take(&sub).Error
	if err != nil {
		return nil, dbError(err, fmt.Sprintf("subscriber %d not found", id))
	}
	return &sub, nil
}

// lockSubscriber reads a subscriber's status and inactive policy inside tx, holding a
// lock on the row until tx ends so that a concurrent status change waits for it. SQLite
// transactions are immediate (see Open), which serializes them already.
func (s *Store) lockSubscriber(tx *gorm.DB, id int64) (status, policy string, err error) {
	q := tx.Unscoped().Model(&Subscriber{}).Select("status", "inactive_policy", "deleted_at").Where("id = ?", id)
	if s.dialect == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row struct {
		Status         string
		InactivePolicy string
		DeletedAt      gorm.DeletedAt
	}
	if err := q.Take(&row).Error; err != nil {
		return "", "", err
	}
	if row.DeletedAt.Valid {
		return "deleted", row.InactivePolicy, nil
	}
	return row.Status, row.InactivePolicy, nil
}
