package apiserver

import (
	"context"
	"errors"

	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// subscriberStore is what the subscriber routes need of the store.
type subscriberStore interface {
	CreateSubscriber(ctx context.Context, sub *models.Subscriber) error
	GetSubscriber(ctx context.Context, t models.Tenant, companyID, id int64) (*models.Subscriber, error)
	ListSubscribers(ctx context.Context, t models.Tenant, f store.SubscriberFilter) ([]models.Subscriber, int64, error)
	UpdateSubscriber(ctx context.Context, sub *models.Subscriber, previousSecret string) error
	DeleteSubscriber(ctx context.Context, t models.Tenant, companyID, id int64) error
	SetSubscriberStatus(ctx context.Context, t models.Tenant, id int64, status string) (string, error)
	SubscriberFlows(ctx context.Context, ids []int64) (map[int64]models.Flow, error)
}

func (s *Server) registerSubscriberRoutes(r gin.IRouter) {
	r.GET("/subscriber", s.handleSubscriberList)
	r.PATCH("/subscriber/:subscriber_id", s.handleSubscriberStatus)
	r.POST("/company/:company_id/subscriber", s.handleSubscriberCreate)
	r.GET("/company/:company_id/subscriber/:subscriber_id", s.handleSubscriberGet)
	r.PUT("/company/:company_id/subscriber/:subscriber_id", s.handleSubscriberUpdate)
	r.DELETE("/company/:company_id/subscriber/:subscriber_id", s.handleSubscriberDelete)
	r.POST("/company/:company_id/subscriber/:subscriber_id/ping", s.handleSubscriberPing)
}

// authMeta is the subscriber's signing configuration.
type authMeta struct {
	Type   string `json:"type"`
	Secret string `json:"secret"`
}

// subscriberEventBody is one subscribed event with its optional filter and reducer.
type subscriberEventBody struct {
	Slug    string          `json:"slug"`
	Filters json.RawMessage `json:"filters,omitempty"`
	Reducer json.RawMessage `json:"reducer,omitempty"`
}

// subscriberRequest is the body of a subscriber create or update. Pointers tell absent
// fields from empty ones.
type subscriberRequest struct {
	Name           *string               `json:"name"`
	WebhookURL     *string               `json:"webhook_url"`
	Status         *string               `json:"status"`
	InactivePolicy *string               `json:"inactive_policy"`
	EmailID        *string               `json:"email_id"`
	CustomHeaders  map[string]string     `json:"custom_headers"`
	AuthMeta       *authMeta             `json:"auth_meta"`
	TimeoutMS      *int                  `json:"timeout_ms"`
	Events         []subscriberEventBody `json:"events"`
	Association    *associationRequest   `json:"association"`
	// Flow limits: absent keeps the subscriber's, null removes the limit.
	RateLimit      json.RawMessage `json:"rate_limit"`
	RateLimitBurst json.RawMessage `json:"rate_limit_burst"`
	MaxInFlight    json.RawMessage `json:"max_in_flight"`
}

// associationRequest is Fynd's association on a write: the company and extension are
// the path's (they may be repeated, not changed); application_id limits the subscriber
// to those applications' events.
type associationRequest struct {
	CompanyID     *int64   `json:"company_id"`
	ExtensionID   *string  `json:"extension_id"`
	ApplicationID []string `json:"application_id"`
	Criteria      *string  `json:"criteria"`
}

// associationResponse is Fynd's association: where the subscriber's events come from.
type associationResponse struct {
	CompanyID     int64    `json:"company_id"`
	ApplicationID []string `json:"application_id"`
	ExtensionID   string   `json:"extension_id"`
	Criteria      string   `json:"criteria"`
}

// subscriberResponse is a subscriber as the API shows it.
type subscriberResponse struct {
	ID             int64             `json:"id"`
	OrganizationID string            `json:"organization_id"`
	ExtensionID    string            `json:"extension_id"`
	CompanyID      int64             `json:"company_id"`
	Name           string            `json:"name"`
	WebhookURL     string            `json:"webhook_url"`
	Status         string            `json:"status"`
	InactivePolicy string            `json:"inactive_policy"`
	EmailID        string            `json:"email_id"`
	CustomHeaders  map[string]string `json:"custom_headers"`
	AuthMeta       authMeta          `json:"auth_meta"`
	TimeoutMS      int               `json:"timeout_ms"`
	BlockedReason  string            `json:"blocked_reason,omitempty"`
	RateLimit      *float64          `json:"rate_limit"`
	RateLimitBurst *int              `json:"rate_limit_burst"`
	MaxInFlight    *int              `json:"max_in_flight"`
	// EffectiveRateLimit is the rate deliveries go out at now: rate_limit, lowered while
	// the receiver pushes back (429, 503); null when nothing limits it.
	EffectiveRateLimit *float64              `json:"effective_rate_limit"`
	PushedBackUntil    *string               `json:"paused_until,omitempty"`
	Events             []subscriberEventBody `json:"events"`
	Association        associationResponse   `json:"association"`
	CreatedOn          time.Time             `json:"created_on"`
	UpdatedOn          time.Time             `json:"updated_on"`
}

// newSubscriberResponse renders sub, with its flow state f at now; the secret is shown
// in full only when fullSecret (right after creation), masked otherwise.
func newSubscriberResponse(sub *models.Subscriber, f models.Flow, now time.Time, fullSecret bool) subscriberResponse {
	secret := models.MaskSecret(sub.Secret)
	if fullSecret {
		secret = sub.Secret
	}
	headers := map[string]string(sub.CustomHeaders)
	if headers == nil {
		headers = map[string]string{}
	}
	out := subscriberResponse{
		ID: sub.ID, OrganizationID: sub.OrganizationID, ExtensionID: sub.ExtensionID, CompanyID: sub.CompanyID,
		Name: sub.Name, WebhookURL: sub.WebhookURL, Status: sub.Status, InactivePolicy: sub.InactivePolicy,
		EmailID: sub.EmailID, CustomHeaders: headers, AuthMeta: authMeta{Type: "hmac", Secret: secret},
		TimeoutMS: int(sub.Timeout().Milliseconds()), BlockedReason: sub.BlockedReason,
		Events: make([]subscriberEventBody, len(sub.Events)), CreatedOn: sub.CreatedOn.UTC(), UpdatedOn: sub.UpdatedOn.UTC(),
	}
	if sub.RateLimit > 0 {
		out.RateLimit, out.RateLimitBurst = &sub.RateLimit, new(sub.Burst())
	}
	if sub.MaxInFlight > 0 {
		out.MaxInFlight = &sub.MaxInFlight
	}
	if r := models.EffectiveRate(sub, f, now); r > 0 {
		r = math.Round(r*1000) / 1000
		out.EffectiveRateLimit = &r
	}
	if f.PausedUntil.After(now) {
		out.PushedBackUntil = new(f.PausedUntil.UTC().Format(time.RFC3339Nano))
	}
	out.Association = associationResponse{CompanyID: sub.CompanyID, ApplicationID: []string(sub.ApplicationIDs),
		ExtensionID: sub.ExtensionID, Criteria: sub.Criteria()}
	if out.Association.ApplicationID == nil {
		out.Association.ApplicationID = []string{}
	}
	for i, e := range sub.Events {
		out.Events[i] = subscriberEventBody{Slug: e.Slug, Filters: orEmptyObject(e.Filters), Reducer: orEmptyObject(e.Reducer)}
	}
	return out
}

func orEmptyObject(j models.JSON) json.RawMessage {
	if len(j) == 0 || string(j) == "null" {
		return json.RawMessage("{}")
	}
	return json.RawMessage(j)
}

// applySubscriberRequest copies the request's fields onto sub and validates the result.
func (s *Server) applySubscriberRequest(req *subscriberRequest, sub *models.Subscriber) error {
	var v models.Validation
	if req.Name != nil {
		sub.Name = *req.Name
	}
	if req.WebhookURL != nil {
		sub.WebhookURL = *req.WebhookURL
	}
	if req.Status != nil {
		switch *req.Status {
		case models.StatusActive, models.StatusInactive:
			sub.Status = *req.Status
		case models.StatusBlocked:
			v.Add("status", "blocked is set by the system only; use active or inactive")
		default:
			v.Add("status", "must be active or inactive")
		}
	}
	if req.InactivePolicy != nil {
		sub.InactivePolicy = *req.InactivePolicy
	}
	if req.EmailID != nil {
		sub.EmailID = *req.EmailID
	}
	if req.CustomHeaders != nil {
		sub.CustomHeaders = req.CustomHeaders
	}
	if req.TimeoutMS != nil {
		sub.TimeoutMS = *req.TimeoutMS
		if *req.TimeoutMS == 0 {
			v.Add("timeout_ms", "must be between %d and %d", models.MinTimeout.Milliseconds(), models.MaxTimeout.Milliseconds())
		}
	}
	if req.AuthMeta != nil {
		if req.AuthMeta.Type != "" && req.AuthMeta.Type != "hmac" {
			v.Add("auth_meta.type", "must be hmac")
		}
		if req.AuthMeta.Secret != "" {
			sub.Secret = req.AuthMeta.Secret
		}
	}
	if req.Events != nil {
		sub.Events = make([]models.SubscriberEvent, len(req.Events))
		for i, e := range req.Events {
			// A key that is present (even null or {}) sets the configuration; an absent
			// one keeps what the subscriber has for that event.
			sub.Events[i] = models.SubscriberEvent{
				Slug:    e.Slug,
				Filters: canonicalConfig(jsonOrNil(e.Filters)), SetFilters: e.Filters != nil,
				Reducer: canonicalConfig(jsonOrNil(e.Reducer)), SetReducer: e.Reducer != nil,
			}
		}
	}
	if req.RateLimit != nil {
		if r, ok := limitValue(&v, "rate_limit", req.RateLimit, false); ok {
			sub.RateLimit = r
			if r == 0 {
				sub.RateLimitBurst = 0 // a burst without a rate means nothing
			}
		}
	}
	if req.RateLimitBurst != nil {
		if n, ok := limitValue(&v, "rate_limit_burst", req.RateLimitBurst, true); ok {
			sub.RateLimitBurst = int(n)
		}
	}
	if req.MaxInFlight != nil {
		if n, ok := limitValue(&v, "max_in_flight", req.MaxInFlight, true); ok {
			sub.MaxInFlight = int(n)
		}
	}
	if a := req.Association; a != nil {
		if a.CompanyID != nil && *a.CompanyID != sub.CompanyID {
			v.Add("association.company_id", "must be the path's company %d (a subscriber cannot move to another company)", sub.CompanyID)
		}
		if a.ExtensionID != nil && *a.ExtensionID != sub.ExtensionID {
			v.Add("association.extension_id", "must be the path's extension %s", sub.ExtensionID)
		}
		if a.ApplicationID != nil {
			sub.ApplicationIDs = models.IDList(a.ApplicationID)
			if len(sub.ApplicationIDs) == 0 {
				sub.ApplicationIDs = nil
			}
		}
		if a.Criteria != nil {
			switch *a.Criteria {
			case models.CriteriaAll:
				if len(sub.ApplicationIDs) > 0 {
					v.Add("association.criteria", "ALL takes no application_id; use %s to limit the subscriber to applications", models.CriteriaSpecific)
				}
			case models.CriteriaSpecific:
				if len(sub.ApplicationIDs) == 0 {
					v.Add("association.criteria", "%s needs at least one association.application_id", models.CriteriaSpecific)
				}
			default:
				v.Add("association.criteria", "must be %s or %s", models.CriteriaAll, models.CriteriaSpecific)
			}
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := models.ValidateSubscriber(sub, s.cfg.Network); err != nil {
		return err
	}
	return s.validateTransforms(sub.Events)
}

// limitValue reads a flow limit: null removes it (0), a number > 0 sets it (a whole one
// when integer). It names the field when the value is none of these; the ranges are
// models.ValidateSubscriber's.
func limitValue(v *models.Validation, field string, raw json.RawMessage, integer bool) (float64, bool) {
	if string(raw) == "null" {
		return 0, true
	}
	what := "a number of deliveries per second greater than 0, or null to remove the limit"
	if integer {
		what = "an integer of at least 1, or null to remove the limit"
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil || n <= 0 || (integer && (n != math.Trunc(n) || n > math.MaxInt32)) {
		v.Add(field, "must be %s", what)
		return 0, false
	}
	return n, true
}

func jsonOrNil(raw json.RawMessage) models.JSON {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return models.JSON(raw)
}

// handleSubscriberCreate creates a subscriber. The signing secret is generated when
// auth_meta.secret is absent, and shown in full only in this response.
func (s *Server) handleSubscriberCreate(c *gin.Context) {
	companyID, err := pathID(c, "company_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	var req subscriberRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	t := tenant(c)
	sub := &models.Subscriber{
		OrganizationID: t.OrganizationID, ExtensionID: t.ExtensionID, CompanyID: companyID,
		Status: models.StatusActive, InactivePolicy: models.PolicyQueue, Secret: newSecret(),
	}
	if err := s.applySubscriberRequest(&req, sub); err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.store.CreateSubscriber(c.Request.Context(), sub); err != nil {
		s.writeError(c, withRoute(err))
		return
	}
	s.log.InfoContext(c.Request.Context(), "subscriber created", "subscriber_id", sub.ID)
	c.JSON(http.StatusCreated, newSubscriberResponse(sub, models.Flow{}, s.now(), true))
}

// handleSubscriberGet shows a subscriber, its secret masked.
func (s *Server) handleSubscriberGet(c *gin.Context) {
	sub, ok := s.loadSubscriber(c)
	if !ok {
		return
	}
	s.writeSubscriber(c, http.StatusOK, sub)
}

// writeSubscriber answers sub with its flow state; a flow state that cannot be read is
// left out (the effective rate then shows the configured one).
func (s *Server) writeSubscriber(c *gin.Context, code int, sub *models.Subscriber) {
	flows, err := s.store.SubscriberFlows(c.Request.Context(), []int64{sub.ID})
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "read the subscriber's flow state", "subscriber_id", sub.ID, "error", err)
	}
	c.JSON(code, newSubscriberResponse(sub, flows[sub.ID], s.now(), false))
}

// loadSubscriber loads the subscriber named by the path, writing the error if it fails.
func (s *Server) loadSubscriber(c *gin.Context) (*models.Subscriber, bool) {
	companyID, err := pathID(c, "company_id")
	if err != nil {
		s.writeError(c, err)
		return nil, false
	}
	id, err := pathID(c, "subscriber_id")
	if err != nil {
		s.writeError(c, err)
		return nil, false
	}
	sub, err := s.store.GetSubscriber(c.Request.Context(), tenant(c), companyID, id)
	if err != nil {
		s.writeError(c, err)
		return nil, false
	}
	return sub, true
}

// newSecret returns a signing secret in the Standard Webhooks form whsec_<base64>.
func newSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// withRoute adds to the store's refusal of a subscriber the route that mends it: the
// catalogue's list for an event that is not in it, the installation route for a company
// that has not installed the extension. The store does not know the API's routes.
func withRoute(err error) error {
	var e *models.Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case errors.Is(err, store.ErrNotInCatalogue):
		var v models.Validation
		for _, f := range e.Fields {
			v.Add(f.Field, "%s (GET %s/events lists it)", f.Message, commonBase)
		}
		out := v.Err().(*models.Error)
		out.Code, out.Err = e.Code, e.Err
		return out
	case errors.Is(err, store.ErrNotInstalled):
		return &models.Error{Code: e.Code, Err: e.Err, Message: e.Message + "; install it first (POST " + platformBase +
			"/installation with the admin token or a platform key, or hookflow installation create)"}
	}
	return err
}
