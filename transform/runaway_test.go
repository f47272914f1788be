package transform_test

import (
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/transform"
)

// Bounds on how much the heap may grow while a runaway condition runs (peak of live
// and not yet collected objects, sampled, over the level before). Unguarded, most of the
// scripts below would take gigabytes.
const (
	// guardedMemoryBound holds for scripts that a guard stops: the guards let through
	// strings up to Limits.MaxStringLength (1 Mi code units, at most 2 MiB in UTF-16)
	// and arrays up to Limits.MaxArrayLength.
	guardedMemoryBound = 16 << 20
	// loopMemoryBound holds for loops that allocate a little per iteration until the
	// time limit stops them; what they take is proportional to Limits.Timeout and to
	// the speed of the machine (about 30 MiB at 50ms on the machine this was written on).
	loopMemoryBound = 128 << 20
)

// TestRunaway runs scripts that would loop, recurse or allocate without bound, and
// checks that each ends in an error within ten times the time limit, allocating less
// than runawayMemoryBound. It runs the cases one at a time, since the allocation
// counter is process-wide.
func TestRunaway(t *testing.T) {
	const timeout = slowdown * 50 * time.Millisecond
	e := transform.NewEngine(transform.Limits{Timeout: timeout})
	// Scripts that a size or depth guard must stop run with a time limit they never reach
	// even on a loaded machine, so that it is the guard that stops them.
	const guardTimeout = 40 * timeout
	guarded := transform.NewEngine(transform.Limits{Timeout: guardTimeout})
	doc := MustDecode(t, `{"n":1}`)
	tests := []struct {
		name, condition, message string
		loop                     bool // stopped by the time limit while allocating
	}{
		{"WhileTrue", "x => { while (true) {} }", "timed out after", false},
		{"ForEver", "x => { for (;;) { x++ } }", "timed out after", true},
		{"CatchesNothing", "x => { while (true) { try { while (true) {} } catch (e) {} finally { continue } } }", "timed out after", false},
		{"Recursion", "x => { function f(n) { return f(n + 1) + 1 } return f(0) }", "recursion too deep", false},
		{"MutualRecursion", "x => { const a = n => b(n) + 1, b = n => a(n) + 1; return a(0) }", "recursion too deep", false},
		{"RecursionThroughBuiltins", "x => { const f = () => [1].map(f); return f() }", "recursion too deep", false},
		{"StringDoubling", "x => { let s = 'x'; while (true) { s += s } }", "string length", false},
		{"StringDoublingPlus", "x => { let s = 'x'; while (true) { s = s + s } }", "string length", false},
		{"StringDoublingTemplate", "x => { let s = 'x'; while (true) { s = `${s}${s}` } }", "string length", false},
		{"StringDoublingConcat", "x => { let s = 'x'; while (true) { s = s.concat(s) } }", "string length", false},
		{"StringDoublingJoin", "x => { let s = 'x'; while (true) { s = [s, s].join('') } }", "string length", false},
		{"StringDoublingProperty", "x => { const o = {s: 'x'}; while (true) { o.s += o.s } }", "string length", false},
		{"StringGrowingSlowly", "x => { let s = ''; while (true) { s += 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' } }", "", true},
		{"Repeat", "x => 'a'.repeat(1e9)", "string length 1000000000 exceeds", false},
		{"RepeatInfinity", "x => 'a'.repeat(Infinity)", "string length", false},
		{"PadStart", "x => 'a'.padStart(1e9)", "string length 1000000000 exceeds", false},
		{"PadEnd", "x => 'a'.padEnd(1e9, 'xyz')", "string length 1000000000 exceeds", false},
		{"ArrayJoin", "x => new Array(1e9).join('x')", "array length 1000000000 exceeds", false},
		{"ArrayFill", "x => new Array(1e8).fill(0)", "array length 100000000 exceeds", false},
		{"ArrayConstructor", "x => Array(4294967295)", "array length", false},
		{"ArrayLengthThenJoin", "x => { const a = []; a.length = 1e9; return a.join('x') }", "array length", false},
		{"ArrayLengthThenFill", "x => { const a = []; a[1e9] = 1; return a.fill(0) }", "array length", false},
		{"ArrayLengthThenSpread", "x => { const a = []; a.length = 1e9; return [...a] }", "array length", false},
		{"ArrayLengthThenStringify", "x => { const a = []; a.length = 1e9; return JSON.stringify(a) }", "", true},
		{"ArrayLikeJoin", "x => Array.prototype.join.call({length: 1e9}, 'x')", "works only on arrays", false},
		{"ArrayFromLength", "x => Array.from({length: 1e9})", "array length", false},
		{"ApplyLength", "x => Math.max.apply(null, {length: 1e9})", "array length", false},
		{"SpreadArguments", "x => String.fromCharCode(...new Array(1e7))", "array length", false},
		{"SplitEverything", "x => 'x'.repeat(1e6).split('')", "array length", false},
		{"ReplaceExpands", "x => 'x'.repeat(1e4).replace(/x/g, '$&'.repeat(1000))", "string length", false},
		{"ReplaceAllMany", "x => 'x'.repeat(1e6).replaceAll('x', 'y')", "could match more than", false},
		{"KeysOfString", "x => Object.keys('x'.repeat(1e6))", "listing the keys of a string", false},
		{"EntriesOfStringObject", "x => Object.entries(new String('x'.repeat(1e6)))", "listing the keys of a string", false},
		{"AssignString", "x => Object.assign({}, 'x'.repeat(1e6))", "listing the keys of a string", false},
		{"JSONParseDeep", "x => JSON.parse('['.repeat(1e6))", "nesting deeper than", false},
		{"JSONStringifyDeep", "x => { let a = []; for (let i = 0; i < 1e4; i++) a = [a]; return JSON.stringify(a) }", "nesting deeper than", false},
		{"ArrayGrowth", "x => { const a = []; while (true) a.push({x: 1}) }", "", true},
		{"MapGrowth", "x => { const m = new Map(); for (let i = 0; ; i++) m.set(i, {i}) }", "timed out", true},
		{"Microtasks", "x => { const f = () => Promise.resolve().then(f); f(); return true }", "timed out", true},
		{"PromiseExecutor", "x => { new Promise(() => { while (true) {} }); return true }", "timed out", false},
		{"GetterLoop", "x => { const o = { get v() { while (true) {} } }; return o.v }", "timed out", false},
		{"SortComparatorLoop", "x => [3, 1, 2].sort(() => { while (true) {} })", "timed out", false},
		{"ToStringLoop", "x => String({ toString() { while (true) {} } })", "timed out", false},
		{"ThrowLoopingToString", "x => { throw { toString() { while (true) {} } } }", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine, limit := e, 10*timeout
			if tt.message != "" && !tt.loop && !strings.Contains(tt.message, "timed out") {
				engine, limit = guarded, guardTimeout
			}
			f := MustFilter(t, engine, expression("$.n", tt.condition))
			var (
				ok      bool
				err     error
				elapsed time.Duration
			)
			peak, total := measureHeap(func() {
				start := time.Now()
				ok, err = f.Match(context.Background(), doc)
				elapsed = time.Since(start)
			})
			var ee *transform.EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("Match = %v, %v; want an *EvalError", ok, err)
			}
			if !strings.Contains(ee.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", ee.Message, tt.message)
			}
			if elapsed > limit {
				t.Errorf("took %v, more than %v", elapsed, limit)
			}
			bound := uint64(guardedMemoryBound)
			if tt.loop {
				bound = loopMemoryBound
			}
			if peak > bound {
				t.Errorf("the heap grew by %d MiB, more than %d MiB", peak>>20, bound>>20)
			}
			t.Logf("%v in %v; heap grew by %.1f MiB at most, %.1f MiB allocated in all", err,
				elapsed.Round(time.Millisecond), float64(peak)/(1<<20), float64(total)/(1<<20))
		})
	}
}

