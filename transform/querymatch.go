package transform

import (
	"slices"

	"github.com/hookflow/hookflow/payload"
	"github.com/ohler55/ojg/jp"
)

// This file evaluates compiled queries itself rather than calling ojg's Expr.Get,
// because Get's order is not document order: $..a lists deeper matches first and a union
// lists its keys in the order written. Filters and reducers promise document order, so
// the walk below records, when the query can produce matches out of order, the position
// of each match (its path of member and element indexes) and sorts by it.

// first returns the first value q matches in doc, in document order.
func (q *query) first(doc any) (any, bool) {
	if q.definite {
		return q.definiteValue(doc)
	}
	w := walker{sel: q.sel, track: !q.ordered, stopAtFirst: q.ordered}
	w.walk(0, doc)
	if q.ordered {
		if len(w.vals) == 0 {
			return nil, false
		}
		return w.vals[0], true
	}
	if len(w.found) == 0 {
		return nil, false
	}
	best := w.found[0]
	for _, m := range w.found[1:] {
		if slices.Compare(m.pos, best.pos) < 0 {
			best = m
		}
	}
	return best.val, true
}

// all returns every value q matches in doc, in document order, each matched node once.
// The result is never nil. With a budget, all charges the JSON text of the array it
// returns, and stops walking as soon as the budget is spent (the result is then
// incomplete, and b.over set).
func (q *query) all(doc any, b *sizeBudget) []any {
	if b != nil && !b.add(2) { // the brackets
		return nil
	}
	if q.definite {
		if v, ok := q.definiteValue(doc); ok {
			if b != nil {
				b.value(v)
			}
			return []any{v}
		}
		return []any{}
	}
	w := walker{sel: q.sel, track: !q.ordered, budget: b}
	if b != nil && q.mayRepeat {
		w.seen = make(map[string]struct{})
	}
	w.walk(0, doc)
	if q.ordered {
		if w.vals == nil {
			return []any{}
		}
		return w.vals
	}
	slices.SortStableFunc(w.found, func(a, b found) int { return slices.Compare(a.pos, b.pos) })
	out := make([]any, 0, len(w.found))
	for i, m := range w.found {
		if i > 0 && slices.Equal(m.pos, w.found[i-1].pos) {
			continue // the same node reached twice
		}
		out = append(out, m.val)
	}
	return out
}

// definiteValue follows a path of child names and indexes without allocating.
func (q *query) definiteValue(v any) (any, bool) {
	for _, f := range q.sel {
		switch f := f.(type) {
		case jp.Child:
			obj, ok := v.(*payload.Object)
			if !ok {
				return nil, false
			}
			if v, ok = obj.Get(string(f)); !ok {
				return nil, false
			}
		case jp.Nth:
			arr, ok := v.([]any)
			if !ok {
				return nil, false
			}
			i := int(f)
			if i < 0 {
				i += len(arr)
			}
			if i < 0 || i >= len(arr) {
				return nil, false
			}
			v = arr[i]
		}
	}
	return v, true
}

// found is a match and its position: the indexes of the members and elements on the
// way from the root. Comparing positions lexicographically gives document order.
type found struct {
	pos []int
	val any
}

type walker struct {
	sel         []jp.Frag
	track       bool // record positions in found; otherwise append values to vals
	stopAtFirst bool // only with !track: the first value is the answer
	pos         []int
	found       []found
	vals        []any
	// budget, when set, is charged for each match as an element of a JSON array; the
	// walk stops when it is spent. seen then holds the positions matched so far, for a
	// query that may reach a node twice, so that a node is charged once.
	budget  *sizeBudget
	seen    map[string]struct{}
	matched int
}

func (w *walker) done() bool {
	return w.stopAtFirst && len(w.vals) > 0 || w.budget != nil && w.budget.over
}

func (w *walker) emit(v any) {
	if w.budget != nil {
		if w.seen != nil {
			key := posKey(w.pos)
			if _, dup := w.seen[key]; dup {
				return
			}
			w.seen[key] = struct{}{}
		}
		if w.matched++; w.matched > 1 && !w.budget.add(1) { // the comma
			return
		}
		if !w.budget.value(v) {
			return
		}
	}
	if w.track {
		w.found = append(w.found, found{pos: slices.Clone(w.pos), val: v})
		return
	}
	w.vals = append(w.vals, v)
}

