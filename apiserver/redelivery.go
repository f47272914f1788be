package apiserver

import (
	"context"

	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// redeliveryStore is what redelivery, bulk retry and notifications need of the store.
type redeliveryStore interface {
	Redeliver(ctx context.Context, t models.Tenant, id int64, start store.StartFunc) (*models.Delivery, error)
	CreateRetryJob(ctx context.Context, j *models.RetryJob) error
	GetRetryJob(ctx context.Context, t models.Tenant, id int64) (*models.RetryJob, error)
	UpdateRetryJob(ctx context.Context, j *models.RetryJob) error
	CountDeliveries(ctx context.Context, q store.DeliveryQuery) (int64, error)
	ListNotifications(ctx context.Context, t models.Tenant, limit int) ([]models.Notification, error)
}

func (s *Server) registerRedeliveryRoutes(r gin.IRouter) {
	r.POST("/delivery/:delivery_id/retry", s.handleDeliveryRetry)
	r.POST("/retry", s.handleBulkRetryCreate)
	r.GET("/retry/:retry_id", s.handleBulkRetryGet)
	r.GET("/notifications", s.handleNotificationList)
}

type redeliveryResponse struct {
	DeliveryID int64  `json:"delivery_id"`
	Status     string `json:"status"`
	Series     int    `json:"series"`
	WorkflowID string `json:"workflow_id"`
}

// handleDeliveryRetry redelivers one delivery that has ended: a new attempt series in a
// new workflow, with the same webhook-id; the attempts of the earlier series are kept.
func (s *Server) handleDeliveryRetry(c *gin.Context) {
	id, err := pathID(c, "delivery_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	d, err := s.store.Redeliver(ctx, tenant(c), id, s.engine.Redeliver)
	if models.ErrorCode(err) == models.ECONFLICT {
		// Still under way, unless its workflow was closed from outside Hookflow.
		if settled, serr := s.settleAbandonedByID(ctx, tenant(c), id); serr != nil {
			// Its workflow cannot be read now: it counts as under way.
			s.log.WarnContext(ctx, "read the workflow of a delivery to redeliver", "delivery_id", id, "error", serr)
		} else if settled {
			d, err = s.store.Redeliver(ctx, tenant(c), id, s.engine.Redeliver)
		}
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	wfID := d.WorkflowID
	c.JSON(http.StatusAccepted, redeliveryResponse{DeliveryID: d.ID, Status: d.Status, Series: d.Series, WorkflowID: wfID})
}

type bulkRetryRequest struct {
	StartDate     string   `json:"start_date"`
	EndDate       string   `json:"end_date"`
	SubscriberIDs []int64  `json:"subscriber_ids"`
	EventSlugs    []string `json:"event_slugs"`
	Status        string   `json:"status"`
}

type bulkRetryResponse struct {
	ID            int64     `json:"id"`
	State         string    `json:"state"`
	StartDate     time.Time `json:"start_date"`
	EndDate       time.Time `json:"end_date"`
	SubscriberIDs []int64   `json:"subscriber_ids"`
	EventSlugs    []string  `json:"event_slugs"`
	Status        string    `json:"status"`
	Total         int       `json:"total"`
	Redelivered   int       `json:"redelivered"`
	Skipped       int       `json:"skipped"`
	WorkflowID    string    `json:"workflow_id"`
	Error         string    `json:"error,omitempty"` // why a failed job stopped
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func newBulkRetryResponse(j *models.RetryJob) bulkRetryResponse {
	out := bulkRetryResponse{ID: j.ID, State: j.State, StartDate: j.StartDate.UTC(), EndDate: j.EndDate.UTC(), Status: j.Status,
		Total: j.Total, Redelivered: j.Redelivered, Skipped: j.Skipped, WorkflowID: j.WorkflowID, Error: j.Error,
		CreatedAt: j.CreatedAt.UTC(), UpdatedAt: j.UpdatedAt.UTC(), SubscriberIDs: []int64{}, EventSlugs: []string{}}
	if len(j.SubscriberIDs) > 0 {
		_ = json.Unmarshal(j.SubscriberIDs, &out.SubscriberIDs)
	}
	if len(j.EventSlugs) > 0 {
		_ = json.Unmarshal(j.EventSlugs, &out.EventSlugs)
	}
	return out
}

// handleBulkRetryCreate redelivers, as one workflow, every delivery of the tenant created
// in [start_date, end_date) with the given status (failed by default), optionally only
// for some subscribers and events. It answers at once with the job; GET …/retry/{id}
// follows its progress.
func (s *Server) handleBulkRetryCreate(c *gin.Context) {
	var req bulkRetryRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var v models.Validation
	start, end := parseRange(req.StartDate, req.EndDate, &v)
	if req.Status == "" {
		req.Status = models.DeliveryFailed
	}
	if !models.DeliveryFinal(req.Status) {
		v.Add("status", "must be a final status: failed, succeeded, filtered, filter_error or discarded")
	}
	if len(req.SubscriberIDs) > 1000 {
		v.Add("subscriber_ids", "at most 1000")
	}
	if len(req.EventSlugs) > 100 {
		v.Add("event_slugs", "at most 100")
	}
	for i, slug := range req.EventSlugs {
		if _, err := models.ParseSlug(slug); err != nil {
			v.Add("event_slugs["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
	if err := v.Err(); err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	t := tenant(c)
	job := &models.RetryJob{OrganizationID: t.OrganizationID, ExtensionID: t.ExtensionID, StartDate: start, EndDate: end, Status: req.Status}
	if len(req.SubscriberIDs) > 0 {
		job.SubscriberIDs, _ = json.Marshal(req.SubscriberIDs)
	}
	if len(req.EventSlugs) > 0 {
		job.EventSlugs, _ = json.Marshal(req.EventSlugs)
	}
	total, err := s.store.CountDeliveries(ctx, store.DeliveryQuery{Tenant: t, Start: start, End: end,
		SubscriberIDs: req.SubscriberIDs, EventSlugs: req.EventSlugs, Status: req.Status})
	if err != nil {
		s.writeError(c, err)
		return
	}
	job.Total = int(total)
	if err := s.store.CreateRetryJob(ctx, job); err != nil {
		s.writeError(c, err)
		return
	}
	wfID, err := s.engine.StartBulkRetry(ctx, job.ID)
	if err != nil {
		job.State, job.Error = models.RetryFailed, "could not start: the workflow engine is unavailable"
		_ = s.store.UpdateRetryJob(ctx, job)
		s.writeError(c, err)
		return
	}
	job.WorkflowID = wfID
	if err := s.store.UpdateRetryJob(ctx, job); err != nil {
		s.writeError(c, err)
		return
	}
	s.log.InfoContext(ctx, "bulk retry started", "retry_id", job.ID, "total", job.Total)
	c.JSON(http.StatusAccepted, newBulkRetryResponse(job))
}

// handleBulkRetryGet reports a bulk redelivery's progress.
func (s *Server) handleBulkRetryGet(c *gin.Context) {
	id, err := pathID(c, "retry_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	job, err := s.store.GetRetryJob(c.Request.Context(), tenant(c), id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newBulkRetryResponse(job))
}

type notificationResponse struct {
	ID           int64      `json:"id"`
	SubscriberID int64      `json:"subscriber_id"`
	Kind         string     `json:"kind"`
	Email        string     `json:"email"`
	Subject      string     `json:"subject"`
	Message      string     `json:"message"`
	CreatedAt    time.Time  `json:"created_at"`
	SentAt       *time.Time `json:"sent_at"`
}

// handleNotificationList lists the tenant's latest alerts (subscribers blocked).
func (s *Server) handleNotificationList(c *gin.Context) {
	list, err := s.store.ListNotifications(c.Request.Context(), tenant(c), 100)
	if err != nil {
		s.writeError(c, err)
		return
	}
	items := make([]notificationResponse, len(list))
	for i, n := range list {
		items[i] = notificationResponse{ID: n.ID, SubscriberID: n.SubscriberID, Kind: n.Kind, Email: n.Email,
			Subject: n.Subject, Message: n.Message, CreatedAt: n.CreatedAt.UTC(), SentAt: utcOrNil(n.SentAt)}
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// parseRange reads an RFC 3339 start_date and end_date; both are required and the start
// must come first.
func parseRange(startRaw, endRaw string, v *models.Validation) (start, end time.Time) {
	var err error
	if startRaw == "" {
		v.Add("start_date", "is required (RFC 3339, e.g. 2024-05-01T00:00:00Z)")
	} else if start, err = time.Parse(time.RFC3339, startRaw); err != nil {
		v.Add("start_date", "must be an RFC 3339 date-time, e.g. 2024-05-01T00:00:00Z")
	}
	if endRaw == "" {
		v.Add("end_date", "is required (RFC 3339, e.g. 2024-05-02T00:00:00Z)")
	} else if end, err = time.Parse(time.RFC3339, endRaw); err != nil {
		v.Add("end_date", "must be an RFC 3339 date-time, e.g. 2024-05-02T00:00:00Z")
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		v.Add("end_date", "must be after start_date")
	}
	return start.UTC(), end.UTC()
}
