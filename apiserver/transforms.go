package apiserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/transform"
)

func (s *Server) registerTransformRoutes(r gin.IRouter) {
	r.POST("/validate/filter", s.handleValidateFilter)
	r.POST("/validate/reducer", s.handleValidateReducer)
	r.PUT("/company/:company_id/subscriber/:subscriber_id/filter_reducer", s.handleFilterReducerSave)
}

// validateTransforms compiles the filters and reducers of subscribed events, so that
// their mistakes are found when they are saved, not when an event is delivered.
func (s *Server) validateTransforms(events []models.SubscriberEvent) error {
	var v models.Validation
	for i, e := range events {
		prefix := "events[" + strconv.Itoa(i) + "]"
		if len(e.Filters) > 0 {
			if _, err := s.transform.Filter(e.Filters); err != nil {
				addConfigError(&v, prefix+".filters", err)
			}
		}
		if len(e.Reducer) > 0 {
			if _, err := s.transform.Reducer(e.Reducer); err != nil {
				addConfigError(&v, prefix+".reducer", err)
			}
		}
	}
	return v.Err()
}

// addConfigError records a transform configuration error under field.
func addConfigError(v *models.Validation, field string, err error) {
	var ce *transform.ConfigError
	if errors.As(err, &ce) {
		if ce.Field != "" {
			sep := "."
			if strings.HasPrefix(ce.Field, "[") {
				sep = ""
			}
			field += sep + ce.Field
		}
		v.Add(field, "%s", ce.Message)
		return
	}
	v.Add(field, "%v", err)
}

type validateFilterRequest struct {
	SampleData json.RawMessage `json:"sample_data"`
	Filters    json.RawMessage `json:"filters"`
}

type validateFilterResponse struct {
	Success      bool   `json:"success"`
	Message      string `json:"message"`
	FilterResult bool   `json:"filter_result"`
}

// handleValidateFilter runs a filter on sample data with exactly the code that delivery
// runs. An invalid configuration or a condition that fails answers 200 with success
// false and the reason; a malformed request answers 400.
func (s *Server) handleValidateFilter(c *gin.Context) {
	var req validateFilterRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	doc, err := sampleData(req.SampleData)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if len(req.Filters) == 0 || string(req.Filters) == "null" {
		s.writeError(c, models.Invalid("filters", "is required"))
		return
	}
	f, err := s.transform.Filter(req.Filters)
	if err != nil {
		c.JSON(http.StatusOK, validateFilterResponse{Message: "invalid filter: " + err.Error()})
		return
	}
	ok, err := f.Match(c.Request.Context(), doc)
	if err != nil {
		c.JSON(http.StatusOK, validateFilterResponse{Message: "the filter failed: " + err.Error()})
		return
	}
	msg := "the filter does not match the sample data: the event would not be delivered"
	if ok {
		msg = "the filter matches the sample data: the event would be delivered"
	}
	c.JSON(http.StatusOK, validateFilterResponse{Success: true, Message: msg, FilterResult: ok})
}

type validateReducerRequest struct {
	SampleData json.RawMessage `json:"sample_data"`
	Reducer    json.RawMessage `json:"reducer"`
}

type validateReducerResponse struct {
	Success       bool            `json:"success"`
	Message       string          `json:"message"`
	ReducerResult json.RawMessage `json:"reducer_result"`
}

// handleValidateReducer applies a reducer to sample data with exactly the code that
// delivery runs, and shows the payload a receiver would get. A reducer whose result on
// the sample would be larger than an event payload may be (1 MiB) answers 400 naming
// the reducer: delivery would refuse it too.
func (s *Server) handleValidateReducer(c *gin.Context) {
	var req validateReducerRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	doc, err := sampleData(req.SampleData)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if len(req.Reducer) == 0 || string(req.Reducer) == "null" {
		s.writeError(c, models.Invalid("reducer", "is required"))
		return
	}
	null := json.RawMessage("null")
	r, err := s.transform.Reducer(req.Reducer)
	if err != nil {
		c.JSON(http.StatusOK, validateReducerResponse{Message: "invalid reducer: " + err.Error(), ReducerResult: null})
		return
	}
	out, err := r.Apply(doc)
	if errors.Is(err, transform.ErrReducedTooLarge) {
		// Known from the sample alone, like a configuration error, and the request is
		// refused rather than answered with many times its size.
		s.writeError(c, models.Invalid("reducer", "%s on sample_data; narrow its queries (a recursive descent such as $..* repeats every value once per level above it)", err.Error()))
		return
	}
	if err != nil {
		c.JSON(http.StatusOK, validateReducerResponse{Message: "the reducer failed: " + err.Error(), ReducerResult: null})
		return
	}
	c.JSON(http.StatusOK, validateReducerResponse{Success: true, Message: "the reducer is valid", ReducerResult: payload.Marshal(out)})
}

