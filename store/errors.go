package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/hookflow/hookflow/models"
)

// The causes (Err) of two refusals of a subscriber that say what is missing: the API
// adds to their messages the routes that mend it, which the store does not know.
var (
	// ErrNotInCatalogue is the cause of the EUNPROCESSABLE error of a subscriber whose
	// events are not all in the event catalogue.
	ErrNotInCatalogue = errors.New("event not in the catalogue")
	// ErrNotInstalled is the cause of the EFORBIDDEN error of a subscriber for a company
	// that has not installed its extension.
	ErrNotInstalled = errors.New("extension not installed")
)

// dbError converts a database error into a domain error: a missing row becomes
// ENOTFOUND with the given message, an unreachable database EUNAVAILABLE, anything else
// EINTERNAL.
func dbError(err error, notFound string) error {
	if err == nil {
		return nil
	}
	var e *models.Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &models.Error{Code: models.ENOTFOUND, Message: notFound}
	}
	if Unavailable(err) {
		return &models.Error{Code: models.EUNAVAILABLE, Message: "the database is unavailable; try again shortly", Err: err}
	}
	return &models.Error{Code: models.EINTERNAL, Message: "database error", Err: err}
}

// Unavailable reports whether err means the database cannot be reached (as opposed to a
// query that the database refused).
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	var pgConnErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &pgConnErr), errors.As(err, &ne):
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-57P03: admin shutdown, crash, cannot connect now.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "unexpected EOF")
}
