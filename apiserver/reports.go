package apiserver

import (
	"context"

	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// reportStore is what the reports need of the store.
type reportStore interface {
	ResponseTimeSeries(ctx context.Context, q store.ReportQuery) ([]store.ResponseTimePoint, error)
	DeliverySummary(ctx context.Context, q store.ReportQuery) ([]store.EventSummary, error)
	DeliverySeries(ctx context.Context, q store.ReportQuery) ([]store.DeliveryPoint, error)
	DeliveryDetails(ctx context.Context, q store.DetailsQuery) ([]store.DeliveryDetail, int64, error)
	QueueDepth(ctx context.Context, t models.Tenant) (queued, inFlight int64, err error)
}

func (s *Server) registerReportRoutes(r gin.IRouter) {
	r.GET("/report/response_time_ts", s.handleResponseTimeReport)
	r.GET("/report/delivery_summary", s.handleDeliverySummaryReport)
	r.GET("/report/delivery_ts", s.handleDeliveryTSReport)
	r.POST("/report/delivery_details", s.handleDeliveryDetailsReport)
	r.GET("/report/queue", s.handleQueueReport)
}

// reportQuery reads the required start_date and end_date query parameters.
func reportQuery(c *gin.Context) (store.ReportQuery, error) {
	var v models.Validation
	start, end := parseRange(c.Query("start_date"), c.Query("end_date"), &v)
	if err := v.Err(); err != nil {
		return store.ReportQuery{}, err
	}
	if end.Sub(start) > 366*24*time.Hour {
		return store.ReportQuery{}, models.Invalid("end_date", "the range may span at most 366 days")
	}
	return store.ReportQuery{Tenant: tenant(c), Start: start, End: end, Bucket: store.BucketFor(start, end)}, nil
}

type avgResponseTime struct {
	LastAttemptedOn string `json:"last_attempted_on"`
	ResponseCode    int    `json:"response_code"`
	ResponseTime    string `json:"response_time"` // milliseconds, as in Fynd's API
	Attempt         int    `json:"attempt"`
	Total           int64  `json:"total"`
}

// handleResponseTimeReport is Fynd's response-time summary: for each time bucket,
// response code and attempt number, the average response time in milliseconds and how
// many attempts it averages. Buckets are minutes for ranges up to 6 hours, hours up to
// 14 days, days beyond; last_attempted_on is the bucket's start.
func (s *Server) handleResponseTimeReport(c *gin.Context) {
	q, err := reportQuery(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	points, err := s.store.ResponseTimeSeries(c.Request.Context(), q)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]avgResponseTime, len(points))
	for i, p := range points {
		out[i] = avgResponseTime{LastAttemptedOn: p.Bucket.UTC().Format(time.RFC3339), ResponseCode: p.ResponseCode,
			ResponseTime: strconv.FormatFloat(round2(p.AvgResponseMS), 'f', -1, 64), Attempt: p.Attempt, Total: p.Count}
	}
	c.JSON(http.StatusOK, gin.H{"avg_response_time_ts": out, "bucket": q.Bucket})
}

type eventLevel struct {
	Event            string  `json:"event"`
	Success          int64   `json:"success"`
	Failed           int64   `json:"failed"`
	FailedPercentage float64 `json:"failed_percentage"`
	Total            int64   `json:"total"`
	ResponseTime     float64 `json:"response_time"`
}

type summary struct {
	Success          int64   `json:"success"`
	Failed           int64   `json:"failed"`
	FailedPercentage float64 `json:"failed_percentage"`
	ResponseTime     float64 `json:"response_time"`
}

// handleDeliverySummaryReport counts the deliveries created in the range per event:
// succeeded, failed, total (every status), failed_percentage = failed / (success +
// failed) × 100, and the average response time in milliseconds of their attempts that
// got an answer.
func (s *Server) handleDeliverySummaryReport(c *gin.Context) {
	q, err := reportQuery(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	rows, err := s.store.DeliverySummary(c.Request.Context(), q)
	if err != nil {
		s.writeError(c, err)
		return
	}
	levels := make([]eventLevel, len(rows))
	var sum summary
	var weighted float64
	var answered int64
	for i, r := range rows {
		levels[i] = eventLevel{Event: r.EventSlug, Success: r.Succeeded, Failed: r.Failed,
			FailedPercentage: percentage(r.Failed, r.Succeeded+r.Failed), Total: r.Total, ResponseTime: round2(r.AvgResponseMS)}
		sum.Success += r.Succeeded
		sum.Failed += r.Failed
		if r.AvgResponseMS > 0 {
			// Weighted by the event's outcomes, so that a rare event does not count like a busy one.
			weighted += r.AvgResponseMS * float64(r.Succeeded+r.Failed)
			answered += r.Succeeded + r.Failed
		}
	}
	sum.FailedPercentage = percentage(sum.Failed, sum.Success+sum.Failed)
	if answered > 0 {
		sum.ResponseTime = round2(weighted / float64(answered))
	}
	c.JSON(http.StatusOK, gin.H{"delivery_event_level": levels, "delivery_summary": sum})
}

type deliveryTS struct {
	Timestamp string `json:"timestamp"`
	Success   int64  `json:"success"`
	Failed    int64  `json:"failed"`
}

// handleDeliveryTSReport counts the deliveries created in each bucket of the range that
// succeeded and that failed.
func (s *Server) handleDeliveryTSReport(c *gin.Context) {
	q, err := reportQuery(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	points, err := s.store.DeliverySeries(c.Request.Context(), q)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]deliveryTS, len(points))
	for i, p := range points {
		out[i] = deliveryTS{Timestamp: p.Bucket.UTC().Format(time.RFC3339), Success: p.Succeeded, Failed: p.Failed}
	}
	c.JSON(http.StatusOK, gin.H{"delivery_ts": out, "bucket": q.Bucket})
}

