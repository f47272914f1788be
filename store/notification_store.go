package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/hookflow/hookflow/models"
)

// CreateNotification stores n and sets its ID and CreatedAt.
func (s *Store) CreateNotification(ctx context.Context, n *models.Notification) error {
	return createNotification(s.db.WithContext(ctx), s.Now(), n)
}

func createNotification(tx *gorm.DB, now time.Time, n *models.Notification) error {
	n.ID = 0
	n.CreatedAt = now
	return dbError(tx.Create(n).Error, "")
}

// UnsentNotifications returns the notifications that delivery deliveryID's failure
// raised and that still wait to be mailed — not sent, with an address, fewer than
// maxSends tries begun — oldest first.
func (s *Store) UnsentNotifications(ctx context.Context, deliveryID int64, maxSends int) ([]models.Notification, error) {
	var out []models.Notification
	err := s.rdb.WithContext(ctx).
		Where("delivery_id = ? AND sent_at IS NULL AND email <> '' AND send_attempts < ?", deliveryID, maxSends).
		Order("id").Find(&out).Error
	return out, dbError(err, "")
}

// BeginNotificationSend counts a try to mail notification id, before it is made.
func (s *Store) BeginNotificationSend(ctx context.Context, id int64) error {
	err := s.db.WithContext(ctx).Model(&models.Notification{}).Where("id = ?", id).
		Update("send_attempts", gorm.Expr("send_attempts + 1")).Error
	return dbError(err, "")
}

// MarkNotificationSent records the outcome of sending a notification by mail.
func (s *Store) MarkNotificationSent(ctx context.Context, id int64, sendErr error) error {
	updates := map[string]any{}
	if sendErr != nil {
		updates["send_error"] = models.Truncate(sendErr.Error(), 1024)
	} else {
		updates["sent_at"] = s.Now()
	}
	return dbError(s.db.WithContext(ctx).Model(&models.Notification{}).Where("id = ?", id).Updates(updates).Error, "")
}

// ListNotifications returns tenant t's latest notifications, newest first.
func (s *Store) ListNotifications(ctx context.Context, t models.Tenant, limit int) ([]models.Notification, error) {
	var out []models.Notification
	err := s.rdb.WithContext(ctx).Where("organization_id = ? AND extension_id = ?", t.OrganizationID, t.ExtensionID).
		Order("id DESC").Limit(limit).Find(&out).Error
	return out, dbError(err, "")
}
