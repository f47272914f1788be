package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hookflow/hookflow/models"
)

// StoreEvent stores an accepted event once: storing the same (company, event id) again
// keeps the first row. It sets ev.ID to the row's id and reports whether this call
// inserted it.
func (s *Store) StoreEvent(ctx context.Context, ev *models.Event) (inserted bool, err error) {
	ev.ID = 0
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "company_id"}, {Name: "event_id"}},
		DoNothing: true,
	}).Create(ev)
	if res.Error != nil {
		return false, dbError(res.Error, "")
	}
	if res.RowsAffected == 1 && ev.ID != 0 {
		return true, nil
	}
	var row models.Event
	if err := s.db.WithContext(ctx).Select("id").Where("company_id = ? AND event_id = ?", ev.CompanyID, ev.EventID).Take(&row).Error; err != nil {
		return false, dbError(err, "event not found")
	}
	ev.ID = row.ID
	return false, nil
}

// EventByRowID returns a stored event with its payload. Returns ENOTFOUND.
func (s *Store) EventByRowID(ctx context.Context, id int64) (*models.Event, error) {
	var ev models.Event
	if err := s.rdb.WithContext(ctx).Where("id = ?", id).Take(&ev).Error; err != nil {
		return nil, dbError(err, fmt.Sprintf("event %d not found", id))
	}
	return &ev, nil
}

// EventExists reports whether company companyID has an event with this id.
func (s *Store) EventExists(ctx context.Context, companyID int64, eventID string) (bool, error) {
	var n int64
	err := s.rdb.WithContext(ctx).Model(&models.Event{}).Where("company_id = ? AND event_id = ?", companyID, eventID).Limit(1).Count(&n).Error
	return n > 0, dbError(err, "")
}

// PlannedDelivery is a delivery row created (or found) for one subscriber of an event.
type PlannedDelivery struct {
	DeliveryID     int64
	SubscriberID   int64
	Status         string
	WorkflowID     string
	OrganizationID string
	Name           string // the subscriber's
	WebhookURL     string // the subscriber's
}

// PlanDeliveries creates the delivery rows of a stored event for up to limit of its
// subscribers with ids above after, in id order, and returns them with the cursor for the
// next page (0 when there is none). It is idempotent: rows that exist are returned as
// they are. A subscriber that is inactive with policy discard gets a row that is already
// discarded. workflowID names each delivery's workflow.
func (s *Store) PlanDeliveries(ctx context.Context, ev *models.Event, after int64, limit int, workflowID func(subscriberID int64) string) (planned []PlannedDelivery, next int64, err error) {
	type subRow struct {
		ID             int64
		OrganizationID string
		ExtensionID    string
		Name           string
		WebhookURL     string
		Status         string
		InactivePolicy string
	}
	var subs []subRow
	// Only the subscribers of extensions that the event's company has installed: the
	// join probes idx_installations_company_ext once per subscriber, in the same query.
	q := s.db.WithContext(ctx).Table("subscribers AS s").
		Select("s.id, s.organization_id, s.extension_id, s.name, s.webhook_url, s.status, s.inactive_policy").
		Joins("JOIN subscriber_events se ON se.subscriber_id = s.id AND se.slug = ?", ev.Slug).
		Joins("JOIN installations i ON i.company_id = s.company_id AND i.organization_id = s.organization_id AND i.extension_id = s.extension_id").
		Where("s.company_id = ? AND s.deleted_at IS NULL AND s.id > ?", ev.CompanyID, after)
	if app := ev.ApplicationID; app != "" {
		// An application's event goes where neither the installation nor the subscriber
		// limits the applications, or where both list it. An id with a comma is in no
		// list (list members have none), and would otherwise match across two members.
		if strings.ContainsRune(app, ',') {
			q = q.Where("i.application_ids = '' AND s.application_ids = ''")
		} else {
			like := likeMember(app)
			q = q.Where(`(i.application_ids = '' OR i.application_ids LIKE ? ESCAPE '\') AND (s.application_ids = '' OR s.application_ids LIKE ? ESCAPE '\')`, like, like)
		}
	}
	err = q.Order("s.id").Limit(limit + 1).Scan(&subs).Error
	if err != nil {
		return nil, 0, dbError(err, "")
	}
	if len(subs) > limit {
		subs = subs[:limit]
		next = subs[len(subs)-1].ID
	}
	now := s.Now()
	if len(subs) == 0 {
		return nil, 0, dbError(s.markFannedOut(s.db.WithContext(ctx), ev.ID, now), "")
	}
	rows := make([]models.Delivery, len(subs))
	ids := make([]int64, len(subs))
	for i, sub := range subs {
		status := models.DeliveryPending
		var completed *time.Time
		if sub.Status == models.StatusInactive && sub.InactivePolicy == models.PolicyDiscard {
			status, completed = models.DeliveryDiscarded, &now
		}
		rows[i] = models.Delivery{
			EventRowID: ev.ID, SubscriberID: sub.ID, EventID: ev.EventID, CompanyID: ev.CompanyID,
			OrganizationID: sub.OrganizationID, ExtensionID: sub.ExtensionID, EventSlug: ev.Slug,
			Status: status, WorkflowID: workflowID(sub.ID), EventAcceptedAt: ev.AcceptedAt, CreatedAt: now, UpdatedAt: now, CompletedAt: completed,
		}
		ids[i] = sub.ID
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "event_row_id"}, {Name: "subscriber_id"}},
			DoNothing: true,
		}).CreateInBatches(rows, 500).Error; err != nil {
			return err
		}
		if next == 0 {
			if err := s.markFannedOut(tx, ev.ID, now); err != nil {
				return err
			}
		}
		return tx.Model(&models.Delivery{}).Select("id AS delivery_id, subscriber_id, status, workflow_id").
			Where("event_row_id = ? AND subscriber_id IN ?", ev.ID, ids).Order("subscriber_id").
			Scan(&planned).Error
	})
	if err != nil {
		return nil, 0, dbError(err, "")
	}
	byID := make(map[int64]*subRow, len(subs))
	for i := range subs {
		byID[subs[i].ID] = &subs[i]
	}
	for i := range planned {
		if sub := byID[planned[i].SubscriberID]; sub != nil {
			planned[i].OrganizationID, planned[i].Name, planned[i].WebhookURL = sub.OrganizationID, sub.Name, sub.WebhookURL
		}
	}
	return planned, next, nil
}

