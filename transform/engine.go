package transform

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dlclark/regexp2/v2"

	"github.com/hookflow/hookflow/payload"
)

// Engine parses, caches and evaluates filters and reducers. It is safe for concurrent
// use; a process needs one, shared by everything that evaluates configurations, so that
// the validate endpoints run exactly the code that delivery runs.
//
// Conditions run in pooled goja runtimes prepared once each: eval and the Function
// constructors (also reached as (() => {}).constructor and the like) throw EvalError;
// BigInt, typed arrays, ArrayBuffer, DataView, Atomics, Proxy, WeakRef,
// FinalizationRegistry and goja's GoError are removed; require, console, timers and any
// host object never existed there. What remains of globalThis is ECMAScript built-ins,
// frozen, so that no condition can change what another one sees, and every evaluation
// evaluates the condition's source afresh, so that no state a condition keeps outlives
// the evaluation. Built-ins that could allocate or loop without bound in one call are
// guarded by the sizes in [Limits], or do their work in chunks that stop when the time
// limit passes.
//
// goja runs some regular expressions in a backtracking engine (regexp2) whose matches
// the VM's interrupt cannot stop, and loops over matches (global replace, match, split,
// matchAll) in Go. NewEngine therefore bounds every regexp2 match in the process to
// RegexpMatchTimeout, and the sandbox routes every match through a guarded
// RegExp.prototype.exec (and test), a JavaScript function: goja then takes its
// general paths, which call exec once per match, so the interrupt is seen between any
// two matches, and a match that ran out of time throws a RangeError rather than
// passing for "no match". Filter.Match still refuses a filter while an earlier call of
// it is stuck, as a last resort.
type Engine struct {
	limits   Limits
	filters  *lru[*Filter]
	reducers *lru[*Reducer]
	idle     chan *vm
}

// RegexpMatchTimeout bounds one regular-expression match of a condition. It is set
// process-wide on regexp2, the engine goja uses for patterns Go's regexp cannot run,
// and is well under the default Limits.Timeout, so that a match in progress when the
// time limit passes ends long before Engine.run would give up on the runtime.
const RegexpMatchTimeout = 20 * time.Millisecond

// regexpClockPeriod is how often regexp2's clock ticks while a match with a timeout
// runs; a match ends at most about two periods after its timeout. regexp2's default,
// 100ms, would let a match run five times longer than RegexpMatchTimeout.
const regexpClockPeriod = 5 * time.Millisecond

var regexpTimeout sync.Once

// NewEngine returns an Engine with the given limits; zero fields take their value from
// [DefaultLimits].
func NewEngine(l Limits) *Engine {
	regexpTimeout.Do(func() {
		if regexp2.DefaultMatchTimeout <= 0 || regexp2.DefaultMatchTimeout > RegexpMatchTimeout {
			regexp2.DefaultMatchTimeout = RegexpMatchTimeout
		}
		regexp2.SetTimeoutCheckPeriod(regexpClockPeriod)
	})
	l = l.withDefaults()
	return &Engine{
		limits:   l,
		filters:  newLRU[*Filter](l.CacheSize),
		reducers: newLRU[*Reducer](l.CacheSize),
		idle:     make(chan *vm, l.MaxIdleVMs),
	}
}

// Limits returns the limits in force, defaults filled in.
func (e *Engine) Limits() Limits { return e.limits }

// decodeConfig decodes the JSON text of a configuration. It returns nil for an absent
// configuration: empty text, null or {}.
func (e *Engine) decodeConfig(config []byte) (*payload.Object, error) {
	trimmed := bytes.TrimSpace(config)
	if len(trimmed) == 0 || string(trimmed) == "null" || string(trimmed) == "{}" {
		return nil, nil
	}
	if len(config) > e.limits.MaxConfigBytes {
		return nil, configErr("", "configuration is larger than %d bytes", e.limits.MaxConfigBytes)
	}
	doc, err := payload.Decode(config)
	if err != nil {
		return nil, configErr("", "invalid JSON: %s", err.Error())
	}
	switch doc := doc.(type) {
	case nil:
		return nil, nil
	case *payload.Object:
		if doc.Len() == 0 {
			return nil, nil
		}
		return doc, nil
	}
	return nil, configErr("", "configuration must be a JSON object")
}