// measureHeap runs fn and returns how much the heap grew at most while it ran (sampled
// every 100µs, over the level after a collection) and how much was allocated in all.
func measureHeap(fn func()) (peak, total uint64) {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	runtime.GC()
	metrics.Read(samples)
	base, allocs := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	stop, stopped := make(chan struct{}), make(chan struct{})
	var max uint64
	go func() {
		defer close(stopped)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(100 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > max {
				max = v
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	<-stopped
	metrics.Read(samples)
	if v := samples[0].Value.Uint64(); v > max {
		max = v
	}
	if max > base {
		peak = max - base
	}
	return peak, samples[1].Value.Uint64() - allocs
}

// TestRunaway_Regexp checks that a regular expression that backtracks exponentially in
// goja's backtracking engine ends in a clear error within the time limit, instead of
// keeping the runtime stuck in Go, and that the filter can run again.
func TestRunaway_Regexp(t *testing.T) {
	const timeout = slowdown * 50 * time.Millisecond
	e := transform.NewEngine(transform.Limits{Timeout: timeout})
	f := MustFilter(t, e, expression("$", `x => /(a+)+\1b/.test('a'.repeat(40))`))
	for i := 0; i < 2; i++ {
		start := time.Now()
		_, err := f.Match(context.Background(), MustDecode(t, `{}`))
		elapsed := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "a regular expression ran longer than") {
			t.Fatalf("Match = %v, want the regular expression refused", err)
		}
		if elapsed > 2*timeout {
			t.Fatalf("took %v, want less than %v", elapsed, 2*timeout)
		}
	}
	ok, err := MustFilter(t, e, expression("$", "x => /(a+)+\\1b/.test('aab')")).Match(context.Background(), MustDecode(t, `{}`))
	if !ok || err != nil {
		t.Fatalf("Match = %v, %v; want true, nil", ok, err)
	}
}
