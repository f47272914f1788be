package transform

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	"github.com/hookflow/hookflow/payload"
)

// Filter is a parsed filter. It is immutable and safe for concurrent use. A nil *Filter
// is the absent filter: it matches every document.
type Filter struct {
	engine *Engine
	root   *filterNode
	conds  []*filterNode // the expressions, for instantiation at parse time
	// stuck counts evaluations given up on whose goroutines still run (see
	// Engine.run). Meanwhile the filter is refused rather than run again, so that one
	// configuration cannot tie up more than one CPU however many events it sees.
	stuck atomic.Int32
}

// filterNode is an expression (query and cond set) or a connector (kids set).
type filterNode struct {
	query *query
	cond  *condition
	field path // of the condition, for errors
	and   bool
	kids  []*filterNode
}

// Filter parses a filter configuration (see the package documentation for the grammar)
// and compiles its queries and conditions, returning a *ConfigError when it is invalid.
// Every condition is run once, within the time limit, to check that it evaluates to a
// function. Empty text, null and {} mean no filter: Filter returns nil, nil.
//
// Parsed filters are cached by the exact configuration text, so parsing the same
// configuration again is a map lookup and returns the same *Filter.
func (e *Engine) Filter(config []byte) (*Filter, error) {
	if f, ok := e.filters.get(config); ok {
		return f, nil
	}
	obj, err := e.decodeConfig(config)
	if err != nil || obj == nil {
		return nil, err
	}
	f := &Filter{engine: e}
	if f.root, err = f.parse(obj, "", 1); err != nil {
		return nil, err
	}
	if err := e.instantiate(f); err != nil {
		return nil, err
	}
	return e.filters.add(config, f), nil
}

var (
	expressionKeys = []string{"query", "condition"}
	connectorKeys  = []string{"logic", "conditions"}
)

func (f *Filter) parse(v any, p path, level int) (*filterNode, error) {
	obj, ok := v.(*payload.Object)
	if !ok {
		return nil, configErr(p, "must be an object with query and condition, or with logic and conditions")
	}
	var isExpr, isConn bool
	for _, k := range obj.Keys() {
		switch k {
		case "query", "condition":
			isExpr = true
		case "logic", "conditions":
			isConn = true
		default:
			return nil, configErr(p.key(k), "unknown key; a filter has query and condition, or logic and conditions")
		}
	}
	switch {
	case isExpr && isConn:
		return nil, configErr(p, "mixes query and condition with logic and conditions; nest expressions inside conditions")
	case isExpr:
		return f.parseExpression(obj, p)
	case isConn:
		return f.parseConnector(obj, p, level)
	}
	return nil, configErr(p, "must be an object with query and condition, or with logic and conditions")
}

func (f *Filter) parseExpression(obj *payload.Object, p path) (*filterNode, error) {
	var src [2]string
	for i, k := range expressionKeys {
		v, ok := obj.Get(k)
		if !ok {
			return nil, configErr(p.key(k), "is required")
		}
		s, ok := v.(string)
		if !ok {
			return nil, configErr(p.key(k), "must be a string")
		}
		src[i] = s
	}
	q, err := compileQuery(src[0], f.engine.limits.MaxQueryBytes)
	if err != nil {
		return nil, configErr(p.key("query"), "%s", err.Error())
	}
	c, err := compileCondition(src[1], f.engine.limits.MaxConditionBytes)
	if err != nil {
		return nil, configErr(p.key("condition"), "%s", err.Error())
	}
	n := &filterNode{query: q, cond: c, field: p.key("condition")}
	f.conds = append(f.conds, n)
	return n, nil
}

func (f *Filter) parseConnector(obj *payload.Object, p path, level int) (*filterNode, error) {
	for _, k := range connectorKeys {
		if _, ok := obj.Get(k); !ok {
			return nil, configErr(p.key(k), "is required")
		}
	}
	logic, _ := obj.Get("logic")
	s, ok := logic.(string)
	n := &filterNode{and: strings.EqualFold(s, "and")}
	if !ok || (!n.and && !strings.EqualFold(s, "or")) {
		return nil, configErr(p.key("logic"), `must be "AND" or "OR"`)
	}
	conds, _ := obj.Get("conditions")
	list, ok := conds.([]any)
	switch {
	case !ok:
		return nil, configErr(p.key("conditions"), "must be an array of filters")
	case len(list) == 0:
		return nil, configErr(p.key("conditions"), "must hold at least one filter")
	case len(list) > MaxConditions:
		return nil, configErr(p.key("conditions"), "holds %d filters; a connector takes at most %d", len(list), MaxConditions)
	case level+1 > MaxNesting:
		return nil, configErr(p.key("conditions"), "nests too deeply; filters nest at most %d levels", MaxNesting)
	}
	for i, c := range list {
		kid, err := f.parse(c, p.key("conditions").index(i), level+1)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, kid)
	}
	return n, nil
}

// instantiate runs every condition of f once in a runtime, to refuse at parse time a
// source that does not evaluate to a function or that throws when evaluated.
func (e *Engine) instantiate(f *Filter) error {
	_, err := e.run(context.Background(), nil, func(m *vm) (bool, error) {
		for _, n := range f.conds {
			if _, err := m.function(n.cond); err != nil {
				return false, m.evalError(n.field, err)
			}
		}
		return true, nil
	})
	var ee *EvalError
	if !errors.As(err, &ee) {
		return err
	}
	msg := ee.Message
	if msg == errNotFunction.Error() {
		msg += "; write a function such as (x) => x > 10"
	} else {
		msg = "evaluating the source failed: " + msg
	}
	return &ConfigError{Field: ee.Field, Message: msg}
}

// Match reports whether doc, an event payload in the document model of package payload,
// passes the filter. A nil *Filter matches everything. Go values outside the document
// model reach conditions as undefined.
//
// All of the filter's conditions together run within Limits.Timeout. Match returns
// within three times that even if a condition is stuck in a built-in that cannot be
// interrupted, and then refuses to run the filter until the stuck call returns.
// Errors are *EvalError: a condition that throws, times out or recurses too deeply
// fails the whole match. Match never panics.
func (f *Filter) Match(ctx context.Context, doc any) (bool, error) {
	if f == nil {
		return true, nil
	}
	if f.stuck.Load() > 0 {
		return false, &EvalError{Err: ErrTimeout,
			Message: "filter disabled: an earlier evaluation ran past the time limit and could not be stopped"}
	}
	return f.engine.run(ctx, &f.stuck, func(m *vm) (bool, error) { return f.root.eval(m, doc) })
}

func (n *filterNode) eval(m *vm, doc any) (bool, error) {
	if n.cond != nil {
		v, found := n.query.first(doc)
		return m.call(n.cond, n.field, v, found)
	}
	for _, k := range n.kids {
		ok, err := k.eval(m, doc)
		if err != nil {
			return false, err
		}
		if ok != n.and {
			return ok, nil // AND met a false, OR met a true
		}
	}
	return n.and, nil
}
