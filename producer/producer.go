// Package producer lets a platform service emit events by starting Hookflow's event
// workflow directly through its own Temporal client, with the same idempotency rule as
// the REST API: the workflow id is derived from (company id, event id), so emitting the
// same event twice delivers it once.
package producer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/workflows"
)

// MaxPayloadBytes is the largest payload accepted (as sent, before canonicalisation).
const MaxPayloadBytes = 1 << 20

// Event is an event to emit.
type Event struct {
	CompanyID int64
	// ID is the idempotency key, unique per company: 1 to 128 characters from
	// [A-Za-z0-9._~-]. Empty generates one, which makes the emit not idempotent.
	ID string
	// Slug names the event type, e.g. company/product/create/v1.
	Slug          string
	ApplicationID string
	// Payload is the event's JSON object.
	Payload []byte
}

// Result tells what Emit did.
type Result struct {
	EventID    string
	WorkflowID string
	// Duplicate is true when the event had been accepted before; nothing new started.
	Duplicate bool
}

// Emit validates ev and starts its event workflow. It returns a *models.Error with code
// EINVALID (naming the field) or ETOOLARGE for bad input, and EUNAVAILABLE when Temporal
// cannot be reached. Emitting an event that was accepted before is not an error: the
// Result says Duplicate.
func Emit(ctx context.Context, c client.Client, ev Event) (Result, error) {
	in, err := Prepare(ev, time.Now())
	if err != nil {
		return Result{}, err
	}
	return Start(ctx, c, in)
}

// Prepare validates ev and returns the event workflow's input: the canonical payload,
// a trace id, and the acceptance time.
func Prepare(ev Event, now time.Time) (workflows.EventInput, error) {
	var v models.Validation
	if ev.CompanyID <= 0 {
		v.Add("company_id", "must be a positive integer")
	}
	if ev.ID == "" {
		ev.ID = newID()
	} else if err := models.ValidateEventID(ev.ID); err != nil {
		v.Add("id", "%v", err)
	}
	if ev.Slug == "" {
		v.Add("event_slug", "is required")
	} else if _, err := models.ParseSlug(ev.Slug); err != nil {
		v.Add("event_slug", "%v", err)
	}
	if len(ev.ApplicationID) > 128 {
		v.Add("application_id", "must be at most 128 characters")
	}
	var canonical []byte
	switch {
	case len(ev.Payload) == 0:
		v.Add("payload", "is required")
	case len(ev.Payload) > MaxPayloadBytes:
		return workflows.EventInput{}, &models.Error{Code: models.ETOOLARGE, Message: fmt.Sprintf("payload exceeds %d bytes", MaxPayloadBytes),
			Fields: []models.FieldError{{Field: "payload", Message: fmt.Sprintf("must be at most %d bytes", MaxPayloadBytes)}}}
	default:
		doc, err := payload.DecodeObject(ev.Payload)
		if err != nil {
			v.Add("payload", "%v", err)
		} else {
			canonical = payload.Marshal(doc)
		}
	}
	if err := v.Err(); err != nil {
		return workflows.EventInput{}, err
	}
	return workflows.EventInput{Event: workflows.Event{
		CompanyID: ev.CompanyID, ID: ev.ID, Slug: ev.Slug, ApplicationID: ev.ApplicationID,
		TraceID: newID(), AcceptedAt: now.UTC(), Payload: canonical,
	}}, nil
}

// WorkflowID returns the event workflow id of a prepared input.
func WorkflowID(in workflows.EventInput) string {
	return workflows.EventWorkflowID(in.Event.CompanyID, in.Event.ID)
}

// Start starts the event workflow for a prepared input. A workflow that exists already
// (the same event accepted before) yields Duplicate rather than an error.
func Start(ctx context.Context, c client.Client, in workflows.EventInput) (Result, error) {
	id := workflows.EventWorkflowID(in.Event.CompanyID, in.Event.ID)
	res := Result{EventID: in.Event.ID, WorkflowID: id}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                workflows.TaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		// When the client has a worker in the same process (hookflow dev), the first
		// workflow task goes straight to it instead of through the matching service.
		EnableEagerStart: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchEventSlug.ValueSet(in.Event.Slug),
			workflows.SearchCompanyID.ValueSet(strconv.FormatInt(in.Event.CompanyID, 10)),
		),
	}, workflows.EventWorkflowName, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &already) || temporal.IsWorkflowExecutionAlreadyStartedError(err):
		res.Duplicate = true
		return res, nil
	}
	return Result{}, &models.Error{Code: models.EUNAVAILABLE, Message: "the workflow engine is unavailable; the event was not accepted, try again", Err: err}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
