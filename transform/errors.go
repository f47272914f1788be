package transform

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrTimeout is wrapped by the *EvalError of an evaluation that ran past Limits.Timeout.
var ErrTimeout = errors.New("evaluation timed out")

// ErrReducedTooLarge is wrapped by the *EvalError of a reducer whose result would be
// longer than Limits.MaxReducedBytes.
var ErrReducedTooLarge = errors.New("reduced payload too large")

// ConfigError reports an invalid filter or reducer configuration. Its text is safe to
// show to whoever wrote the configuration.
type ConfigError struct {
	// Field is the path of the offending part inside the configuration:
	// "conditions[1].query" or "logic" for a filter, "brand_name" or "logo.url" or
	// "images[0]" for a reducer. Keys that are not plain identifiers are quoted in
	// brackets, as in ["a.b"]. Field is empty when the configuration as a whole is at
	// fault (not JSON, too large, not an object).
	Field string
	// Message says what is wrong, in lowercase.
	Message string
}

// Error returns "Field: Message", or Message alone when Field is empty.
func (e *ConfigError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// EvalError reports that a valid configuration failed on a document: a condition threw,
// ran past the time limit, recursed too deeply or returned something that is not a
// boolean-like value (a Promise). Its text is safe to show to whoever wrote the
// configuration; it may quote the message a condition threw.
//
// A failure caused by the caller's context wraps ctx.Err(), and one caused by the time
// limit wraps [ErrTimeout]; every other EvalError will recur on the same document.
type EvalError struct {
	// Field is the path of the failing condition in the filter, such as
	// "conditions[0].condition"; it is empty when no single condition is at fault.
	Field string
	// Message says what happened, in lowercase.
	Message string
	// Err is the cause, when there is one worth matching with errors.Is.
	Err error
}

// Error returns "Message (at Field)", or Message alone when Field is empty.
func (e *EvalError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Message + " (at " + e.Field + ")"
}

// Unwrap returns Err.
func (e *EvalError) Unwrap() error { return e.Err }

// path builds the Field of errors: a dotted path of configuration keys and indexes.
type path string

// key appends an object key, bracket-quoted when it is not a plain identifier so that
// "a.b" cannot be mistaken for a nested key.
func (p path) key(k string) path {
	if isIdent(k) {
		if p == "" {
			return path(k)
		}
		return p + "." + path(k)
	}
	return p + "[" + path(strconv.Quote(k)) + "]"
}

// index appends an array index.
func (p path) index(i int) path {
	return p + "[" + path(strconv.Itoa(i)) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func configErr(p path, format string, args ...any) *ConfigError {
	return &ConfigError{Field: string(p), Message: fmt.Sprintf(format, args...)}
}
