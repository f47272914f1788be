package payload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Append appends the JSON text of v to dst, exactly as JSON.stringify prints the
// corresponding ECMAScript value, and returns the extended buffer.
//
// v may hold the document model's types, nil, bool, float64, string, []any and *Object,
// and for convenience:
//   - every integer kind, and float32, printed as the float64 they convert to (integers
//     beyond 2^53 lose precision as they do in ECMAScript);
//   - Object, printed as *Object;
//   - []string;
//   - map[string]any, whose keys Go does not order: array-index keys come first in
//     ascending numeric order, as in every ECMAScript object, then the other keys in
//     lexicographic byte order;
//   - json.RawMessage, spliced verbatim: the caller promises that it is already in the
//     form Append produces (as Canonicalize returns it); an empty one prints null;
//   - a pointer to any supported type; a nil pointer prints null.
//
// A []byte is refused rather than guessed at: wrap JSON text in json.RawMessage.
//
// NaN and ±Inf print null, as in JSON.stringify. A nil []any, []string or map prints as
// an empty array or object. Strings that are not UTF-8 have each bad byte replaced by
// U+FFFD; lone surrogates held as generalized UTF-8 (see the package documentation) are
// escaped.
//
// Append panics if v holds a value of any other type or nests deeper than MaxDepth,
// which a cycle does; use MarshalChecked for values not known to be valid. Values from
// Decode are always valid.
func Append(dst []byte, v any) []byte {
	out, err := appendValue(dst, v, 0)
	if err != nil {
		panic(err)
	}
	return out
}

// Marshal returns the JSON text of v as Append prints it. It panics as Append does.
func Marshal(v any) []byte {
	out, err := marshal(v)
	if err != nil {
		panic(err)
	}
	return out
}

// MarshalChecked is Marshal for values not known to be valid: instead of panicking it
// returns an error naming the path of the first value of an unsupported type, or of a
// value nested deeper than MaxDepth.
func MarshalChecked(v any) ([]byte, error) {
	return marshal(v)
}

// bufPool holds buffers for marshal, which encodes into one and returns an exact copy:
// one allocation instead of one per doubling of a growing buffer.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBuf bounds the buffers that go back to the pool.
const maxPooledBuf = 64 << 10

func marshal(v any) ([]byte, error) {
	p := bufPool.Get().(*[]byte)
	buf, err := appendValue((*p)[:0], v, 0)
	var out []byte
	if err == nil {
		out = bytes.Clone(buf)
	}
	if cap(buf) <= maxPooledBuf {
		*p = buf
		bufPool.Put(p)
	}
	return out, err
}

// Canonicalize decodes data as Decode does and returns its JSON text as Marshal prints
// it: the bytes that JSON.stringify(JSON.parse(data)) prints. Errors are *SyntaxError.
// The result is a fixed point: Canonicalize returns it unchanged.
func Canonicalize(data []byte) ([]byte, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, err
	}
	return marshal(v)
}

// encodeError is the error of MarshalChecked, and the value Append panics with.
type encodeError struct {
	msg  string
	path []pathElem // innermost first, gathered as the encoder returns
}

func (e *encodeError) Error() string {
	elems := slices.Clone(e.path)
	slices.Reverse(elems)
	return "payload: " + e.msg + " at " + string(appendPath(nil, elems))
}

// at adds the step that led to the value at fault, when err is an *encodeError.
func at(err error, step pathElem) error {
	if e, ok := err.(*encodeError); ok {
		e.path = append(e.path, step)
	}
	return err
}

// appendValue appends v, which is nested in depth objects and arrays.
func appendValue(dst []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendString(dst, v), nil
	case float64:
		return appendNumber(dst, v), nil
	case *Object:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendObject(dst, v, depth)
	case []any:
		return appendArray(dst, v, depth)
	case bool:
		if v {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case nil:
		return append(dst, "null"...), nil
	case int:
		return appendNumber(dst, float64(v)), nil
	case int64:
		return appendNumber(dst, float64(v)), nil
	case int32:
		return appendNumber(dst, float64(v)), nil
	case int16:
		return appendNumber(dst, float64(v)), nil
	case int8:
		return appendNumber(dst, float64(v)), nil
	case uint:
		return appendNumber(dst, float64(v)), nil
	case uint64:
		return appendNumber(dst, float64(v)), nil
	case uint32:
		return appendNumber(dst, float64(v)), nil
	case uint16:
		return appendNumber(dst, float64(v)), nil
	case uint8:
		return appendNumber(dst, float64(v)), nil
	case uintptr:
		return appendNumber(dst, float64(v)), nil
	case float32:
		return appendNumber(dst, float64(v)), nil
	case Object:
		return appendObject(dst, &v, depth)
	case []string:
		if depth == MaxDepth {
			return dst, errTooDeep()
		}
		dst = append(dst, '[')
		for i, s := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s)
		}
		return append(dst, ']'), nil
	case map[string]any:
		return appendMap(dst, v, depth)
	case json.RawMessage:
		if len(v) == 0 {
			return append(dst, "null"...), nil
		}
		return append(dst, v...), nil
	case []byte:
		// encoding/json would print base64 and a caller may expect JSON text: neither
		// guess is safe.
		return dst, &encodeError{msg: "cannot encode Go type []byte (wrap JSON text in json.RawMessage)"}
	}
	// Pointers are rare in payloads; reflection keeps them out of the cases above.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return append(dst, "null"...), nil
		}
		// Following a pointer counts as a level so that a cycle of pointers ends.
		if depth == MaxDepth {
			return dst, errTooDeep()
		}
		return appendValue(dst, rv.Elem().Interface(), depth+1)
	}
	return dst, &encodeError{msg: fmt.Sprintf("cannot encode Go type %T", v)}
}

func errTooDeep() error {
	return &encodeError{msg: fmt.Sprintf("nesting deeper than %d levels", MaxDepth)}
}

func appendObject(dst []byte, o *Object, depth int) ([]byte, error) {
	if depth == MaxDepth {
		return dst, errTooDeep()
	}
	dst = append(dst, '{')
	for i, k := range o.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, o.vals[i], depth+1); err != nil {
			return dst, at(err, pathElem{key: k, index: -1})
		}
	}
	return append(dst, '}'), nil
}

func appendArray(dst []byte, a []any, depth int) ([]byte, error) {
	if depth == MaxDepth {
		return dst, errTooDeep()
	}
	dst = append(dst, '[')
	for i, v := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendValue(dst, v, depth+1); err != nil {
			return dst, at(err, pathElem{index: i})
		}
	}
	return append(dst, ']'), nil
}

func appendMap(dst []byte, m map[string]any, depth int) ([]byte, error) {
	if depth == MaxDepth {
		return dst, errTooDeep()
	}
	keys := make([]string, 0, len(m))
	// The keys are sorted before use, so the order of this range does not matter:
	// workflow code (the event workflow's payload check) may encode.
	//workflowcheck:ignore
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, comparePropertyKeys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, m[k], depth+1); err != nil {
			return dst, at(err, pathElem{key: k, index: -1})
		}
	}
	return append(dst, '}'), nil
}

// comparePropertyKeys orders array-index keys first, ascending, then the other keys by
// their bytes.
func comparePropertyKeys(a, b string) int {
	ia, aok := arrayIndex(a)
	ib, bok := arrayIndex(b)
	switch {
	case aok && bok:
		return int(int64(ia) - int64(ib))
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(a, b)
}