// posKey encodes a position as a map key.
func posKey(pos []int) string {
	b := make([]byte, 0, 4*len(pos))
	for _, p := range pos {
		b = append(b, byte(p>>24), byte(p>>16), byte(p>>8), byte(p))
	}
	return string(b)
}

// visit applies the selectors from i on to v, the child at position p of the current
// node.
func (w *walker) visit(i, p int, v any) {
	if w.track {
		w.pos = append(w.pos, p)
		w.walk(i, v)
		w.pos = w.pos[:len(w.pos)-1]
		return
	}
	w.walk(i, v)
}

func (w *walker) walk(i int, v any) {
	if w.done() {
		return
	}
	if i == len(w.sel) {
		w.emit(v)
		return
	}
	switch f := w.sel[i].(type) {
	case jp.Child:
		w.child(i+1, v, string(f))
	case jp.Nth:
		w.nth(i+1, v, int(f))
	case jp.Wildcard:
		w.children(v, func(p int, c any) { w.visit(i+1, p, c) })
	case jp.Descent:
		// The node itself first, then its descendants: pre-order.
		w.walk(i+1, v)
		w.children(v, func(p int, c any) { w.visit(i, p, c) })
	case jp.Union:
		for _, k := range f {
			switch k := k.(type) {
			case string:
				w.child(i+1, v, k)
			case int64:
				w.nth(i+1, v, int(k))
			}
		}
	case jp.Slice:
		if arr, ok := v.([]any); ok {
			sliceIndexes(f, len(arr), func(p int) { w.visit(i+1, p, arr[p]) })
		}
	case *jp.Filter:
		w.children(v, func(p int, c any) {
			if f.Match(c) {
				w.visit(i+1, p, c)
			}
		})
	}
}

func (w *walker) child(i int, v any, key string) {
	obj, ok := v.(*payload.Object)
	if !ok {
		return
	}
	if !w.track {
		if c, ok := obj.Get(key); ok {
			w.walk(i, c)
		}
		return
	}
	for p, k := range obj.Keys() {
		if k == key {
			_, c := obj.At(p)
			w.visit(i, p, c)
			return
		}
	}
}

func (w *walker) nth(i int, v any, n int) {
	arr, ok := v.([]any)
	if !ok {
		return
	}
	if n < 0 {
		n += len(arr)
	}
	if n >= 0 && n < len(arr) {
		w.visit(i, n, arr[n])
	}
}

// children calls fn for each member value or element of v, in order.
func (w *walker) children(v any, fn func(p int, c any)) {
	switch v := v.(type) {
	case *payload.Object:
		for p := 0; p < v.Len() && !w.done(); p++ {
			_, c := v.At(p)
			fn(p, c)
		}
	case []any:
		for p := 0; p < len(v) && !w.done(); p++ {
			fn(p, v[p])
		}
	}
}

// sliceIndexes calls fn with the indexes that the slice [start:end:step] selects in an
// array of n elements, following RFC 9535: missing bounds default by the sign of step,
// negative bounds count from the end, and a step of 0 selects nothing.
func sliceIndexes(s jp.Slice, n int, fn func(int)) {
	start, end, step := s[0], s[1], s[2]
	if step == jp.SliceNotSet {
		step = 1
	}
	if step == 0 {
		return
	}
	norm := func(i int) int {
		if i < 0 {
			return n + i
		}
		return i
	}
	if step > 0 {
		lo, hi := 0, n
		if start != jp.SliceNotSet {
			lo = min(max(norm(start), 0), n)
		}
		if end != jp.SliceNotSet {
			hi = min(max(norm(end), 0), n)
		}
		for i := lo; i < hi; i += step {
			fn(i)
		}
		return
	}
	hi, lo := n-1, -1
	if start != jp.SliceNotSet {
		hi = min(max(norm(start), -1), n-1)
	}
	if end != jp.SliceNotSet {
		lo = min(max(norm(end), -1), n-1)
	}
	for i := hi; i > lo; i += step {
		fn(i)
	}
}
