package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hookflow/hookflow/models"
)

// Bucket sizes of the time-series reports.
const (
	BucketMinute = "minute"
	BucketHour   = "hour"
	BucketDay    = "day"
)

// BucketFor returns the bucket size of a report over [start, end): minutes up to 6
// hours, hours up to 14 days, days beyond. A series thus has at most 360 buckets per
// (code, attempt) for a short range and stays readable for a long one.
func BucketFor(start, end time.Time) string {
	switch d := end.Sub(start); {
	case d <= 6*time.Hour:
		return BucketMinute
	case d <= 14*24*time.Hour:
		return BucketHour
	}
	return BucketDay
}

// bucketExpr is the SQL that truncates column to bucket, as an RFC 3339 UTC text on
// SQLite and a timestamp on PostgreSQL.
func (s *Store) bucketExpr(column, bucket string) string {
	if s.dialect == "postgres" {
		return fmt.Sprintf("date_trunc('%s', %s AT TIME ZONE 'UTC')", bucket, column)
	}
	format := map[string]string{BucketMinute: "%Y-%m-%dT%H:%M:00Z", BucketHour: "%Y-%m-%dT%H:00:00Z", BucketDay: "%Y-%m-%dT00:00:00Z"}[bucket]
	return fmt.Sprintf("strftime('%s', %s)", format, column)
}

// ReportQuery scopes a report: a tenant and a time range [Start, End).
type ReportQuery struct {
	Tenant     models.Tenant
	Start, End time.Time
	Bucket     string // BucketMinute, BucketHour or BucketDay
}

// ResponseTimePoint is one row of the response-time series: the attempts of one bucket
// with one response code and attempt number.
type ResponseTimePoint struct {
	Bucket        time.Time
	ResponseCode  int
	Attempt       int
	AvgResponseMS float64
	Count         int64
}

// bucketSelect selects the bucket of column as bucket_text on SQLite (RFC 3339 text) and
// bucket_time on PostgreSQL; bucketTime reads either.
func (s *Store) bucketSelect(column, bucket string) string {
	if s.dialect == "postgres" {
		return s.bucketExpr(column, bucket) + " AS bucket_time"
	}
	return s.bucketExpr(column, bucket) + " AS bucket_text"
}

func bucketTime(text string, t time.Time) time.Time {
	if text != "" {
		if parsed, err := time.Parse(time.RFC3339, text); err == nil {
			return parsed
		}
	}
	return t.UTC()
}

// ResponseTimeSeries aggregates the tenant's attempts in the range by bucket, response
// code and attempt number, oldest bucket first. It reads the per-minute AttemptStat
// rows: an attempt counts when the minute it was made in starts within the range.
func (s *Store) ResponseTimeSeries(ctx context.Context, q ReportQuery) ([]ResponseTimePoint, error) {
	type row struct {
		BucketText   string
		BucketTime   time.Time
		ResponseCode int
		Attempt      int
		TotalMS      float64
		Count        int64
	}
	var rows []row
	bucket := s.bucketExpr("minute", q.Bucket)
	err := s.rdb.WithContext(ctx).Model(&models.AttemptStat{}).
		Select(s.bucketSelect("minute", q.Bucket)+", response_code, attempt, SUM(total_ms) AS total_ms, SUM(count) AS count").
		Where("organization_id = ? AND extension_id = ? AND minute >= ? AND minute < ?", q.Tenant.OrganizationID, q.Tenant.ExtensionID, q.Start, q.End).
		Group(bucket + ", response_code, attempt").Order(bucket + ", response_code, attempt").Scan(&rows).Error
	if err != nil {
		return nil, dbError(err, "")
	}
	out := make([]ResponseTimePoint, len(rows))
	for i, r := range rows {
		avg := 0.0
		if r.Count > 0 {
			avg = r.TotalMS / float64(r.Count)
		}
		out[i] = ResponseTimePoint{Bucket: bucketTime(r.BucketText, r.BucketTime), ResponseCode: r.ResponseCode, Attempt: r.Attempt, AvgResponseMS: avg, Count: r.Count}
	}
	return out, nil
}

// EventSummary counts the deliveries of one event type.
type EventSummary struct {
	EventSlug     string
	Succeeded     int64
	Failed        int64
	Total         int64 // every delivery in the range, whatever its status
	AvgResponseMS float64
}

