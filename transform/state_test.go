package transform_test

import (
	"context"
	"testing"

	"github.com/hookflow/hookflow/transform"
)

// TestSandbox_NoStateBetweenEvaluations checks that every evaluation starts from the
// condition's source: state a condition keeps in a closure, on its own function
// object or in a global does not carry over to the next event, nor to another
// subscriber that saved the same text (and so shares the parsed filter). One idle
// runtime makes every evaluation run in the same runtime.
func TestSandbox_NoStateBetweenEvaluations(t *testing.T) {
	e := transform.NewEngine(transform.Limits{MaxIdleVMs: 1})
	doc := MustDecode(t, `{}`)
	for _, tt := range []struct{ name, condition string }{
		{"Closure", `(function () { var n = 0; return function (x) { n++; return n < 2 } })()`},
		{"ArrowClosure", `(() => { let seen = []; return x => { seen.push(1); return seen.length === 1 } })()`},
		{"FunctionProperty", `function f(x) { f.calls = (f.calls || 0) + 1; return f.calls === 1 }`},
		{"Global", `x => { try { globalThis.calls = (globalThis.calls || 0) + 1 } catch (e) {} return globalThis.calls === undefined }`},
		{"RegExpLastIndex", `(() => { const r = /a/g; return x => r.test('a') })()`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			config := expression("$", tt.condition)
			// Two subscribers of different organizations saving the same text share
			// the parsed filter.
			first, second := MustFilter(t, e, config), MustFilter(t, e, config)
			for i := 0; i < 4; i++ {
				for _, f := range []*transform.Filter{first, second} {
					ok, err := f.Match(context.Background(), doc)
					if err != nil || !ok {
						t.Fatalf("evaluation %d: Match = %v, %v; want true, nil", i+1, ok, err)
					}
				}
			}
		})
	}
}
