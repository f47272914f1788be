package transform

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
)

// The sandbox prelude, sandbox/*.js, runs once in every fresh runtime, before any
// condition, as the body of a function of the limits and of one native helper
// (jsonDepthOK). It
//
//  1. removes what a condition must not reach: eval and the Function constructors
//     (replaced by functions that throw EvalError), BigInt (whose ** cannot be
//     interrupted), typed arrays and ArrayBuffer (which allocate in one step), Proxy
//     (which could lie to the guards), WeakRef, FinalizationRegistry and goja's GoError;
//  2. replaces the built-ins that can allocate or loop without bound in one call with
//     guarded versions that check the size of the result first (see Limits);
//  3. freezes every object reachable from globalThis, and globalThis itself, so that one
//     condition cannot change what another condition sees in the same runtime;
//  4. returns the helpers that rewritten conditions call for +, += and template
//     literals (see rewrite.go), and describe, which formats a thrown value.
//
// It keeps private copies of the originals it needs, so that nothing a condition does
// reaches the guards. The guards are methods, not function expressions, so that like
// the built-ins they replace they are not constructors. The files are concatenated in
// name order.
//
//go:embed sandbox/*.js
var preludeFiles embed.FS

// preludeProgram is compiled once; a goja Program may run in many runtimes.
var preludeProgram = sync.OnceValues(func() (*goja.Program, error) {
	var src strings.Builder
	src.WriteString("(function (MAX_STRING, MAX_ARRAY, MAX_JSON_DEPTH, jsonDepthOK, RX_LIMIT_MS, now, mapString, regexpSizeOK, MAX_REGEXP) {\n'use strict';\n")
	names, err := fs.Glob(preludeFiles, "sandbox/*.js")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := preludeFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		src.Write(b)
	}
	src.WriteString("})")
	return goja.Compile("sandbox-prelude.js", src.String(), true)
})

// vm is one sandboxed goja runtime. It is used by one evaluation at a time.
type vm struct {
	rt     *goja.Runtime
	limits Limits
	born   time.Time // the origin of the prelude's clock
	// stop is set with the runtime's interrupt, for the Go helpers of the prelude,
	// which the interrupt itself does not reach.
	stop           atomic.Bool
	add, tpl, addp goja.Value
	describe       goja.Callable
	wrappers       map[*condition]goja.Callable // see function
	fns            map[*condition]goja.Callable // stateless conditions, instantiated
	// tainted is set when a script was stopped mid-way (interrupted, or out of stack):
	// its closures and the guards' bookkeeping may be inconsistent, so the runtime is
	// not reused.
	tainted bool
}

// newVM builds a runtime and runs the prelude in it. It takes a few
// milliseconds, which is why runtimes are pooled.
func newVM(l Limits) (*vm, error) {
	prog, err := preludeProgram()
	if err != nil {
		return nil, fmt.Errorf("compile sandbox prelude: %w", err)
	}
	rt := goja.New()
	m := &vm{rt: rt, limits: l, born: time.Now(), wrappers: make(map[*condition]goja.Callable),
		fns: make(map[*condition]goja.Callable)}
	setup, err := rt.RunProgram(prog)
	if err != nil {
		return nil, fmt.Errorf("run sandbox prelude: %w", err)
	}
	fn, ok := goja.AssertFunction(setup)
	if !ok {
		return nil, errors.New("sandbox prelude is not a function")
	}
	maxDepth := l.MaxJSONDepth
	depthOK := rt.ToValue(func(call goja.FunctionCall) goja.Value {
		return rt.ToValue(jsonDepthOK(call.Argument(0).String(), maxDepth))
	})
	res, err := fn(goja.Undefined(), rt.ToValue(l.MaxStringLength), rt.ToValue(l.MaxArrayLength),
		rt.ToValue(l.MaxJSONDepth), depthOK, rt.ToValue(RegexpMatchTimeout.Milliseconds()),
		rt.ToValue(m.sinceStart), rt.ToValue(m.mapString), rt.ToValue(func(p string) bool {
			return regexpSize(p, maxRegexpSize) <= maxRegexpSize
		}), rt.ToValue(maxRegexpSize))
	if err != nil {
		return nil, fmt.Errorf("run sandbox prelude: %w", err)
	}
	helpers := res.ToObject(rt)
	describe, ok := goja.AssertFunction(helpers.Get("3"))
	if !ok {
		return nil, errors.New("sandbox prelude returned no describe function")
	}
	// Set after the prelude so that its one-time setup is not bounded by a limit meant
	// for conditions.
	rt.SetMaxCallStackSize(l.MaxCallDepth)
	m.add, m.tpl, m.addp, m.describe = helpers.Get("0"), helpers.Get("1"), helpers.Get("2"), describe
	return m, nil
}

