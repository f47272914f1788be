// Package models holds Hookflow's domain: the GORM models (subscribers, the event
// catalogue, events, deliveries, attempts, installations, API keys, notifications, retry
// jobs), their validation and the error codes. It runs no query (package store does) and
// knows nothing of HTTP or Temporal.
package models

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to a status; activities map them to retryable or
// permanent failures.
const (
	ECONFLICT      = "conflict"      // the resource exists or is in a state that forbids the change
	EINTERNAL      = "internal"      // a fault of ours or of a dependency; never shown in detail
	EINVALID       = "invalid"       // the input is malformed or breaks a rule; names the field
	EUNPROCESSABLE = "unprocessable" // well-formed input that refers to something missing or not allowed
	ENOTFOUND      = "not_found"     // no such resource (also for resources of another tenant)
	EUNAUTHORIZED  = "unauthorized"  // missing or bad credentials
	EFORBIDDEN     = "forbidden"     // valid credentials without the right to do this
	ETOOLARGE      = "too_large"     // the request body or payload exceeds a limit
	EUNAVAILABLE   = "unavailable"   // a dependency (database, Temporal) cannot be reached now
	ERATELIMITED   = "rate_limited"  // too many requests for this key
	EGONE          = "gone"          // the resource existed but its data has been removed by retention
)

// FieldError names one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the domain error: a code, a message safe to show to API users, and for
// EINVALID the fields at fault.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// Err is the underlying cause; it is logged, never shown to API users.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming one field; the message is the field's message.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EINVALID, Message: msg, Fields: []FieldError{{Field: field, Message: msg}}}
}

// Internal wraps an unexpected failure as EINTERNAL; the cause is kept for logs only.
func Internal(err error, format string, args ...any) *Error {
	return &Error{Code: EINTERNAL, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of err's *Error, or EINTERNAL for any other non-nil error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err's *Error, or a generic message.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Validation accumulates field errors; its Err is nil when nothing was added.
type Validation struct{ fields []FieldError }

// Add records that field is invalid.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns an EINVALID *Error holding every recorded field, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := v.fields[0].Field + ": " + v.fields[0].Message
	if len(v.fields) > 1 {
		msg = fmt.Sprintf("%s (and %d more)", msg, len(v.fields)-1)
	}
	return &Error{Code: EINVALID, Message: msg, Fields: v.fields}
}