type deliveryDetailsRequest struct {
	CompanyID int64    `json:"company_id"`
	PageNo    int      `json:"page_no"`
	PageSize  int      `json:"page_size"`
	StartDate string   `json:"start_date"`
	EndDate   string   `json:"end_date"`
	Event     []string `json:"event"`
	Status    string   `json:"status"`
}

type deliveryRow struct {
	DeliveryID      int64   `json:"delivery_id"`
	EventID         string  `json:"event_id"`
	EventName       string  `json:"event_name"`
	CompanyID       int64   `json:"company_id"`
	SubscriberID    int64   `json:"subscriber_id"`
	Name            string  `json:"name"`
	WebhookURL      string  `json:"webhook_url"`
	Status          string  `json:"status"`
	Attempt         int     `json:"attempt"`
	ResponseCode    int     `json:"response_code"`
	ResponseMessage string  `json:"response_message"`
	ResponseTime    float64 `json:"response_time"`
	LastAttemptedOn *string `json:"last_attempted_on"`
	CreatedOn       string  `json:"created_on"`
}

func newDeliveryRow(d *store.DeliveryDetail) deliveryRow {
	row := deliveryRow{DeliveryID: d.ID, EventID: d.EventID, EventName: d.EventSlug, CompanyID: d.CompanyID,
		SubscriberID: d.SubscriberID, Name: d.SubscriberName, WebhookURL: d.WebhookURL, Status: d.Status,
		Attempt: d.Attempts, ResponseCode: d.LastResponseCode, ResponseMessage: responseMessage(d.LastResponseCode, d.LastError, d.Status),
		ResponseTime: round2(d.LastResponseTimeMS), CreatedOn: d.CreatedAt.UTC().Format(time.RFC3339)}
	if d.LastAttemptedOn != nil {
		t := d.LastAttemptedOn.UTC().Format(time.RFC3339Nano)
		row.LastAttemptedOn = &t
	}
	return row
}

func responseMessage(code int, lastError, status string) string {
	switch {
	case lastError != "":
		return lastError
	case code > 0:
		return strconv.Itoa(code) + " " + http.StatusText(code)
	}
	return status
}

// handleDeliveryDetailsReport lists the deliveries created in the range, newest first,
// optionally of one company, some events and one status.
func (s *Server) handleDeliveryDetailsReport(c *gin.Context) {
	var req deliveryDetailsRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var v models.Validation
	start, end := parseRange(req.StartDate, req.EndDate, &v)
	if req.PageNo == 0 {
		req.PageNo = 1
	}
	if req.PageSize == 0 {
		req.PageSize = 20
	}
	// Bounded like the subscriber list's: (page_no-1)*page_size must not overflow.
	if req.PageNo < 1 || req.PageNo > 1_000_000 {
		v.Add("page_no", "must be from 1 to 1000000")
	}
	if req.PageSize < 1 || req.PageSize > 100 {
		v.Add("page_size", "must be from 1 to 100")
	}
	if req.CompanyID < 0 {
		v.Add("company_id", "must be a positive integer")
	}
	if len(req.Event) > 100 {
		v.Add("event", "at most 100 events")
	}
	switch req.Status {
	case "", models.DeliveryPending, models.DeliveryRetrying, models.DeliverySucceeded, models.DeliveryFailed,
		models.DeliveryFiltered, models.DeliveryQueued, models.DeliveryDiscarded, models.DeliveryFilterFail:
	default:
		v.Add("status", "must be one of pending, retrying, succeeded, failed, filtered, queued, discarded, filter_error")
	}
	if err := v.Err(); err != nil {
		s.writeError(c, err)
		return
	}
	rows, total, err := s.store.DeliveryDetails(c.Request.Context(), store.DetailsQuery{
		ReportQuery: store.ReportQuery{Tenant: tenant(c), Start: start, End: end},
		CompanyID:   req.CompanyID, EventSlugs: req.Event, Status: req.Status, PageNo: req.PageNo, PageSize: req.PageSize,
	})
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]deliveryRow, len(rows))
	for i := range rows {
		out[i] = newDeliveryRow(&rows[i])
	}
	c.JSON(http.StatusOK, gin.H{"rows": out, "page": newPage(req.PageNo, req.PageSize, total)})
}

// handleQueueReport tells how many of the tenant's deliveries wait: queued for an
// inactive or blocked subscriber, or pending and retrying.
func (s *Server) handleQueueReport(c *gin.Context) {
	queued, inFlight, err := s.store.QueueDepth(c.Request.Context(), tenant(c))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"queued": queued, "in_flight": inFlight, "queue_depth": queued + inFlight})
}

func percentage(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return round2(float64(part) * 100 / float64(whole))
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