// DeliverySummary counts the tenant's deliveries created in the range by event type, and
// averages the response times of their attempts in the range.
func (s *Store) DeliverySummary(ctx context.Context, q ReportQuery) ([]EventSummary, error) {
	var counts []EventSummary
	err := s.rdb.WithContext(ctx).Model(&models.Delivery{}).
		Select("event_slug, SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS succeeded, SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS failed, COUNT(*) AS total",
			models.DeliverySucceeded, models.DeliveryFailed).
		Where("organization_id = ? AND extension_id = ? AND created_at >= ? AND created_at < ?", q.Tenant.OrganizationID, q.Tenant.ExtensionID, q.Start, q.End).
		Group("event_slug").Order("event_slug").Scan(&counts).Error
	if err != nil {
		return nil, dbError(err, "")
	}
	var times []struct {
		EventSlug     string
		AvgResponseMS float64
	}
	err = s.rdb.WithContext(ctx).Model(&models.Attempt{}).Select("event_slug, AVG(response_time_ms) AS avg_response_ms").
		Where("organization_id = ? AND extension_id = ? AND attempted_on >= ? AND attempted_on < ? AND response_code > 0",
			q.Tenant.OrganizationID, q.Tenant.ExtensionID, q.Start, q.End).
		Group("event_slug").Scan(&times).Error
	if err != nil {
		return nil, dbError(err, "")
	}
	avg := make(map[string]float64, len(times))
	for _, t := range times {
		avg[t.EventSlug] = t.AvgResponseMS
	}
	for i := range counts {
		counts[i].AvgResponseMS = avg[counts[i].EventSlug]
	}
	return counts, nil
}

// DeliveryPoint counts the deliveries created in one bucket by outcome.
type DeliveryPoint struct {
	Bucket    time.Time
	Succeeded int64
	Failed    int64
}

// DeliverySeries counts the tenant's deliveries created in the range by bucket.
func (s *Store) DeliverySeries(ctx context.Context, q ReportQuery) ([]DeliveryPoint, error) {
	type row struct {
		BucketText string
		BucketTime time.Time
		Succeeded  int64
		Failed     int64
	}
	var rows []row
	err := s.rdb.WithContext(ctx).Model(&models.Delivery{}).
		Select(s.bucketSelect("created_at", q.Bucket)+", SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS succeeded, SUM(CASE WHEN status = ? THEN 1 ELSE 0 END) AS failed",
			models.DeliverySucceeded, models.DeliveryFailed).
		Where("organization_id = ? AND extension_id = ? AND created_at >= ? AND created_at < ?", q.Tenant.OrganizationID, q.Tenant.ExtensionID, q.Start, q.End).
		Group(s.bucketExpr("created_at", q.Bucket)).Order(s.bucketExpr("created_at", q.Bucket)).Scan(&rows).Error
	if err != nil {
		return nil, dbError(err, "")
	}
	out := make([]DeliveryPoint, len(rows))
	for i, r := range rows {
		out[i] = DeliveryPoint{Bucket: bucketTime(r.BucketText, r.BucketTime), Succeeded: r.Succeeded, Failed: r.Failed}
	}
	return out, nil
}

// DeliveryDetail is a delivery with its subscriber's name and URL.
type DeliveryDetail struct {
	models.Delivery
	SubscriberName string
	WebhookURL     string
}

// DetailsQuery selects deliveries for the delivery details report.
type DetailsQuery struct {
	ReportQuery
	CompanyID  int64    // 0: all
	EventSlugs []string // empty: all
	Status     string   // "": all
	PageNo     int
	PageSize   int
}

// DeliveryDetails returns one page of the tenant's deliveries created in the range,
// newest first, with the total that match.
func (s *Store) DeliveryDetails(ctx context.Context, q DetailsQuery) ([]DeliveryDetail, int64, error) {
	db := s.rdb.WithContext(ctx).Table("deliveries AS d").
		Joins("LEFT JOIN subscribers AS s ON s.id = d.subscriber_id").
		Where("d.organization_id = ? AND d.extension_id = ? AND d.created_at >= ? AND d.created_at < ?",
			q.Tenant.OrganizationID, q.Tenant.ExtensionID, q.Start, q.End)
	if q.CompanyID != 0 {
		db = db.Where("d.company_id = ?", q.CompanyID)
	}
	if len(q.EventSlugs) > 0 {
		db = db.Where("d.event_slug IN ?", q.EventSlugs)
	}
	if q.Status != "" {
		db = db.Where("d.status = ?", q.Status)
	}
	var total int64
	if err := db.Count(&total).Error; err != nil {
		return nil, 0, dbError(err, "")
	}
	var rows []DeliveryDetail
	err := db.Select(s.deliveryViewColumns() + ", s.name AS subscriber_name, s.webhook_url AS webhook_url").
		Order("d.created_at DESC, d.id DESC").Offset((q.PageNo - 1) * q.PageSize).Limit(q.PageSize).Scan(&rows).Error
	if err != nil {
		return nil, 0, dbError(err, "")
	}
	return rows, total, nil
}

