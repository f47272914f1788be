package apiserver

import (
	"context"

	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/producer"
)

// eventStore is what ingestion needs of the store.
type eventStore interface {
	ListEventTypes(ctx context.Context) ([]models.EventType, error)
	EventExists(ctx context.Context, companyID int64, eventID string) (bool, error)
	backlogStore
}

func (s *Server) registerEventRoutes(r gin.IRouter) {
	r.POST("/company/:company_id/events", s.handleEventIngest)
}

func (s *Server) registerCatalogueRoutes(r gin.IRouter) {
	r.GET("/events", s.handleCatalogueList)
	r.GET("/me", s.handleMe)
}

// eventIngestRequest is the body of POST /service/platform/webhook/v1.0/company/{company_id}/events.
type eventIngestRequest struct {
	// ID is the idempotency key; absent or null has one generated. An empty id is
	// refused rather than taken for an absent one: it is more likely a producer's
	// missing value, and generating an id would silently drop the idempotency the
	// producer asked for.
	ID            *string         `json:"id"`
	EventSlug     string          `json:"event_slug"`
	ApplicationID string          `json:"application_id"`
	Payload       json.RawMessage `json:"payload"`
}

type eventIngestResponse struct {
	EventID    string `json:"event_id"`
	WorkflowID string `json:"workflow_id"`
	Duplicate  bool   `json:"duplicate"`
}

