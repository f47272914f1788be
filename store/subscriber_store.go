package store

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookflow/hookflow/models"
)

// CreateSubscriber stores s and its events. It sets s.ID, CreatedOn and UpdatedOn.
// Returns EUNPROCESSABLE naming events[i].slug when an event is not in the catalogue,
// and EFORBIDDEN when the company has not installed the subscriber's extension (it would
// never receive anything).
func (s *Store) CreateSubscriber(ctx context.Context, sub *models.Subscriber) error {
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
		if err := requireInstallation(tx, sub.OrganizationID, sub.ExtensionID, sub.CompanyID); err != nil {
			return err
		}
		return tx.Create(sub).Error
	})
	return dbError(err, "")
}

func (s *Store) checkCatalogue(ctx context.Context, events []models.SubscriberEvent) error {
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
	var v models.Validation
	for i, e := range events {
		for _, m := range missing {
			if e.Slug == m {
				v.Add(fmt.Sprintf("events[%d].slug", i), "%s is not in the event catalogue", m)
			}
		}
	}
	e := v.Err().(*models.Error)
	e.Code, e.Err = models.EUNPROCESSABLE, ErrNotInCatalogue
	return e
}

// GetSubscriber returns the subscriber id of tenant t in company companyID, with its
// events. Returns ENOTFOUND if it does not exist or belongs to another tenant or company.
func (s *Store) GetSubscriber(ctx context.Context, t models.Tenant, companyID, id int64) (*models.Subscriber, error) {
	var sub models.Subscriber
	err := s.rdb.WithContext(ctx).Preload("Events", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).
		Where("id = ? AND organization_id = ? AND extension_id = ? AND company_id = ?", id, t.OrganizationID, t.ExtensionID, companyID).
		Take(&sub).Error
	if err != nil {
		return nil, dbError(err, fmt.Sprintf("subscriber %d not found", id))
	}
	return &sub, nil
}

// SubscriberByID returns a subscriber with its events regardless of tenant, including a
// deleted one (deliveries in flight still need its name and URL). Returns ENOTFOUND.
func (s *Store) SubscriberByID(ctx context.Context, id int64) (*models.Subscriber, error) {
	var sub models.Subscriber
	err := s.rdb.WithContext(ctx).Unscoped().Preload("Events").Where("id = ?", id).Take(&sub).Error
	if err != nil {
		return nil, dbError(err, fmt.Sprintf("subscriber %d not found", id))
	}
	return &sub, nil
}

