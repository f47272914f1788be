package apiserver

import (
	"context"

	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// deliveryStore is what the delivery routes need of the store.
type deliveryStore interface {
	TenantDelivery(ctx context.Context, t models.Tenant, id int64) (*store.DeliveryDetail, error)
	ListAttempts(ctx context.Context, deliveryID int64) ([]models.Attempt, error)
}

func (s *Server) registerDeliveryRoutes(r gin.IRouter) {
	r.GET("/delivery/:delivery_id", s.handleDeliveryGet)
}

type attemptResponse struct {
	Attempt      int     `json:"attempt"`
	AttemptedOn  string  `json:"attempted_on"`
	ResponseCode int     `json:"response_code"`
	ResponseTime float64 `json:"response_time"`
	Error        string  `json:"error"`
	ErrorClass   string  `json:"error_class"`
	ResponseBody string  `json:"response_body"`
}

type liveResponse struct {
	WorkflowStatus    string  `json:"workflow_status"`
	Phase             string  `json:"phase"`
	CurrentAttempt    int     `json:"current_attempt"`
	NextAttemptAt     *string `json:"next_attempt_at"`
	LastFailure       string  `json:"last_failure"`
	WaitingForRelease bool    `json:"waiting_for_release"`
	ThrottledBy       string  `json:"throttled_by,omitempty"`
}

type deliveryResponse struct {
	DeliveryID    int64             `json:"delivery_id"`
	Status        string            `json:"status"`
	EventSlug     string            `json:"event_slug"`
	EventID       string            `json:"event_id"`
	CompanyID     int64             `json:"company_id"`
	SubscriberID  int64             `json:"subscriber_id"`
	Name          string            `json:"name"`
	WebhookURL    string            `json:"webhook_url"`
	Series        int               `json:"series"`
	WorkflowID    string            `json:"workflow_id"`
	RunID         string            `json:"run_id"`
	TemporalUIURL string            `json:"temporal_ui_url"`
	CreatedOn     string            `json:"created_on"`
	Attempts      []attemptResponse `json:"attempts"`
	Live          *liveResponse     `json:"live"`
}

// handleDeliveryGet shows a delivery with every attempt and a link into Temporal UI.
// While the delivery is under way it also reads its workflow's live state from Temporal
// (the attempt in progress or the next retry, the last failure, or that it waits for its
// subscriber), so the answer is never stale; live is null once the delivery has ended.
func (s *Server) handleDeliveryGet(c *gin.Context) {
	id, err := pathID(c, "delivery_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	d, err := s.store.TenantDelivery(ctx, tenant(c), id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	var live *LiveState
	var own string
	if !models.DeliveryFinal(d.Status) {
		// The delivery's own workflow: in inline-first mode the row may still point at the
		// event workflow that made the first attempt while the retries wait to start.
		own = ownWorkflowID(&d.Delivery)
		live, err = s.engine.DescribeDelivery(ctx, own, "")
		switch {
		case err == nil:
			if _, err := s.settleAbandoned(ctx, &d.Delivery, live); err != nil {
				s.writeError(c, err)
				return
			}
			// Read the row again: the answer must not show an older state than the live one.
			if d, err = s.store.TenantDelivery(ctx, tenant(c), id); err != nil {
				s.writeError(c, err)
				return
			}
		case models.ErrorCode(err) == models.ENOTFOUND:
			live = nil // not started yet (the event is still fanning out)
		default:
			s.writeError(c, err)
			return
		}
	}
	attempts, err := s.store.ListAttempts(ctx, d.ID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := deliveryResponse{DeliveryID: d.ID, Status: d.Status, EventSlug: d.EventSlug, EventID: d.EventID, CompanyID: d.CompanyID,
		SubscriberID: d.SubscriberID, Name: d.SubscriberName, WebhookURL: d.WebhookURL, Series: d.Series,
		WorkflowID: d.WorkflowID, RunID: d.RunID, CreatedOn: d.CreatedAt.UTC().Format(time.RFC3339Nano),
		Attempts: make([]attemptResponse, len(attempts))}
	for i, a := range attempts {
		out.Attempts[i] = attemptResponse{Attempt: a.Attempt, AttemptedOn: a.AttemptedOn.UTC().Format(time.RFC3339Nano),
			ResponseCode: a.ResponseCode, ResponseTime: round2(a.ResponseTimeMS), Error: a.Error, ErrorClass: a.ErrorClass, ResponseBody: a.ResponseBody}
	}
	if live != nil && !models.DeliveryFinal(d.Status) {
		out.WorkflowID, out.RunID = own, live.RunID
		// The attempt under way or next follows the attempts recorded: a try that failed
		// on Hookflow's account made none.
		out.Live = &liveResponse{WorkflowStatus: live.WorkflowStatus, Phase: live.Phase, CurrentAttempt: d.Attempts + 1,
			LastFailure: live.LastFailure, WaitingForRelease: live.WaitingForRelease, ThrottledBy: live.ThrottledBy}
		if live.NextAttemptAt != nil {
			t := live.NextAttemptAt.UTC().Format(time.RFC3339Nano)
			out.Live.NextAttemptAt = &t
		}
	}
	out.TemporalUIURL = UIURL(s.cfg.TemporalUIURL, s.cfg.Namespace, out.WorkflowID, out.RunID)
	c.JSON(http.StatusOK, out)
}