// DeliveryByID returns a delivery regardless of tenant. Returns ENOTFOUND.
func (s *Store) DeliveryByID(ctx context.Context, id int64) (*models.Delivery, error) {
	var d models.Delivery
	if err := s.rdb.WithContext(ctx).Where("id = ?", id).Take(&d).Error; err != nil {
		return nil, dbError(err, fmt.Sprintf("delivery %d not found", id))
	}
	return &d, nil
}

// HoldResult says what became of a delivery whose subscriber was not active.
type HoldResult string

// Hold results.
const (
	HoldNone      HoldResult = ""          // the subscriber is active: go ahead
	HoldQueued    HoldResult = "queued"    // the delivery waits for re-activation
	HoldDiscarded HoldResult = "discarded" // the delivery was discarded
	HoldDeleted   HoldResult = "deleted"   // the subscriber was deleted: the delivery was discarded
	// HoldUninstalled: the company uninstalled the subscriber's extension; the delivery
	// was discarded.
	HoldUninstalled HoldResult = "uninstalled"
)

// HoldIfInactive checks, under a lock on the subscriber row, whether the delivery may go
// out. If the subscriber is active it changes nothing and returns HoldNone. Otherwise it
// marks the delivery queued or discarded per the subscriber's policy (blocked subscribers
// always queue). Because SetSubscriberStatus takes the same lock, a delivery is never
// marked queued after a re-activation has listed the queue (no lost wake-ups).
func (s *Store) HoldIfInactive(ctx context.Context, deliveryID, subscriberID int64, run Run) (HoldResult, error) {
	result := HoldNone
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		status, policy, err := s.lockSubscriber(tx, subscriberID)
		if err != nil {
			return err
		}
		now := s.Now()
		updates := run.updates(map[string]any{"updated_at": now})
		if status == models.StatusActive {
			return nil
		}
		// Checked under the subscriber's lock, which DeleteInstallation takes too: a
		// delivery never queues after an uninstall has listed the queue.
		var tenant struct {
			ExtensionID string
			CompanyID   int64
			Installed   int64
		}
		if err := tx.Raw(`SELECT s.extension_id, s.company_id, (SELECT COUNT(*) FROM installations i WHERE i.company_id = s.company_id
			AND i.organization_id = s.organization_id AND i.extension_id = s.extension_id) AS installed
			FROM subscribers s WHERE s.id = ?`, subscriberID).Scan(&tenant).Error; err != nil {
			return err
		}
		switch {
		case tenant.Installed == 0:
			result = HoldUninstalled
			updates["status"], updates["completed_at"], updates["last_error"] = models.DeliveryDiscarded, now, models.UninstalledReason(tenant.ExtensionID, tenant.CompanyID)
		case status == "deleted":
			result = HoldDeleted
			updates["status"], updates["completed_at"], updates["last_error"] = models.DeliveryDiscarded, now, "subscriber deleted"
		case status == models.StatusInactive && policy == models.PolicyDiscard:
			result = HoldDiscarded
			updates["status"], updates["completed_at"] = models.DeliveryDiscarded, now
		default:
			result = HoldQueued
			updates["status"] = models.DeliveryQueued
		}
		return tx.Model(&models.Delivery{}).Where("id = ?", deliveryID).Updates(updates).Error
	})
	if err != nil {
		return HoldNone, dbError(err, fmt.Sprintf("subscriber %d not found", subscriberID))
	}
	return result, nil
}