// sampleData decodes the sample_data field, which must be a JSON object.
func sampleData(raw json.RawMessage) (*payload.Object, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, models.Invalid("sample_data", "is required: the event payload to try the configuration on")
	}
	doc, err := payload.DecodeObject(raw)
	if err != nil {
		return nil, models.Invalid("sample_data", "must be a JSON object: %v", err)
	}
	return doc, nil
}

type filterReducerRequest struct {
	FilterConfiguration  json.RawMessage `json:"filter_configuration"`
	ReducerConfiguration json.RawMessage `json:"reducer_configuration"`
	EventSlug            string          `json:"event_slug"`
}

type filterReducerData struct {
	SubscriberID int64           `json:"subscriber_id"`
	EventSlug    string          `json:"event_slug"`
	Filters      json.RawMessage `json:"filters"`
	Reducer      json.RawMessage `json:"reducer"`
}

// handleFilterReducerSave saves the filter and/or reducer of one subscribed event. A
// configuration present in the body replaces the stored one ({} or null removes it); one
// absent from the body is kept. Invalid configurations are refused with 400 naming the
// field, before anything is stored.
func (s *Server) handleFilterReducerSave(c *gin.Context) {
	sub, ok := s.loadSubscriber(c)
	if !ok {
		return
	}
	var req filterReducerRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	var v models.Validation
	if req.EventSlug == "" {
		v.Add("event_slug", "is required")
	}
	if req.FilterConfiguration == nil && req.ReducerConfiguration == nil {
		v.Add("filter_configuration", "send filter_configuration, reducer_configuration or both")
	}
	filters, reducer := jsonOrNil(req.FilterConfiguration), jsonOrNil(req.ReducerConfiguration)
	if filters != nil {
		if _, err := s.transform.Filter(filters); err != nil {
			addConfigError(&v, "filter_configuration", err)
		}
	}
	if reducer != nil {
		if _, err := s.transform.Reducer(reducer); err != nil {
			addConfigError(&v, "reducer_configuration", err)
		}
	}
	if err := v.Err(); err != nil {
		s.writeError(c, err)
		return
	}
	se := sub.Event(req.EventSlug)
	if se == nil {
		s.writeError(c, &models.Error{Code: models.EUNPROCESSABLE, Message: "the subscriber is not subscribed to " + req.EventSlug,
			Fields: []models.FieldError{{Field: "event_slug", Message: "is not one of the subscriber's events"}}})
		return
	}
	if req.FilterConfiguration != nil {
		se.Filters, se.SetFilters = canonicalConfig(filters), true
	}
	if req.ReducerConfiguration != nil {
		se.Reducer, se.SetReducer = canonicalConfig(reducer), true
	}
	if err := s.store.UpdateSubscriber(c.Request.Context(), sub, ""); err != nil {
		s.writeError(c, withRoute(err))
		return
	}
	s.log.InfoContext(c.Request.Context(), "filter and reducer saved", "subscriber_id", sub.ID, "event_slug", req.EventSlug)
	c.JSON(http.StatusOK, gin.H{"success": true, "message": "configuration saved for " + req.EventSlug,
		"data": filterReducerData{SubscriberID: sub.ID, EventSlug: se.Slug, Filters: orEmptyObject(se.Filters), Reducer: orEmptyObject(se.Reducer)}})
}

// canonicalConfig stores a configuration compactly; an empty object means none.
func canonicalConfig(j models.JSON) models.JSON {
	if j.IsEmpty() {
		return nil
	}
	if c, err := payload.Canonicalize(j); err == nil {
		return c
	}
	return j
}
