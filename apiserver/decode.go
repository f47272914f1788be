package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/payload"
)

// Body size limits. Event ingestion carries a payload of up to 1 MiB; every other body is
// configuration and much smaller.
const (
	maxEventBody   = 1<<20 + 64<<10
	maxDefaultBody = 256 << 10
)

// decodeJSON reads c's body (at most limit bytes) into dst strictly: the body must be one
// well-formed JSON object in valid UTF-8, without duplicate keys, nested at most
// payload.MaxDepth deep, with no field that dst does not declare and every field of the
// declared type. Every failure is a *models.Error that names the field.
func decodeJSON(c *gin.Context, limit int64, dst any) error {
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return models.Invalid("body", "Content-Type must be application/json, not %s", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &models.Error{Code: models.ETOOLARGE, Message: fmt.Sprintf("the request body exceeds %d bytes", limit),
				Fields: []models.FieldError{{Field: "body", Message: fmt.Sprintf("must be at most %d bytes", limit)}}}
		}
		return models.Invalid("body", "could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return models.Invalid("body", "is required: send a JSON object")
	}
	// The strict decoder catches what encoding/json lets through: invalid UTF-8,
	// duplicate keys, numbers out of range, excessive nesting.
	if _, err := payload.DecodeObject(body); err != nil {
		var se *payload.SyntaxError
		if errors.As(err, &se) {
			return models.Invalid(fieldOfPath(se.Path), "%s (at byte %d)", se.Msg, se.Offset)
		}
		return models.Invalid("body", "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonFieldError(err)
	}
	return nil
}

// fieldOfPath turns a payload path ($.events[0].slug) into a field name (events[0].slug).
func fieldOfPath(path string) string {
	f := strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	if f == "" {
		return "body"
	}
	return f
}

func jsonFieldError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			return models.Invalid("body", "must be a JSON object")
		}
		return models.Invalid(field, "must be %s, not %s", describeType(typeErr.Type.Kind().String(), typeErr.Type.String()), typeErr.Value)
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return models.Invalid(name, "is not a known field")
	}
	return models.Invalid("body", "is not valid JSON for this request")
}

func describeType(kind, name string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	if name == "json.Number" {
		return "a number"
	}
	return "of type " + name
}
