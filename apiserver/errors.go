package apiserver

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
)

// errorStatus is the one map from domain error codes to HTTP statuses.
var errorStatus = map[string]int{
	models.EINVALID:       http.StatusBadRequest,
	models.EUNAUTHORIZED:  http.StatusUnauthorized,
	models.EFORBIDDEN:     http.StatusForbidden,
	models.ENOTFOUND:      http.StatusNotFound,
	models.ECONFLICT:      http.StatusConflict,
	models.EGONE:          http.StatusGone,
	models.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	models.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	models.ERATELIMITED:   http.StatusTooManyRequests,
	models.EUNAVAILABLE:   http.StatusServiceUnavailable,
	models.EINTERNAL:      http.StatusInternalServerError,
}

// errorBody is the error envelope every endpoint answers with.
type errorBody struct {
	Success bool                `json:"success"`
	Message string              `json:"message"`
	Errors  []models.FieldError `json:"errors"`
}

// writeError answers with err's status and envelope. Internal and unavailable errors are
// logged with their cause; the client sees only the safe message.
func (s *Server) writeError(c *gin.Context, err error) {
	code := models.ErrorCode(err)
	status, ok := errorStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var e *models.Error
	body := errorBody{Message: "internal error", Errors: []models.FieldError{}}
	if errors.As(err, &e) {
		body.Message = e.Message
		if e.Fields != nil {
			body.Errors = e.Fields
		}
	}
	switch code {
	case models.EINTERNAL:
		s.log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.FullPath(), "error", err)
	case models.EUNAVAILABLE:
		s.log.WarnContext(c.Request.Context(), "dependency unavailable", "method", c.Request.Method, "path", c.FullPath(), "error", err)
		c.Header("Retry-After", "5")
	case models.ERATELIMITED:
		if e != nil && e.Err != nil {
			var ra retryAfterError
			if errors.As(e.Err, &ra) {
				c.Header("Retry-After", strconv.Itoa(ra.seconds))
			}
		}
	}
	c.AbortWithStatusJSON(status, body)
}

// retryAfterError carries a Retry-After value to writeError.
type retryAfterError struct{ seconds int }

func (e retryAfterError) Error() string { return "retry after " + strconv.Itoa(e.seconds) + "s" }

// recoverJSON turns a handler panic into a logged 500 with the error envelope.
func (s *Server) recoverJSON() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.ErrorContext(c.Request.Context(), "handler panic", "method", c.Request.Method, "path", c.FullPath(), "panic", r)
				s.writeError(c, models.Errorf(models.EINTERNAL, "internal error"))
			}
		}()
		c.Next()
	}
}

// logRequests logs each request at debug level, and server errors at warn.
func (s *Server) logRequests() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelWarn
		}
		s.log.Log(c.Request.Context(), level, "http", "method", c.Request.Method, "path", c.FullPath(), "status", status)
	}
}
