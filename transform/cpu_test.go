package transform_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/hookflow/hookflow/transform"
)

// processCPU is the CPU time this process has used, user and system.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Conditions that spend their time inside one built-in, in Go, where the VM's
// interrupt does not reach.
var builtinBombs = []struct{ name, condition string }{
	// Blocks of a's each cost the backtracking engine a few milliseconds, just under
	// its timeout, and goja's fast paths loop over the thousands of matches in Go.
	{"RegexpReplace", `x => ('aaaaaaaaaaaaaa!'.repeat(6600) + 'é').replace(/(a+)+b|./g, '')`},
	{"RegexpMatch", `x => ('aaaaaaaaaaaaaa!'.repeat(6600) + 'é').match(/(a+)+b|./g)`},
	{"RegexpMatchAll", `x => [...('aaaaaaaaaaaaaa!'.repeat(6600) + 'é').matchAll(/(a+)+b|./g)]`},
	{"RegexpSplit", `x => ('aaaaaaaaaaaaaa!'.repeat(6600) + 'é').split(/(a+)+b/)`},
	// A backreference keeps the pattern in the backtracking engine.
	{"RegexpTest", `x => { for (;;) /(a+)+\1b/.test('a'.repeat(40)) }`},
	{"RegexpTestLong", `x => /(a+)+\1b/.test('a'.repeat(5000))`},
	{"ToUpperCase", `x => 'é'.repeat(1 << 20).toUpperCase()`},
	{"ToLowerCase", `x => 'É'.repeat(1 << 20).toLowerCase()`},
	{"ToUpperCaseGrows", `x => 'ß'.repeat(1 << 20).toUpperCase()`},
	{"NormalizeNFKD", `x => 'ﷺ'.repeat(1 << 20).normalize('NFKD')`},
	{"NormalizeNFD", `x => 'é'.repeat(1 << 20).normalize('NFD')`},
	{"LocaleCompare", `x => 'é'.repeat(1 << 20).localeCompare('é'.repeat(1 << 20))`},
	{"DateParse", `x => new Date('é'.repeat(1 << 20)).getTime()`},
	{"EncodeURIComponent", `x => encodeURIComponent('é'.repeat(1 << 20))`},
	{"Trim", `x => 'é'.repeat(1 << 20).trim()`},
	// Compiling a pattern copies each counted repetition's operand once per count.
	{"RegExpCounted", `x => new RegExp('a{1000}'.repeat(100)).test('b')`},
	{"RegExpAlternatives", `x => RegExp('(?:a|b)'.repeat(1e5)).test('b')`},
	{"RegExpBackreference", `x => new RegExp('(a)\\1' + '(?:a|b)'.repeat(1e5)).test('b')`},
	{"RegExpFromString", `x => 'b'.match('a{1000}'.repeat(100))`},
	{"RegExpCompile", `x => /a/.compile('a{1000}'.repeat(100)).test('b')`},
}

// TestBuiltinBombs_CPUIdleAfterReturn checks that when Match refuses a condition stuck
// in a built-in, nothing keeps running: over 300ms after Match returned the process
// uses almost no CPU. Before the built-ins were bounded, a refused evaluation kept a
// core busy for up to seconds after Match had given up on it.
func TestBuiltinBombs_CPUIdleAfterReturn(t *testing.T) {
	e := transform.NewEngine(transform.Limits{Timeout: slowdown * 50 * time.Millisecond})
	doc := MustDecode(t, `{}`)
	// An idle test process uses a millisecond or two in 300ms (the garbage
	// collector, timers); a goroutine left running uses the whole window, 300ms.
	const window, idle = 300 * time.Millisecond, 40 * time.Millisecond
	for _, tt := range builtinBombs {
		t.Run(tt.name, func(t *testing.T) {
			f := MustFilter(t, e, expression("$", tt.condition))
			start := time.Now()
			ok, err := f.Match(context.Background(), doc)
			elapsed := time.Since(start)
			before := processCPU(t)
			time.Sleep(window) // a measurement window, not a wait for something to happen
			used := processCPU(t) - before
			// Whether the bomb fails or, on a fast machine, finishes in time, and even
			// when a machine loaded beyond its cores keeps the evaluation's goroutine
			// from seeing the interrupt before Match gives up on it, nothing may be
			// left running.
			if used > idle {
				t.Errorf("the process used %v of CPU in the %v after Match returned, want at most %v", used, window, idle)
			}
			t.Logf("%v, %v after %v; %v of CPU in the next %v", ok, err, elapsed.Round(time.Millisecond), used.Round(time.Millisecond), window)
		})
	}
}