// handleEventIngest accepts an event: it validates it, and starts its event workflow,
// whose id is derived from (company, event id) so that the same event sent twice is
// delivered once and answered with duplicate: true. 202 means the event is durably
// accepted: Temporal holds it and will deliver it.
func (s *Server) handleEventIngest(c *gin.Context) {
	p := principal(c)
	if !p.Ingests() {
		s.writeError(c, models.Errorf(models.EFORBIDDEN, "sending events needs the admin token or an API key with scope platform or company"))
		return
	}
	companyID, err := pathID(c, "company_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	// Before anything reads the company's events: a company key must not learn, claim or
	// block another company's event ids.
	if !p.CanIngest(companyID) {
		s.writeError(c, models.Errorf(models.EFORBIDDEN, "this API key sends events only for companies %s, not for company %d",
			joinIDs(p.CompanyIDs), companyID))
		return
	}
	if !s.admit(c, companyID) {
		return
	}
	var req eventIngestRequest
	if err := decodeJSON(c, maxEventBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var id string
	if req.ID != nil {
		if *req.ID == "" {
			s.writeError(c, models.Invalid("id", "must not be empty; leave id out to have one generated"))
			return
		}
		id = *req.ID
	}
	in, err := producer.Prepare(producer.Event{
		CompanyID: companyID, ID: id, Slug: req.EventSlug, ApplicationID: req.ApplicationID, Payload: req.Payload,
	}, s.now())
	if err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.checkCatalogue(c, in.Event.Slug); err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	if id != "" {
		// Temporal rejects a second start of the same workflow id while it remembers the
		// first run (the namespace's retention); the stored event remembers it for good.
		exists, err := s.store.EventExists(ctx, companyID, id)
		if err != nil {
			s.writeError(c, err)
			return
		}
		if exists {
			c.JSON(http.StatusAccepted, eventIngestResponse{EventID: id, WorkflowID: producer.WorkflowID(in), Duplicate: true})
			return
		}
	}
	res, err := s.engine.StartEvent(ctx, in)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.log.InfoContext(ctx, "event accepted", "event_id", res.EventID, "workflow_id", res.WorkflowID, "duplicate", res.Duplicate)
	c.JSON(http.StatusAccepted, eventIngestResponse{EventID: res.EventID, WorkflowID: res.WorkflowID, Duplicate: res.Duplicate})
}

// catalogueCache remembers the catalogue's slugs: ingestion checks every event's slug
// against it. It is a snapshot swapped atomically, so checking takes no lock; at most
// one request at a time reloads it, and none holds a lock that others wait on while
// the database answers (a producer sending unknown slugs must not serialise every other
// producer behind catalogue queries).
type catalogueCache struct {
	snap       atomic.Pointer[catalogueSnapshot]
	refreshing sync.Mutex // held by the one request reloading the snapshot
}

type catalogueSnapshot struct {
	slugs  map[string]bool
	loaded time.Time
}

const (
	// catalogueTTL is how long a snapshot answers for known slugs.
	catalogueTTL = 30 * time.Second
	// catalogueMissTTL is how long a slug that the snapshot does not know is taken as
	// unknown before a miss reloads the snapshot: a type added to the catalogue is
	// accepted within this time, and unknown slugs cost at most one query per period
	// however many are sent.
	catalogueMissTTL = 2 * time.Second
)

func (s *Server) checkCatalogue(c *gin.Context, slug string) error {
	snap := s.catalogue.snap.Load()
	switch {
	case snap == nil:
		// Nothing to answer from yet: wait for the one load.
		var err error
		s.catalogue.refreshing.Lock()
		if snap = s.catalogue.snap.Load(); snap == nil {
			snap, err = s.loadCatalogue(c)
		}
		s.catalogue.refreshing.Unlock()
		if err != nil {
			return err
		}
	case s.now().Sub(snap.loaded) > catalogueTTL || !snap.slugs[slug] && s.now().Sub(snap.loaded) > catalogueMissTTL:
		// Stale, or a miss in a snapshot old enough to be missing a new type: one
		// request reloads; the others answer from the snapshot they have.
		if s.catalogue.refreshing.TryLock() {
			fresh, err := s.loadCatalogue(c)
			s.catalogue.refreshing.Unlock()
			switch {
			case err == nil:
				snap = fresh
			case !snap.slugs[slug]:
				return err
			}
		}
	}
	if !snap.slugs[slug] {
		return &models.Error{Code: models.EUNPROCESSABLE, Message: "event_slug " + slug + " is not in the event catalogue",
			Fields: []models.FieldError{{Field: "event_slug", Message: "is not in the event catalogue (GET " + commonBase + "/events lists it)"}}}
	}
	return nil
}

// loadCatalogue reads the catalogue's slugs and makes them the snapshot.
func (s *Server) loadCatalogue(c *gin.Context) (*catalogueSnapshot, error) {
	types, err := s.store.ListEventTypes(c.Request.Context())
	if err != nil {
		return nil, err
	}
	snap := &catalogueSnapshot{slugs: make(map[string]bool, len(types)), loaded: s.now()}
	for _, t := range types {
		snap.slugs[t.Slug] = true
	}
	s.catalogue.snap.Store(snap)
	return snap, nil
}

type eventConfig struct {
	ID            int64       `json:"id"`
	EventCategory string      `json:"event_category"`
	EventName     string      `json:"event_name"`
	EventType     string      `json:"event_type"`
	Version       string      `json:"version"`
	Slug          string      `json:"slug"`
	DisplayName   string      `json:"display_name"`
	Description   string      `json:"description"`
	EventSchema   models.JSON `json:"event_schema,omitempty"`
	SamplePayload models.JSON `json:"sample_payload"`
}

// handleCatalogueList lists the event catalogue.
func (s *Server) handleCatalogueList(c *gin.Context) {
	types, err := s.store.ListEventTypes(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]eventConfig, len(types))
	for i, t := range types {
		out[i] = eventConfig{
			ID: t.ID, EventCategory: t.Category, EventName: t.Name, EventType: t.Type, Version: t.Version,
			Slug: t.Slug, DisplayName: t.DisplayName, Description: t.Description, EventSchema: t.Schema, SamplePayload: t.SamplePayload,
		}
	}
	c.JSON(http.StatusOK, gin.H{"event_configs": out})
}

func joinIDs(ids []int64) string {
	out := make([]byte, 0, 8*len(ids))
	for i, id := range ids {
		if i > 0 {
			out = append(out, ", "...)
		}
		out = strconv.AppendInt(out, id, 10)
	}
	return string(out)
}

// pathID parses a positive integer path parameter.
func pathID(c *gin.Context, name string) (int64, error) {
	v, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || v <= 0 {
		return 0, models.Invalid(name, "must be a positive integer")
	}
	return v, nil
}