// lockSubscriber reads a subscriber's status and inactive policy inside tx, holding a
// lock on the row until tx ends so that a concurrent status change waits for it. SQLite
// transactions are immediate (see Open), which serializes them already.
func (s *Store) lockSubscriber(tx *gorm.DB, id int64) (status, policy string, err error) {
	q := tx.Unscoped().Model(&models.Subscriber{}).Select("status", "inactive_policy", "deleted_at").Where("id = ?", id)
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

// SubscriberFilter selects subscribers to list.
type SubscriberFilter struct {
	CompanyID int64  // 0: every company
	Status    string // "": every status
	// Search matches, case-insensitively, a part of the name, the webhook URL or a
	// subscribed event's slug.
	Search   string
	PageNo   int // from 1
	PageSize int // 1 to 100
}

// ListSubscribers returns one page of tenant t's subscribers, newest first, with the
// number of subscribers that match f in all.
func (s *Store) ListSubscribers(ctx context.Context, t models.Tenant, f SubscriberFilter) ([]models.Subscriber, int64, error) {
	q := s.rdb.WithContext(ctx).Model(&models.Subscriber{}).
		Where("organization_id = ? AND extension_id = ?", t.OrganizationID, t.ExtensionID)
	if f.CompanyID != 0 {
		q = q.Where("company_id = ?", f.CompanyID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if term := strings.TrimSpace(f.Search); term != "" {
		like := "%" + escapeLike(strings.ToLower(term)) + "%"
		q = q.Where(`LOWER(name) LIKE ? ESCAPE '\' OR LOWER(webhook_url) LIKE ? ESCAPE '\' OR EXISTS (
			SELECT 1 FROM subscriber_events se WHERE se.subscriber_id = subscribers.id AND LOWER(se.slug) LIKE ? ESCAPE '\')`, like, like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, dbError(err, "")
	}
	var subs []models.Subscriber
	err := q.Preload("Events", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).
		Order("id DESC").Offset((f.PageNo - 1) * f.PageSize).Limit(f.PageSize).Find(&subs).Error
	if err != nil {
		return nil, 0, dbError(err, "")
	}
	return subs, total, nil
}

// likeMember is the LIKE pattern that finds id in a stored IDList (escape character \).
func likeMember(id string) string { return "%," + escapeLike(id) + ",%" }

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// UpdateSubscriber stores the partner-settable fields and the events of sub, which must
// have been loaded with GetSubscriber and then changed. Events that the update keeps
// keep their filter and reducer unless the update sets them (SetFilters, SetReducer).
// When the secret changed, the old one keeps signing for SecretGracePeriod.
// Returns ENOTFOUND, EUNPROCESSABLE for events not in the catalogue, or EFORBIDDEN when
// the company has not (or no longer) installed the subscriber's extension.
func (s *Store) UpdateSubscriber(ctx context.Context, sub *models.Subscriber, previousSecret string) error {
	if err := s.checkCatalogue(ctx, sub.Events); err != nil {
		return err
	}
	now := s.Now()
	sub.UpdatedOn = now
	// Secrets are compared in constant time wherever they are compared.
	if previousSecret != "" && subtle.ConstantTimeCompare([]byte(previousSecret), []byte(sub.Secret)) != 1 {
		until := now.Add(models.SecretGracePeriod)
		sub.PreviousSecret, sub.PreviousUntil = previousSecret, &until
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := requireInstallation(tx, sub.OrganizationID, sub.ExtensionID, sub.CompanyID); err != nil {
			return err
		}
		var old struct {
			RateLimit      float64
			RateLimitBurst int
			MaxInFlight    int
		}
		if err := tx.Model(&models.Subscriber{}).Select("rate_limit", "rate_limit_burst", "max_in_flight").
			Where("id = ?", sub.ID).Take(&old).Error; err != nil {
			return err
		}
		limitsChanged := old.RateLimit != sub.RateLimit || old.RateLimitBurst != sub.RateLimitBurst || old.MaxInFlight != sub.MaxInFlight
		res := tx.Model(&models.Subscriber{}).Where("id = ?", sub.ID).Select(
			"name", "webhook_url", "status", "inactive_policy", "email_id", "custom_headers", "secret",
			"previous_secret", "previous_until", "timeout_ms", "application_ids", "updated_on",
			"rate_limit", "rate_limit_burst", "max_in_flight",
		).Updates(sub)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return gorm.ErrRecordNotFound
		}
		if limitsChanged {
			if err := s.resetFlow(tx, sub.ID); err != nil {
				return err
			}
		}
		var existing []models.SubscriberEvent
		if err := tx.Where("subscriber_id = ?", sub.ID).Find(&existing).Error; err != nil {
			return err
		}
		bySlug := make(map[string]models.SubscriberEvent, len(existing))
		for _, e := range existing {
			bySlug[e.Slug] = e
		}
		keep := make([]string, 0, len(sub.Events))
		for i := range sub.Events {
			e := &sub.Events[i]
			e.SubscriberID = sub.ID
			keep = append(keep, e.Slug)
			if old, ok := bySlug[e.Slug]; ok {
				e.ID = old.ID
				if e.Filters == nil && !e.SetFilters {
					e.Filters = old.Filters
				}
				if e.Reducer == nil && !e.SetReducer {
					e.Reducer = old.Reducer
				}
				if err := tx.Model(&models.SubscriberEvent{}).Where("id = ?", e.ID).
					Updates(map[string]any{"filters": e.Filters, "reducer": e.Reducer}).Error; err != nil {
					return err
				}
				continue
			}
			e.ID = 0
			if err := tx.Create(e).Error; err != nil {
				return err
			}
		}
		return tx.Where("subscriber_id = ? AND slug NOT IN ?", sub.ID, keep).Delete(&models.SubscriberEvent{}).Error
	})
	return dbError(err, fmt.Sprintf("subscriber %d not found", sub.ID))
}

// DeleteSubscriber deletes a subscriber of tenant t. Its delivery history stays for the
// reports; deliveries waiting for it are discarded when they are next released.
// Returns ENOTFOUND.
func (s *Store) DeleteSubscriber(ctx context.Context, t models.Tenant, companyID, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ? AND organization_id = ? AND extension_id = ? AND company_id = ?",
		id, t.OrganizationID, t.ExtensionID, companyID).Delete(&models.Subscriber{})
	if res.Error != nil {
		return dbError(res.Error, "")
	}
	if res.RowsAffected == 0 {
		return &models.Error{Code: models.ENOTFOUND, Message: fmt.Sprintf("subscriber %d not found", id)}
	}
	return nil
}

// SetSubscriberStatus sets the status of tenant t's subscriber id to active or inactive
// and returns the status it had. It takes the same row lock as HoldIfInactive, so once it
// returns, every delivery that queued before is listed by QueuedDeliveries and none can
// queue afterwards without seeing the new status. Returns ENOTFOUND, or EINVALID for
// another status.
func (s *Store) SetSubscriberStatus(ctx context.Context, t models.Tenant, id int64, status string) (previous string, err error) {
	if status != models.StatusActive && status != models.StatusInactive {
		return "", models.Invalid("status", "must be active or inactive")
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.Subscriber{}).Where("id = ? AND organization_id = ? AND extension_id = ?",
			id, t.OrganizationID, t.ExtensionID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return gorm.ErrRecordNotFound
		}
		prev, _, err := s.lockSubscriber(tx, id)
		if err != nil {
			return err
		}
		previous = prev
		updates := map[string]any{"status": status, "updated_on": s.Now()}
		if status == models.StatusActive {
			updates["blocked_reason"] = ""
		}
		return tx.Model(&models.Subscriber{}).Where("id = ?", id).Updates(updates).Error
	})
	if err != nil {
		return "", dbError(err, fmt.Sprintf("subscriber %d not found", id))
	}
	return previous, nil
}
