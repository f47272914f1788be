package apiserver

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// page is the pagination block of list answers.
type page struct {
	Type      string `json:"type"`
	Current   int    `json:"current"`
	Size      int    `json:"size"`
	ItemTotal int64  `json:"item_total"`
	HasNext   bool   `json:"has_next"`
}

func newPage(no, size int, total int64) page {
	return page{Type: "number", Current: no, Size: size, ItemTotal: total, HasNext: int64(no*size) < total}
}

// queryInt reads an optional positive integer query parameter within [min, max].
func queryInt(c *gin.Context, name string, def, min, max int, v *models.Validation) int {
	raw, ok := c.GetQuery(name)
	if !ok || raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < min || n > max {
		v.Add(name, "must be an integer from %d to %d", min, max)
		return def
	}
	return n
}

// handleSubscriberList lists the tenant's subscribers, newest first, filtered by company,
// status and a search term that matches the name, the URL or a subscribed event slug.
func (s *Server) handleSubscriberList(c *gin.Context) {
	var v models.Validation
	f := store.SubscriberFilter{
		PageNo:   queryInt(c, "page_no", 1, 1, 1_000_000, &v),
		PageSize: queryInt(c, "page_size", 20, 1, 100, &v),
		Status:   c.Query("status"),
		Search:   c.Query("search"),
	}
	if raw := c.Query("company_id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			v.Add("company_id", "must be a positive integer")
		}
		f.CompanyID = id
	}
	switch f.Status {
	case "", models.StatusActive, models.StatusInactive, models.StatusBlocked:
	default:
		v.Add("status", "must be active, inactive or blocked")
	}
	if len(f.Search) > 255 {
		v.Add("search", "must be at most 255 characters")
	}
	if err := v.Err(); err != nil {
		s.writeError(c, err)
		return
	}
	subs, total, err := s.store.ListSubscribers(c.Request.Context(), tenant(c), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	ids := make([]int64, len(subs))
	for i := range subs {
		ids[i] = subs[i].ID
	}
	flows, err := s.store.SubscriberFlows(c.Request.Context(), ids)
	if err != nil {
		s.writeError(c, err)
		return
	}
	items := make([]subscriberResponse, len(subs))
	now := s.now()
	for i := range subs {
		items[i] = newSubscriberResponse(&subs[i], flows[subs[i].ID], now, false)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "page": newPage(f.PageNo, f.PageSize, total)})
}

// handleSubscriberUpdate changes a subscriber. Fields absent from the body keep their
// value; an event listed without filters or reducer keeps its stored ones. A new
// auth_meta.secret starts a rotation: the previous secret keeps signing (beside the new
// one) for 24 hours. Setting status active releases the queued deliveries.
func (s *Server) handleSubscriberUpdate(c *gin.Context) {
	sub, ok := s.loadSubscriber(c)
	if !ok {
		return
	}
	var req subscriberRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	previousStatus, previousSecret := sub.Status, sub.Secret
	if err := s.applySubscriberRequest(&req, sub); err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.store.UpdateSubscriber(c.Request.Context(), sub, previousSecret); err != nil {
		s.writeError(c, withRoute(err))
		return
	}
	// Released also when the body sets active on a subscriber that is active already, as
	// PATCH does: the changes are saved before the release, so a PUT repeated after a
	// failed release finds the subscriber active and must still release.
	setsActive := req.Status != nil && *req.Status == models.StatusActive
	if sub.Status == models.StatusActive && (previousStatus != models.StatusActive || setsActive) {
		if err := s.engine.ReleaseSubscriber(c.Request.Context(), sub.ID); err != nil {
			s.writeError(c, &models.Error{Code: models.EUNAVAILABLE, Err: err, Message: "subscriber " + strconv.FormatInt(sub.ID, 10) +
				" is saved, but its queued deliveries could not be released yet; send the PUT again"})
			return
		}
	}
	s.log.InfoContext(c.Request.Context(), "subscriber updated", "subscriber_id", sub.ID)
	s.writeSubscriber(c, http.StatusOK, sub)
}

// handleSubscriberDelete deletes a subscriber. Its deliveries that wait in the queue are
// discarded; its delivery history stays in the reports.
func (s *Server) handleSubscriberDelete(c *gin.Context) {
	companyID, err := pathID(c, "company_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	id, err := pathID(c, "subscriber_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.store.DeleteSubscriber(c.Request.Context(), tenant(c), companyID, id); err != nil {
		s.writeError(c, err)
		return
	}
	// Waiting deliveries learn that their subscriber is gone when woken.
	if err := s.engine.ReleaseSubscriber(c.Request.Context(), id); err != nil {
		s.log.WarnContext(c.Request.Context(), "release after delete", "subscriber_id", id, "error", err)
	}
	s.log.InfoContext(c.Request.Context(), "subscriber deleted", "subscriber_id", id)
	c.JSON(http.StatusOK, gin.H{"success": true, "message": "subscriber " + strconv.FormatInt(id, 10) + " deleted"})
}

type statusRequest struct {
	Status string `json:"status"`
}

// handleSubscriberStatus activates or deactivates a subscriber. Activating one that was
// inactive or blocked releases its queued deliveries, oldest first.
func (s *Server) handleSubscriberStatus(c *gin.Context) {
	id, err := pathID(c, "subscriber_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	var req statusRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	switch req.Status {
	case models.StatusActive, models.StatusInactive:
	case models.StatusBlocked:
		s.writeError(c, models.Invalid("status", "blocked is set by the system only; use active or inactive"))
		return
	default:
		s.writeError(c, models.Invalid("status", "must be active or inactive"))
		return
	}
	ctx := c.Request.Context()
	previous, err := s.store.SetSubscriberStatus(ctx, tenant(c), id, req.Status)
	if err != nil {
		s.writeError(c, err)
		return
	}
	msg := "subscriber " + strconv.FormatInt(id, 10) + " is " + req.Status
	if req.Status == models.StatusActive {
		// Released even when it was active already: a PATCH repeated after a failed
		// release must be able to finish the job.
		if err := s.engine.ReleaseSubscriber(ctx, id); err != nil {
			s.writeError(c, &models.Error{Code: models.EUNAVAILABLE,
				Message: msg + ", but its queued deliveries could not be released yet; send the PATCH again", Err: err})
			return
		}
		if previous != models.StatusActive {
			msg += "; its queued deliveries are being released, oldest first"
		}
	}
	s.log.InfoContext(ctx, "subscriber status", "subscriber_id", id, "from", previous, "to", req.Status)
	c.JSON(http.StatusOK, gin.H{"message": msg})
}