// Run names the workflow run that works on a delivery: the delivery's own workflow, or
// in inline-first mode the event workflow that made its first attempt. The delivery row
// points at the last one, so that its link into Temporal UI shows its latest attempt.
type Run struct {
	WorkflowID string
	RunID      string
}

// updates adds the run to a delivery update, when it is known.
func (r Run) updates(m map[string]any) map[string]any {
	if r.WorkflowID != "" {
		m["workflow_id"] = r.WorkflowID
	}
	if r.RunID != "" {
		m["run_id"] = r.RunID
	}
	return m
}

// AttemptRecord is the outcome of one attempt and the delivery status it leads to.
type AttemptRecord struct {
	Attempt models.Attempt
	Status  string // the delivery's status after this attempt
	Run     Run
	// RetryBody, when set, is stored as the delivery's RetryBody: the body its retries send.
	RetryBody []byte
	// ClearRetryBody drops the delivery's RetryBody (the series ended).
	ClearRetryBody bool
}

// RecordAttempt stores an attempt and updates its delivery's status and last-attempt
// fields. Concurrent calls are committed together, in one transaction (see
// attemptWriter). Recording the same attempt number twice (an activity retried after its
// row was written) keeps the first.
func (s *Store) RecordAttempt(ctx context.Context, rec AttemptRecord) error {
	return s.attempts.write(ctx, rec)
}

// FinishDelivery sets a delivery's final status with a reason, without an attempt (a
// filter that did not match, exhausted retries, a filter that failed).
func (s *Store) FinishDelivery(ctx context.Context, deliveryID int64, status, reason string, run Run) error {
	now := s.Now()
	updates := run.updates(map[string]any{"status": status, "updated_at": now, "completed_at": now, "retry_body": nil})
	if reason != "" {
		updates["last_error"] = storableText(reason, 1024)
	}
	err := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("id = ?", deliveryID).Updates(updates).Error
	return dbError(err, "")
}

// RecordDeliveryFailed is FinishDelivery with status failed for a delivery that may have
// been failed already by an earlier try of the same activity: it reports whether the
// delivery was not failed before (so that a redo does not count the failure twice), and
// leaves an already failed delivery as it is.
func (s *Store) RecordDeliveryFailed(ctx context.Context, deliveryID int64, reason string, run Run) (bool, error) {
	now := s.Now()
	updates := run.updates(map[string]any{"status": models.DeliveryFailed, "updated_at": now, "completed_at": now, "retry_body": nil})
	if reason != "" {
		updates["last_error"] = storableText(reason, 1024)
	}
	res := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("id = ? AND status <> ?", deliveryID, models.DeliveryFailed).Updates(updates)
	if res.Error != nil {
		return false, dbError(res.Error, "")
	}
	return res.RowsAffected > 0, nil
}

// ListAttempts returns a delivery's attempts in order.
func (s *Store) ListAttempts(ctx context.Context, deliveryID int64) ([]models.Attempt, error) {
	var out []models.Attempt
	err := s.rdb.WithContext(ctx).Where("delivery_id = ?", deliveryID).Order("attempt, id").Find(&out).Error
	return out, dbError(err, "")
}