// deliveryViewColumns lists the columns of deliveries AS d that the reports and the
// delivery view read: every one but retry_body, which may hold a 1 MiB body a row that
// they never show.
func (s *Store) deliveryViewColumns() string {
	s.viewColumnsOnce.Do(func() {
		stmt := &gorm.Statement{DB: s.db}
		if err := stmt.Parse(&models.Delivery{}); err != nil {
			panic(fmt.Sprintf("store: parse the delivery model: %v", err)) // a programming error
		}
		cols := make([]string, 0, len(stmt.Schema.DBNames))
		for _, c := range stmt.Schema.DBNames {
			if c != "retry_body" {
				cols = append(cols, "d."+c)
			}
		}
		s.viewColumns = strings.Join(cols, ", ")
	})
	return s.viewColumns
}

// TenantDelivery returns tenant t's delivery id with its subscriber's name and URL.
// Returns ENOTFOUND.
func (s *Store) TenantDelivery(ctx context.Context, t models.Tenant, id int64) (*DeliveryDetail, error) {
	var rows []DeliveryDetail
	err := s.rdb.WithContext(ctx).Table("deliveries AS d").
		Joins("LEFT JOIN subscribers AS s ON s.id = d.subscriber_id").
		Select(s.deliveryViewColumns()+", s.name AS subscriber_name, s.webhook_url AS webhook_url").
		Where("d.id = ? AND d.organization_id = ? AND d.extension_id = ?", id, t.OrganizationID, t.ExtensionID).
		Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, dbError(err, "")
	}
	if len(rows) == 0 {
		return nil, &models.Error{Code: models.ENOTFOUND, Message: fmt.Sprintf("delivery %d not found", id)}
	}
	return &rows[0], nil
}

// QueueDepth counts the tenant's deliveries waiting to go out: queued for an inactive or
// blocked subscriber, or pending and retrying.
func (s *Store) QueueDepth(ctx context.Context, t models.Tenant) (queued, inFlight int64, err error) {
	var rows []struct {
		Status string
		N      int64
	}
	err = s.rdb.WithContext(ctx).Model(&models.Delivery{}).Select("status, COUNT(*) AS n").
		Where("organization_id = ? AND extension_id = ? AND status IN ?", t.OrganizationID, t.ExtensionID,
			[]string{models.DeliveryQueued, models.DeliveryPending, models.DeliveryRetrying}).
		Group("status").Scan(&rows).Error
	if err != nil {
		return 0, 0, dbError(err, "")
	}
	for _, r := range rows {
		if r.Status == models.DeliveryQueued {
			queued += r.N
		} else {
			inFlight += r.N
		}
	}
	return queued, inFlight, nil
}

// Backlog counts, across all tenants, the deliveries queued and in flight (pending or
// retrying) and the blocked subscribers.
func (s *Store) Backlog(ctx context.Context) (queued, inFlight, blocked int64, err error) {
	var rows []struct {
		Status string
		N      int64
	}
	err = s.rdb.WithContext(ctx).Model(&models.Delivery{}).Select("status, COUNT(*) AS n").
		Where("status IN ?", []string{models.DeliveryQueued, models.DeliveryPending, models.DeliveryRetrying}).Group("status").Scan(&rows).Error
	if err != nil {
		return 0, 0, 0, dbError(err, "")
	}
	for _, r := range rows {
		if r.Status == models.DeliveryQueued {
			queued += r.N
		} else {
			inFlight += r.N
		}
	}
	err = s.rdb.WithContext(ctx).Model(&models.Subscriber{}).Where("status = ?", models.StatusBlocked).Count(&blocked).Error
	return queued, inFlight, blocked, dbError(err, "")
}
