package transform

import (
	"fmt"

	"github.com/hookflow/hookflow/payload"
)

// Reducer is a parsed reducer. It is immutable and safe for concurrent use. A nil
// *Reducer is the absent reducer: Apply returns the payload unchanged.
type Reducer struct {
	root     reducerNode
	maxBytes int // Limits.MaxReducedBytes
}

// reducerNode is one value of the reducer: an object (keys and kids), an array (kids),
// a query, or a literal.
type reducerNode struct {
	kind    reducerKind
	keys    []string
	kids    []reducerNode
	query   *query
	literal any
	// size is the length of the JSON text of each key with its colon (an object), or
	// of the literal: known at parse time, charged to the budget by apply.
	keySizes    []int
	literalSize int
}

type reducerKind uint8

const (
	reduceLiteral reducerKind = iota
	reduceQuery
	reduceObject
	reduceArray
)

// Reducer parses a reducer configuration: a JSON object whose string leaves are
// JSONPath queries (they must start with $) and whose other leaves are literals. It
// returns a *ConfigError when the configuration is invalid, more than
// Limits.MaxReducerDepth levels deep or with more than Limits.MaxReducerLeaves leaves.
// Empty text, null and {} mean no reducer: Reducer returns nil, nil.
//
// Parsed reducers are cached by the exact configuration text, like filters.
func (e *Engine) Reducer(config []byte) (*Reducer, error) {
	if r, ok := e.reducers.get(config); ok {
		return r, nil
	}
	obj, err := e.decodeConfig(config)
	if err != nil || obj == nil {
		return nil, err
	}
	p := reducerParser{limits: e.limits}
	r := &Reducer{maxBytes: e.limits.MaxReducedBytes}
	if r.root, err = p.parse(obj, "", 1); err != nil {
		return nil, err
	}
	return e.reducers.add(config, r), nil
}

type reducerParser struct {
	limits Limits
	leaves int
}

func (p *reducerParser) parse(v any, at path, depth int) (reducerNode, error) {
	switch v := v.(type) {
	case *payload.Object:
		if depth > p.limits.MaxReducerDepth {
			return reducerNode{}, configErr(at, "nests too deeply; a reducer nests at most %d levels", p.limits.MaxReducerDepth)
		}
		n := reducerNode{kind: reduceObject, keys: v.Keys(), kids: make([]reducerNode, v.Len()), keySizes: make([]int, v.Len())}
		for i, k := range n.keys {
			n.keySizes[i] = len(payload.Append(nil, k)) + 1
		}
		if v.Len() == 0 {
			return n, p.leaf(at)
		}
		for i := range n.kids {
			k, kid := v.At(i)
			var err error
			if n.kids[i], err = p.parse(kid, at.key(k), depth+1); err != nil {
				return reducerNode{}, err
			}
		}
		return n, nil
	case []any:
		if depth > p.limits.MaxReducerDepth {
			return reducerNode{}, configErr(at, "nests too deeply; a reducer nests at most %d levels", p.limits.MaxReducerDepth)
		}
		n := reducerNode{kind: reduceArray, kids: make([]reducerNode, len(v))}
		if len(v) == 0 {
			return n, p.leaf(at)
		}
		for i, kid := range v {
			var err error
			if n.kids[i], err = p.parse(kid, at.index(i), depth+1); err != nil {
				return reducerNode{}, err
			}
		}
		return n, nil
	case string:
		q, err := compileQuery(v, p.limits.MaxQueryBytes)
		if err != nil {
			return reducerNode{}, configErr(at, "%s", err.Error())
		}
		return reducerNode{kind: reduceQuery, query: q}, p.leaf(at)
	default:
		// nil, bool or float64, copied as is.
		return reducerNode{kind: reduceLiteral, literal: v, literalSize: len(payload.Append(nil, v))}, p.leaf(at)
	}
}

func (p *reducerParser) leaf(at path) error {
	if p.leaves++; p.leaves > p.limits.MaxReducerLeaves {
		return configErr(at, "the reducer has more than %d leaves", p.limits.MaxReducerLeaves)
	}
	return nil
}

// Apply builds the reduced payload from doc, a value of the document model of package
// payload. The result is a *payload.Object with the reducer's keys in the reducer's
// order; each query is replaced by its single value or null (a definite query) or by
// the array of its matches in document order (an indefinite query); see the package
// documentation. A nil *Reducer returns doc itself.
//
// The result shares values with doc rather than copying them: treat both as read-only.
// Apply runs in time linear in the size of doc and the reducer. Its JSON text is at
// most Limits.MaxReducedBytes long: a reducer that would build more (a recursive
// descent repeats each value once per level above it) fails with an *EvalError
// wrapping [ErrReducedTooLarge], as soon as the limit is passed. Any other error is an
// *EvalError reporting a fault in a JSONPath library; Apply never panics.
func (r *Reducer) Apply(doc any) (out any, err error) {
	if r == nil {
		return doc, nil
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, &EvalError{Message: "internal error while applying the reducer"}
		}
	}()
	b := getBudget(r.maxBytes)
	defer putBudget(b)
	out = r.root.apply(doc, b)
	if b.over {
		return nil, &EvalError{Err: ErrReducedTooLarge,
			Message: fmt.Sprintf("the reduced payload exceeds the limit of %d bytes", r.maxBytes)}
	}
	return out, nil
}

// apply builds n's part of the result, charging its JSON text to b; once b is spent
// it returns at once, with an incomplete result.
func (n *reducerNode) apply(doc any, b *sizeBudget) any {
	switch n.kind {
	case reduceObject:
		obj := payload.NewObject(len(n.keys))
		b.add(2) // the braces
		for i, k := range n.keys {
			if i > 0 && !b.add(1) || !b.add(n.keySizes[i]) { // comma, key and colon
				return nil
			}
			obj.Set(k, n.kids[i].apply(doc, b))
		}
		return obj
	case reduceArray:
		arr := make([]any, len(n.kids))
		b.add(2)
		for i := range n.kids {
			if i > 0 && !b.add(1) || b.over {
				return nil
			}
			arr[i] = n.kids[i].apply(doc, b)
		}
		return arr
	case reduceQuery:
		if n.query.definite {
			v, _ := n.query.first(doc)
			b.value(v)
			return v
		}
		return n.query.all(doc, b)
	}
	b.add(n.literalSize)
	return n.literal
}