// BlockSubscriber blocks an active subscriber because of reason (retries exhausted, 410
// Gone); new deliveries to it queue until a user re-activates it. It reports whether the
// status changed: a subscriber that is already blocked or that its partner made inactive
// is left as it is.
func (s *Store) BlockSubscriber(ctx context.Context, id int64, reason string) (bool, error) {
	blocked, _, err := s.BlockSubscriberWithAlert(ctx, id, reason, nil)
	return blocked, err
}

// BlockSubscriberWithAlert is BlockSubscriber that, when it blocks the subscriber, also
// stores the notification alert builds from the blocked subscriber, in the same
// transaction: a block is never recorded without its alert. The notification's tenant
// and subscriber are the subscriber's. It returns the notification (nil when the
// subscriber was not blocked now, or alert is nil).
func (s *Store) BlockSubscriberWithAlert(ctx context.Context, id int64, reason string, alert func(*models.Subscriber) *models.Notification) (bool, *models.Notification, error) {
	var (
		blocked bool
		n       *models.Notification
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.Now()
		res := tx.Model(&models.Subscriber{}).Where("id = ? AND status = ?", id, models.StatusActive).
			Updates(map[string]any{"status": models.StatusBlocked, "blocked_reason": storableText(reason, 512), "updated_on": now})
		if res.Error != nil {
			return res.Error
		}
		if blocked = res.RowsAffected > 0; !blocked || alert == nil {
			return nil
		}
		var sub models.Subscriber
		if err := tx.Where("id = ?", id).Take(&sub).Error; err != nil {
			return err
		}
		n = alert(&sub)
		n.OrganizationID, n.ExtensionID, n.SubscriberID = sub.OrganizationID, sub.ExtensionID, sub.ID
		return createNotification(tx, now, n)
	})
	if err != nil {
		return false, nil, dbError(err, fmt.Sprintf("subscriber %d not found", id))
	}
	return blocked, n, nil
}

// QueuedDeliveries returns up to limit queued deliveries of a subscriber, oldest event
// first (by acceptance time, then id).
func (s *Store) QueuedDeliveries(ctx context.Context, subscriberID int64, limit int) ([]models.Delivery, error) {
	var out []models.Delivery
	err := s.rdb.WithContext(ctx).Where("subscriber_id = ? AND status = ?", subscriberID, models.DeliveryQueued).
		Order("event_accepted_at, id").Limit(limit).Find(&out).Error
	return out, dbError(err, "")
}

// MarkReleased moves a queued delivery back to pending, as it is woken.
func (s *Store) MarkReleased(ctx context.Context, id int64) error {
	err := s.db.WithContext(ctx).Model(&models.Delivery{}).Where("id = ? AND status = ?", id, models.DeliveryQueued).
		Updates(map[string]any{"status": models.DeliveryPending, "updated_at": s.Now()}).Error
	return dbError(err, "")
}

// DeliveryJob is what one attempt of a delivery needs: the delivery, its subscriber (with
// only the subscription to the delivery's event in Events, when there is one) — read in
// one statement.
type DeliveryJob struct {
	Delivery   models.Delivery
	Subscriber models.Subscriber
	// Installed says that the delivery's company still has the subscriber's extension
	// installed; a delivery of an uninstalled extension is discarded, not sent.
	Installed bool
	// Flow is the subscriber's flow-control state.
	Flow models.Flow
}

