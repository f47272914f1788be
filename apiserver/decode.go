package apiserver

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

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
// payload.MaxDepth deep, with no field that dst does not declare (names match exactly,
// case included), no lone UTF-16 surrogate in a string that dst holds as text, and every
// field of the declared type. Every failure is a *models.Error that names the field.
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
	doc, err := payload.DecodeObject(body)
	if err != nil {
		var se *payload.SyntaxError
		if errors.As(err, &se) {
			return models.Invalid(fieldOfPath(se.Path), "%s (at byte %d)", se.Msg, se.Offset)
		}
		return models.Invalid("body", "%v", err)
	}
	if err := checkFields(reflect.TypeOf(dst), doc, ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonFieldError(err)
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// checkFields walks the decoded document v beside t, the Go type that v is about to be
// decoded into, and refuses what encoding/json would let through silently:
//   - a key that matches a field only when case is ignored: encoding/json matches names
//     case-insensitively, so {"name": …, "NAME": …} would set one field twice, the last
//     value winning, which is as ambiguous as a duplicate key;
//   - a key that no field declares, named by its full path (encoding/json names only the
//     last key);
//   - a lone UTF-16 surrogate (an escape such as \ud800) in a string that t holds as Go
//     text, which encoding/json would replace with U+FFFD, and the NUL character, which
//     PostgreSQL cannot store in text. Payloads (json.RawMessage) keep both: the payload
//     package carries them through to the receiver, and the store keeps payloads as bytes.
//
// It also reports a string, boolean, object or array of the wrong type with its full
// path (events[0].slug, where encoding/json says events.slug). Numbers are left to
// encoding/json, which decodes them from their text and quotes it in its error; so is
// null, which leaves a field as it was.
func checkFields(t reflect.Type, v any, path string) error {
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkFields(t.Elem(), v, path)
	case reflect.Struct:
		obj, ok := v.(*payload.Object)
		if !ok {
			return wrongType(path, "an object", v)
		}
		fields := jsonFields(t)
		for i := range obj.Len() {
			key, val := obj.At(i)
			field := joinField(path, shownKey(key))
			ft, ok := fields[key]
			if !ok {
				return unknownField(field, key, fields)
			}
			if err := checkFields(ft, val, field); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(*payload.Object)
		if !ok {
			return wrongType(path, "an object", v)
		}
		for i := range obj.Len() {
			key, val := obj.At(i)
			field := joinField(path, shownKey(key))
			if t.Key().Kind() == reflect.String && !isText(key) {
				return models.Invalid(field, "the key must be text: no lone UTF-16 surrogate (\\ud800-\\udfff without its pair), no NUL (\\u0000)")
			}
			if err := checkFields(t.Elem(), val, field); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			return wrongType(path, "an array", v)
		}
		for i, val := range arr {
			if err := checkFields(t.Elem(), val, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return wrongType(path, "a string", v)
		}
		// The strict decoder has refused invalid UTF-8, so what is left invalid here is
		// a surrogate that an escape produced.
		if !utf8.ValidString(s) {
			return models.Invalid(path, "contains a lone UTF-16 surrogate (an escape in \\ud800-\\udfff without its pair), which is not text")
		}
		if strings.IndexByte(s, 0) >= 0 {
			return models.Invalid(path, "must not contain the NUL character (\\u0000)")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return wrongType(path, "a boolean", v)
		}
	}
	return nil
}

// wrongType is the error for v where a value of type want belongs; nil for null.
func wrongType(path, want string, v any) error {
	var got string
	switch v.(type) {
	case nil:
		return nil
	case bool:
		got = "a boolean"
	case float64:
		got = "a number"
	case string:
		got = "a string"
	case []any:
		got = "an array"
	case *payload.Object:
		got = "an object"
	default:
		got = fmt.Sprintf("%T", v)
	}
	return models.Invalid(cmp.Or(path, "body"), "must be %s, not %s", want, got)
}

// isText reports whether s is UTF-8 without NUL: what the database takes as text.
func isText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// requireText answers 400 to a request whose path parameters or query hold something
// other than text (isText): they reach the database, and PostgreSQL refuses NUL and
// invalid UTF-8 with an error that would otherwise be a 500.
func (s *Server) requireText() gin.HandlerFunc {
	return func(c *gin.Context) {
		for _, p := range c.Params {
			if !isText(p.Value) {
				s.writeError(c, models.Invalid(p.Key, "must be UTF-8 text without NUL characters"))
				return
			}
		}
		for name, values := range c.Request.URL.Query() {
			if !isText(name) {
				s.writeError(c, models.Invalid("query", "parameter names must be UTF-8 text without NUL characters"))
				return
			}
			for _, v := range values {
				if !isText(v) {
					s.writeError(c, models.Invalid(name, "must be UTF-8 text without NUL characters"))
					return
				}
			}
		}
		c.Next()
	}
}

// fieldsByType caches jsonFields: request types are few and fixed.
var fieldsByType sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields returns the JSON names of t's fields, with their types, as encoding/json
// sees them (embedded structs without a name contribute their own fields). The map is
// shared: callers must not change it.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldsByType.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := structFields(t)
	fieldsByType.Store(t, m)
	return m
}

func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for n, typ := range structFields(ft) {
					if _, ok := out[n]; !ok {
						out[n] = typ
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// unknownField is the error for key, which fields does not declare.
func unknownField(field, key string, fields map[string]reflect.Type) error {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return models.Invalid(field, "is not a known field; names are case-sensitive: did you mean %s?", name)
		}
	}
	return models.Invalid(field, "is not a known field")
}

// maxShownKey bounds how much of a key an error repeats.
const maxShownKey = 64

// shownKey returns key for an error's field: "" for the empty key, cut to about
// maxShownKey bytes with "..." when longer, a lone surrogate shown as U+FFFD.
func shownKey(key string) string {
	if key == "" {
		return `""`
	}
	key = strings.ToValidUTF8(key, "\uFFFD")
	if len(key) <= maxShownKey {
		return key
	}
	cut := maxShownKey
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return key[:cut] + "..."
}

// joinField appends key to a field path: events[0] and slug make events[0].slug.
func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
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
