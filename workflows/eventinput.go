package workflows

import (
	"errors"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/payload"
)

// ErrInvalidEvent is the type of the non-retryable application error that EventWorkflow
// fails with when its input is not a valid event: a field breaks a rule of the REST API
// (ValidateEventInput), or the event's slug is not in the catalogue (PrepareDeliveries).
// Its message names every field at fault; its details hold them as []models.FieldError.
// Nothing is stored for such an event.
const ErrInvalidEvent = "InvalidEvent"

// ErrPayloadTooLarge is what CanonicalPayload's error wraps when the payload is over
// models.MaxPayloadBytes.
var ErrPayloadTooLarge = errors.New("payload too large")

// CanonicalPayload checks an event's payload as the REST API and the event workflow
// both do — present, one JSON object that package payload's strict decoder accepts, at
// most models.MaxPayloadBytes in canonical form — and returns its canonical form. The
// error's text is the field's message; errors.Is(err, ErrPayloadTooLarge) tells the size
// from the rest. The limit applies to the canonical form, the bytes stored and
// delivered, because that is what every producer's payload comes to whatever its
// encoder: a JSON payload converter may escape <, > and & as \u003c, inflating the same
// payload sixfold on the way.
func CanonicalPayload(raw []byte) ([]byte, error) {
	if len(raw) == 0 {
		return nil, errors.New("is required")
	}
	doc, err := payload.DecodeObject(raw)
	if err != nil {
		return nil, err
	}
	canonical := payload.Marshal(doc)
	if err := models.ValidatePayloadSize(len(canonical)); err != nil {
		return nil, &payloadSizeError{err}
	}
	return canonical, nil
}

type payloadSizeError struct{ err error }

func (e *payloadSizeError) Error() string        { return e.err.Error() }
func (e *payloadSizeError) Is(target error) bool { return target == ErrPayloadTooLarge }

// ValidateEventInput checks the input of the first run of an event workflow, started
// with workflow id workflowID. Services may start EventWorkflow from any Temporal SDK,
// bypassing the REST API, so the workflow checks what the API checks, with the same
// rules (models.ValidateCompanyID, ValidateEventID, ValidateEventSlug,
// ValidateApplicationID, ValidateTraceID, and CanonicalPayload), and what the API sets
// itself: accepted_at is required; row_id, cursor and started, which only Hookflow's own
// continue-as-new sets, must be absent; and the workflow id must be
// EventWorkflowID(company_id, id), the idempotency rule (a producer that chose another
// id could start the same event twice). Whether the catalogue has the slug is checked by
// PrepareDeliveries, which reads the database.
//
// It returns nil or a *models.Error (EINVALID) whose Fields name each fault as a path in
// the input's JSON (event.slug). It is pure: no I/O, no clock, so that the workflow can
// call it before its first command.
func ValidateEventInput(in EventInput, workflowID string) error {
	var v models.Validation
	ev := in.Event
	companyOK, idOK := true, true
	if err := models.ValidateCompanyID(ev.CompanyID); err != nil {
		v.Add("event.company_id", "%v", err)
		companyOK = false
	}
	if err := models.ValidateEventID(ev.ID); err != nil {
		v.Add("event.id", "%v", err)
		idOK = false
	}
	if err := models.ValidateEventSlug(ev.Slug); err != nil {
		v.Add("event.slug", "%v", err)
	}
	if err := models.ValidateApplicationID(ev.ApplicationID); err != nil {
		v.Add("event.application_id", "%v", err)
	}
	if err := models.ValidateTraceID(ev.TraceID); err != nil {
		v.Add("event.trace_id", "%v", err)
	}
	if ev.AcceptedAt.IsZero() {
		v.Add("event.accepted_at", "is required: when the producer accepted the event, in RFC 3339 (it becomes created_timestamp)")
	}
	if _, err := CanonicalPayload(ev.Payload); err != nil {
		v.Add("event.payload", "%v", err)
	}
	if ev.RowID != 0 {
		v.Add("event.row_id", "must be absent: Hookflow sets it")
	}
	if in.Cursor != 0 {
		v.Add("cursor", "must be absent: Hookflow sets it")
	}
	if in.Started != 0 {
		v.Add("started", "must be absent: Hookflow sets it")
	}
	if companyOK && idOK {
		if want := EventWorkflowID(ev.CompanyID, ev.ID); workflowID != want {
			v.Add("workflow_id", "must be %q, made of event.company_id and event.id (event:<company_id>:<id>), not %q: the event id is the idempotency key", want, workflowID)
		}
	}
	return v.Err()
}

// checkEventInput fails an event workflow's first run at once when its input is not a
// valid event (ValidateEventInput). It runs before the workflow's first command and
// makes none for a valid input, so the command sequence of valid events is unchanged.
// A run continued as new is not checked again: its input is the checked one that
// Hookflow carried over (without the payload, which is stored by then).
func checkEventInput(ctx workflow.Context, in EventInput) error {
	info := workflow.GetInfo(ctx)
	if info.ContinuedExecutionRunID != "" {
		return nil
	}
	err := ValidateEventInput(in, info.WorkflowExecution.ID)
	if err == nil {
		return nil
	}
	var fields []models.FieldError
	var me *models.Error
	if errors.As(err, &me) {
		fields = me.Fields
	}
	workflow.GetLogger(ctx).Warn("invalid event input", "workflow_id", info.WorkflowExecution.ID, "error", err)
	return invalidEvent(fields)
}

// invalidEvent is the error an event workflow fails with for an invalid event: non
// retryable, so that it ends at once, whatever retry policy its starter gave it.
func invalidEvent(fields []models.FieldError) error {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return temporal.NewNonRetryableApplicationError("invalid event: "+strings.Join(parts, "; "), ErrInvalidEvent, nil, fields)
}

// preparationFailure turns PrepareDeliveries' refusal of an event that the catalogue
// does not know (a permanent failure whose details name the field) into the workflow's
// own ErrInvalidEvent failure. Other errors are returned as they are.
func preparationFailure(err error) error {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrPermanent || !appErr.HasDetails() {
		return err
	}
	var fields []models.FieldError
	if appErr.Details(&fields) != nil || len(fields) == 0 {
		return err
	}
	return invalidEvent(fields)
}