// LoadDeliveryJob reads a delivery with its subscriber, deleted or not, and the
// subscriber's configuration for the delivery's event. Returns ENOTFOUND.
func (s *Store) LoadDeliveryJob(ctx context.Context, id int64) (*DeliveryJob, error) {
	var rows []struct {
		models.Delivery
		SubName           string
		SubWebhookURL     string
		SubStatus         string
		SubInactivePolicy string
		SubEmailID        string
		SubCustomHeaders  models.Headers
		SubSecret         string
		SubPreviousSecret string
		SubPreviousUntil  *time.Time
		SubTimeoutMS      int
		SubBlockedReason  string
		SubCreatedOn      time.Time
		SubUpdatedOn      time.Time
		SubDeletedAt      gorm.DeletedAt
		SubRateLimit      float64
		SubRateLimitBurst int
		SubMaxInFlight    int
		FlowEpoch         *int64
		FlowPushBackRate  *float64
		FlowPushBackAtUS  *int64
		FlowPushBackCeil  *float64
		FlowPausedUntilUS *int64
		SeID              *int64
		SeFilters         models.JSON
		SeReducer         models.JSON
		InstID            *int64
	}
	err := s.rdb.WithContext(ctx).Table("deliveries AS d").
		Select(`d.*, s.name AS sub_name, s.webhook_url AS sub_webhook_url, s.status AS sub_status,
			s.inactive_policy AS sub_inactive_policy, s.email_id AS sub_email_id, s.custom_headers AS sub_custom_headers,
			s.secret AS sub_secret, s.previous_secret AS sub_previous_secret, s.previous_until AS sub_previous_until,
			s.timeout_ms AS sub_timeout_ms, s.blocked_reason AS sub_blocked_reason, s.created_on AS sub_created_on,
			s.updated_on AS sub_updated_on, s.deleted_at AS sub_deleted_at,
			s.rate_limit AS sub_rate_limit, s.rate_limit_burst AS sub_rate_limit_burst, s.max_in_flight AS sub_max_in_flight,
			f.epoch AS flow_epoch, f.push_back_rate AS flow_push_back_rate, f.push_back_at_us AS flow_push_back_at_us,
			f.push_back_ceiling AS flow_push_back_ceil, f.paused_until_us AS flow_paused_until_us,
			se.id AS se_id, se.filters AS se_filters, se.reducer AS se_reducer, i.id AS inst_id`).
		Joins("JOIN subscribers AS s ON s.id = d.subscriber_id").
		Joins("LEFT JOIN subscriber_flows AS f ON f.subscriber_id = d.subscriber_id").
		Joins("LEFT JOIN subscriber_events AS se ON se.subscriber_id = d.subscriber_id AND se.slug = d.event_slug").
		Joins(`LEFT JOIN installations AS i ON i.company_id = d.company_id AND i.organization_id = d.organization_id
			AND i.extension_id = d.extension_id`).
		Where("d.id = ?", id).Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, dbError(err, "")
	}
	if len(rows) == 0 {
		return nil, &models.Error{Code: models.ENOTFOUND, Message: fmt.Sprintf("delivery %d not found", id)}
	}
	r := rows[0]
	job := &DeliveryJob{Delivery: r.Delivery, Installed: r.InstID != nil, Subscriber: models.Subscriber{
		ID: r.SubscriberID, OrganizationID: r.OrganizationID, ExtensionID: r.ExtensionID, CompanyID: r.CompanyID,
		Name: r.SubName, WebhookURL: r.SubWebhookURL, Status: r.SubStatus, InactivePolicy: r.SubInactivePolicy,
		EmailID: r.SubEmailID, CustomHeaders: r.SubCustomHeaders, Secret: r.SubSecret, PreviousSecret: r.SubPreviousSecret,
		PreviousUntil: r.SubPreviousUntil, TimeoutMS: r.SubTimeoutMS, BlockedReason: r.SubBlockedReason,
		CreatedOn: r.SubCreatedOn, UpdatedOn: r.SubUpdatedOn, DeletedAt: r.SubDeletedAt,
		RateLimit: r.SubRateLimit, RateLimitBurst: r.SubRateLimitBurst, MaxInFlight: r.SubMaxInFlight,
	}}
	if r.FlowEpoch != nil {
		job.Flow = subscriberFlow{Epoch: *r.FlowEpoch, PushBackRate: *r.FlowPushBackRate, PushBackAtUS: *r.FlowPushBackAtUS,
			PushBackCeiling: *r.FlowPushBackCeil, PausedUntilUS: *r.FlowPausedUntilUS}.flow()
	}
	if r.SeID != nil {
		job.Subscriber.Events = []models.SubscriberEvent{{ID: *r.SeID, SubscriberID: r.SubscriberID, Slug: r.EventSlug, Filters: r.SeFilters, Reducer: r.SeReducer}}
	}
	return job, nil
}

// markFannedOut records that event id's deliveries are all planned (Event.FannedOutAt),
// in PlanDeliveries' last page.
func (s *Store) markFannedOut(tx *gorm.DB, id int64, now time.Time) error {
	return tx.Model(&models.Event{}).Where("id = ? AND fanned_out_at IS NULL", id).Update("fanned_out_at", now).Error
}
