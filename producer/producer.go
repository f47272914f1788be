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
	"github.com/hookflow/hookflow/workflows"
)

// MaxPayloadBytes is the largest payload accepted, as sent and in canonical form.
const MaxPayloadBytes = models.MaxPayloadBytes

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
// a trace id, and the acceptance time. The rules are the event's own (package models'
// Validate* functions and workflows.CanonicalPayload), which the event workflow applies
// again to an input that a producer started it with directly; here the fields carry
// the names of the REST API's request body.
func Prepare(ev Event, now time.Time) (workflows.EventInput, error) {
	var v models.Validation
	if err := models.ValidateCompanyID(ev.CompanyID); err != nil {
		v.Add("company_id", "%v", err)
	}
	if ev.ID == "" {
		ev.ID = newID()
	} else if err := models.ValidateEventID(ev.ID); err != nil {
		v.Add("id", "%v", err)
	}
	if err := models.ValidateEventSlug(ev.Slug); err != nil {
		v.Add("event_slug", "%v", err)
	}
	if err := models.ValidateApplicationID(ev.ApplicationID); err != nil {
		v.Add("application_id", "%v", err)
	}
	// The size as sent first, before decoding anything that large; then, in
	// CanonicalPayload, the size in canonical form, which is the event workflow's rule.
	if len(ev.Payload) > MaxPayloadBytes {
		return workflows.EventInput{}, payloadTooLarge()
	}
	canonical, err := workflows.CanonicalPayload(ev.Payload)
	switch {
	case errors.Is(err, workflows.ErrPayloadTooLarge):
		return workflows.EventInput{}, payloadTooLarge()
	case err != nil:
		v.Add("payload", "%v", err)
	}
	if err := v.Err(); err != nil {
		return workflows.EventInput{}, err
	}
	return workflows.EventInput{Event: workflows.Event{
		CompanyID: ev.CompanyID, ID: ev.ID, Slug: ev.Slug, ApplicationID: ev.ApplicationID,
		TraceID: newID(), AcceptedAt: now.UTC(), Payload: canonical,
	}}, nil
}

func payloadTooLarge() error {
	return &models.Error{Code: models.ETOOLARGE, Message: fmt.Sprintf("payload exceeds %d bytes", MaxPayloadBytes),
		Fields: []models.FieldError{{Field: "payload", Message: fmt.Sprintf("must be at most %d bytes", MaxPayloadBytes)}}}
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