// interrupt stops the script running in m: the VM at its next instruction, the
// prelude's Go helpers at their next chunk.
func (m *vm) interrupt(v any) {
	m.stop.Store(true)
	m.rt.Interrupt(v)
}

// jsonDepthOK reports whether the brackets of s, outside JSON strings, nest at most max
// deep. goja's JSON.parse recurses in Go once per level; refusing deep input first keeps
// a hostile string from growing the goroutine stack without bound.
func jsonDepthOK(s string, max int) bool {
	depth := 0
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > max {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}

// maxCachedWrappers bounds the condition wrappers, and the stateless conditions, one
// runtime keeps. When it is
// reached the cache starts over; making a wrapper again costs one run of the
// compiled program, not a compilation.
const maxCachedWrappers = 512

// function returns c instantiated afresh: the condition's source is evaluated again,
// so that nothing it kept in a closure, on its function object or anywhere else it
// made reaches the next evaluation, in this runtime or any other. What is kept per
// runtime is the wrapper around the source (see compileCondition), an arrow function
// with no state of its own, since running the compiled program that makes it costs
// ten times more than calling it; and, for a condition that is an arrow function
// literal, the function itself (see condition.stateless).
func (m *vm) function(c *condition) (goja.Callable, error) {
	if fn, ok := m.fns[c]; ok {
		return fn, nil
	}
	outer, ok := m.wrappers[c]
	if !ok {
		v, err := m.rt.RunProgram(c.prog)
		if err != nil {
			return nil, err
		}
		if outer, ok = goja.AssertFunction(v); !ok {
			return nil, errors.New("condition wrapper is not a function")
		}
		if len(m.wrappers) >= maxCachedWrappers {
			clear(m.wrappers)
		}
		m.wrappers[c] = outer
	}
	v, err := outer(goja.Undefined(), m.add, m.tpl, m.addp)
	if err != nil {
		return nil, err
	}
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return nil, errNotFunction
	}
	if c.stateless {
		if len(m.fns) >= maxCachedWrappers {
			clear(m.fns)
		}
		m.fns[c] = fn
	}
	return fn, nil
}

var promiseType = reflect.TypeOf((*goja.Promise)(nil))

// errNotFunction is returned by function when the source evaluates to something that
// cannot be called.
var errNotFunction = errors.New("the condition does not evaluate to a function")

// call runs c on the extracted value (undefined when the query matched nothing) and
// returns its truthiness. Errors are *EvalError.
func (m *vm) call(c *condition, field path, v any, found bool) (bool, error) {
	fn, err := m.function(c)
	if err != nil {
		return false, m.evalError(field, err)
	}
	arg := goja.Undefined()
	if found {
		arg = toJS(m.rt, v)
	}
	res, err := fn(goja.Undefined(), arg)
	if err != nil {
		return false, m.evalError(field, err)
	}
	if obj, ok := res.(*goja.Object); ok && obj.ExportType() == promiseType {
		return false, &EvalError{Field: string(field),
			Message: "condition returned a Promise; conditions must be synchronous functions"}
	}
	return res.ToBoolean(), nil
}

// evalError turns what goja returned into an *EvalError with a message for users.
func (m *vm) evalError(field path, err error) *EvalError {
	e := &EvalError{Field: string(field)}
	var (
		interrupted *goja.InterruptedError
		overflow    *goja.StackOverflowError
		thrown      *goja.Exception
	)
	switch {
	case errors.As(err, &interrupted):
		m.tainted = true
		switch cause := interrupted.Value().(type) {
		case timeoutCause:
			e.Err = ErrTimeout
			e.Message = "condition timed out after " + time.Duration(cause).String()
		case error:
			e.Err = cause
			e.Message = "evaluation canceled: " + cause.Error()
		default:
			e.Message = "evaluation interrupted"
		}
	case errors.As(err, &overflow):
		m.tainted = true
		e.Message = "condition: recursion too deep"
	case errors.As(err, &thrown):
		e.Message = "condition threw: " + m.describeValue(thrown.Value())
	case errors.Is(err, errNotFunction):
		e.Message = err.Error()
	default:
		e.Message = "condition failed"
	}
	return e
}

// timeoutCause is the value a runtime is interrupted with when the time limit passes.
type timeoutCause time.Duration

func (t timeoutCause) Error() string { return "timed out after " + time.Duration(t).String() }

// describeValue formats a thrown value with the prelude's describe, which cannot throw
// and bounds the length.
func (m *vm) describeValue(v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	s, err := m.describe(goja.Undefined(), v)
	if err != nil {
		return "an exception"
	}
	return clip(s.String(), 400)
}
