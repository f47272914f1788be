package transform

import (
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/ohler55/ojg/jp"
)

// query is a compiled JSONPath query. It is immutable and safe for concurrent use.
type query struct {
	src string
	// sel holds the selectors after the leading $, without ojg's Bracket notation markers.
	sel []jp.Frag
	// definite is true when every selector is a child name or an index, so that the
	// query matches at most one value.
	definite bool
	// ordered is true when the selectors enumerate matches in document order already:
	// no recursive descent, no union of several keys, no slice with a negative step.
	ordered bool
	// mayRepeat is true when the query can reach one node twice: a union that lists a
	// key or index twice, or a negative index beside another index.
	mayRepeat bool
}

// maxDescents bounds the recursive descents in one query. Payloads nest at most
// payload.MaxDepth levels, so each descent nested inside another multiplies the work by
// up to that depth; one keeps evaluation linear in the size of the payload.
const maxDescents = 1

// compileQuery parses and checks src. Its errors are messages for a ConfigError.
func compileQuery(src string, maxBytes int) (q *query, err error) {
	if len(src) > maxBytes {
		return nil, fmt.Errorf("query is longer than %d bytes", maxBytes)
	}
	if src == "" || src[0] != '$' {
		return nil, fmt.Errorf("a query must be a JSONPath starting with $, got %q", clip(src, 40))
	}
	defer func() {
		// ojg recovers its own parse panics; this guards against one it does not.
		if r := recover(); r != nil {
			q, err = nil, fmt.Errorf("invalid JSONPath")
		}
	}()
	x, perr := jp.ParseString(src)
	if perr != nil {
		return nil, fmt.Errorf("invalid JSONPath: %s", perr.Error())
	}
	if len(x) == 0 {
		return nil, fmt.Errorf("invalid JSONPath")
	}
	if _, ok := x[0].(jp.Root); !ok {
		return nil, fmt.Errorf("a query must be a JSONPath starting with $")
	}
	descents := 0
	if err := checkSelectors(x[1:], false, &descents); err != nil {
		return nil, err
	}
	q = &query{src: src, definite: true, ordered: true}
	for _, f := range x[1:] {
		switch f := f.(type) {
		case jp.Bracket:
			continue // notation only
		case jp.Union:
			if len(f) == 1 {
				// ['a'] and [0] written as a union of one are plain selectors.
				switch k := f[0].(type) {
				case string:
					q.sel = append(q.sel, jp.Child(k))
				case int64:
					q.sel = append(q.sel, jp.Nth(int(k)))
				}
				continue
			}
			q.definite, q.ordered = false, false
			if unionMayRepeat(f) {
				q.mayRepeat = true
			}
		case jp.Descent:
			q.definite, q.ordered = false, false
		case jp.Slice:
			q.definite = false
			if f[2] < 0 && f[2] != jp.SliceNotSet {
				q.ordered = false
			}
		case jp.Wildcard, *jp.Filter:
			q.definite = false
		}
		q.sel = append(q.sel, f)
	}
	if n := len(q.sel); n > 0 {
		if _, ok := q.sel[n-1].(jp.Descent); ok {
			return nil, fmt.Errorf("a query cannot end with a recursive descent (..)")
		}
	}
	return q, nil
}

// unionMayRepeat reports whether two members of u can select the same node.
func unionMayRepeat(u jp.Union) bool {
	seen := make(map[any]bool, len(u))
	negative, indexes := false, 0
	for _, k := range u {
		if seen[k] {
			return true
		}
		seen[k] = true
		if i, ok := k.(int64); ok {
			indexes++
			negative = negative || i < 0
		}
	}
	return negative && indexes > 1
}

// checkSelectors refuses selectors this package does not evaluate, $ inside filters and
// more than maxDescents recursive descents.
func checkSelectors(x jp.Expr, inFilter bool, descents *int) error {
	for _, f := range x {
		switch f := f.(type) {
		case jp.Root:
			if inFilter {
				return fmt.Errorf("$ inside a filter is not supported; use @ for the candidate value")
			}
			return fmt.Errorf("$ may only start a query")
		case jp.At:
			if !inFilter {
				return fmt.Errorf("@ may only be used inside a filter")
			}
		case jp.Descent:
			if *descents++; *descents > maxDescents {
				return fmt.Errorf("a query may hold at most %d recursive descent (..)", maxDescents)
			}
		case *jp.Filter:
			if err := checkScript(reflect.ValueOf(f).Elem().FieldByName("Script"), descents); err != nil {
				return err
			}
		case jp.Child, jp.Nth, jp.Wildcard, jp.Union, jp.Slice, jp.Bracket:
		case *jp.Proc:
			return fmt.Errorf("procedures ([(…)]) are not supported")
		default:
			return fmt.Errorf("unsupported JSONPath selector %s", f.Append(nil, true, false))
		}
	}
	return nil
}

var (
	exprType   = reflect.TypeOf(jp.Expr(nil))
	filterType = reflect.TypeOf((*jp.Filter)(nil))
)

// checkScript applies checkSelectors to the paths inside a filter script.
//
// ojg offers no complete way to walk a script (Script.Inspect mis-reads unary operators
// and panics on a lone path), so this reads the unexported template through reflection,
// without calling into it. It fails closed: if a future ojg renames the field, every
// filter selector is refused and the tests that parse filters fail.
func checkScript(script reflect.Value, descents *int) error {
	tmpl := script.FieldByName("template")
	if !tmpl.IsValid() || tmpl.Kind() != reflect.Slice {
		return fmt.Errorf("filter selectors are not supported")
	}
	for i := 0; i < tmpl.Len(); i++ {
		if err := checkScriptValue(tmpl.Index(i), descents); err != nil {
			return err
		}
	}
	return nil
}

func checkScriptValue(v reflect.Value, descents *int) error {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if !v.IsValid() || v.Kind() == reflect.Interface {
		return nil // a nil operand
	}
	switch {
	case v.Type() == exprType:
		for j := 0; j < v.Len(); j++ {
			f := v.Index(j)
			for f.Kind() == reflect.Interface && !f.IsNil() {
				f = f.Elem()
			}
			if !f.IsValid() || f.Kind() == reflect.Interface {
				continue
			}
			switch {
			case f.Type() == filterType:
				if err := checkScript(f.Elem().FieldByName("Script"), descents); err != nil {
					return err
				}
			case f.Type() == reflect.TypeOf(jp.Root(0)):
				return fmt.Errorf("$ inside a filter is not supported; use @ for the candidate value")
			case f.Type() == reflect.TypeOf(jp.Descent(0)):
				if *descents++; *descents > maxDescents {
					return fmt.Errorf("a query may hold at most %d recursive descent (..)", maxDescents)
				}
			}
		}
	case v.Kind() == reflect.Slice:
		// A list operand such as [1,2] in "@.a in [1,2]".
		for j := 0; j < v.Len(); j++ {
			if err := checkScriptValue(v.Index(j), descents); err != nil {
				return err
			}
		}
	}
	return nil
}

// clip shortens s to about n bytes for an error message, without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