// getVM takes an idle runtime or makes one.
func (e *Engine) getVM() (*vm, error) {
	select {
	case m := <-e.idle:
		return m, nil
	default:
		return newVM(e.limits)
	}
}

// putVM keeps m for reuse unless enough runtimes are idle already.
func (e *Engine) putVM(m *vm) {
	if m.tainted {
		return
	}
	m.rt.ClearInterrupt()
	m.stop.Store(false)
	select {
	case e.idle <- m:
	default:
	}
}

type outcome struct {
	ok  bool
	err error
}

// run calls fn with a runtime, bounded by the time limit and by ctx. fn runs on a
// goroutine of its own so that run can return even when the runtime is stuck in a Go
// call that does not check for interrupts (a regular expression that backtracks
// catastrophically in goja's backtracking engine, say): run interrupts the runtime when
// the limit passes, waits twice the limit more, then gives up on it. A caller therefore
// waits at most three times Limits.Timeout.
//
// A runtime given up on keeps its goroutine, and a CPU, busy until the stuck call
// returns, which may take very long. Until then run counts it in *stuck, if stuck is
// not nil, so that the caller can refuse to start the same script again meanwhile.
func (e *Engine) run(ctx context.Context, stuck *atomic.Int32, fn func(m *vm) (bool, error)) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, &EvalError{Message: "evaluation canceled: " + err.Error(), Err: err}
	}
	m, err := e.getVM()
	if err != nil {
		return false, &EvalError{Message: "the sandbox failed to start", Err: err}
	}
	// state moves from running to finished (by the goroutine) or to abandoned (by
	// run), whichever comes first.
	const (
		running int32 = iota
		finished
		abandoned
	)
	var state atomic.Int32
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if r := recover(); r != nil {
				// A bug in goja or here; the runtime's state is unknown.
				m.tainted = true
				o = outcome{err: &EvalError{Message: "internal error while evaluating"}}
			}
			if !state.CompareAndSwap(running, finished) && stuck != nil {
				stuck.Add(-1) // given up on, and now unstuck
			}
			done <- o
		}()
		o.ok, o.err = fn(m)
	}()

	timer := time.NewTimer(e.limits.Timeout)
	defer timer.Stop()
	var ctxErr error
	select {
	case o := <-done:
		e.putVM(m)
		return o.ok, o.err
	case <-timer.C:
		m.interrupt(timeoutCause(e.limits.Timeout))
	case <-ctx.Done():
		ctxErr = ctx.Err()
		m.interrupt(ctxErr)
	}
	timer.Reset(2 * e.limits.Timeout)
	select {
	case o := <-done:
		e.putVM(m)
		return o.ok, o.err
	case <-timer.C:
	}
	// Counted before the swap, so that the goroutine's decrement cannot come first.
	if stuck != nil {
		stuck.Add(1)
	}
	if !state.CompareAndSwap(running, abandoned) {
		if stuck != nil {
			stuck.Add(-1)
		}
		o := <-done // finished just now
		e.putVM(m)
		return o.ok, o.err
	}
	// The runtime is abandoned: its goroutine ends when the stuck call returns and sees
	// the interrupt, and nothing refers to the runtime after that.
	if ctxErr != nil {
		return false, &EvalError{Message: "evaluation canceled: " + ctxErr.Error(), Err: ctxErr}
	}
	return false, &EvalError{Err: ErrTimeout,
		Message: "condition timed out after " + e.limits.Timeout.String() + " and could not be stopped"}
}
