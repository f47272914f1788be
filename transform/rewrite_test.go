package transform_test

import (
	"testing"

	"github.com/hookflow/hookflow/transform"
)

// TestRewrite_EveryPosition checks that string concatenation is guarded wherever the
// syntax allows it: with a 64-character limit, each of these builds an 80-character
// string and must throw a RangeError.
func TestRewrite_EveryPosition(t *testing.T) {
	e := transform.NewEngine(transform.Limits{MaxStringLength: 64})
	doc := MustDecode(t, `{}`)
	const a, b = "'a'.repeat(40)", "'b'.repeat(40)"
	for _, expr := range []string{
		a + " + " + b,
		"(() => " + a + " + " + b + ")()",
		"((x = " + a + " + " + b + ") => x)()",
		"(({x = " + a + " + " + b + "}) => x)({})",
		"(([x = " + a + " + " + b + "]) => x)([])",
		"[" + a + " + " + b + "]",
		"({k: " + a + " + " + b + "})",
		"({[" + a + " + " + b + "]: 1})",
		"({m() { return " + a + " + " + b + " }}).m()",
		"({get g() { return " + a + " + " + b + " }}).g",
		"new (class { f = " + a + " + " + b + " })()",
		"new (class { static s = " + a + " + " + b + " })()",
		"new (class { #p = " + a + "; m() { this.#p += " + b + "; return this.#p } })().m()",
		"new (class { static { " + a + " + " + b + " } })()",
		"(class extends Array { constructor() { super(); this.x = " + a + " + " + b + " } }, new (class { constructor() { this.y = " + a + " + " + b + " } })())",
		"`${" + a + "}${" + b + "}`",
		"`x${`${" + a + "}${" + b + "}`}`",
		"(() => { let s = " + a + "; s += " + b + "; return s })()",
		"(() => { const o = {s: " + a + "}; o.s += " + b + "; return o })()",
		"(() => { const o = {s: " + a + "}; o['s'] += " + b + "; return o })()",
		"(() => { const o = [" + a + "]; o[0] += " + b + "; return o })()",
		"(() => { for (let s = " + a + " + " + b + "; ;) return s })()",
		"(() => { for (let s = ''; s.length < 100; s = s + " + a + ") ; })()",
		"(() => { for (const k in {[" + a + " + " + b + "]: 1}) return k })()",
		"(() => { switch (1) { case 1: return " + a + " + " + b + " } })()",
		"(() => { try { throw 0 } catch { return " + a + " + " + b + " } })()",
		"(() => { label: { return " + a + " + " + b + " } })()",
		"true ? " + a + " + " + b + " : 0",
		"(0, " + a + " + " + b + ")",
		"String(" + a + " + " + b + ")",
		"Math.max?.(" + a + " + " + b + ")",
		"[...[" + a + " + " + b + "]]",
		"(function* () { yield " + a + " + " + b + " })().next()",
		"typeof (" + a + " + " + b + ")",
		"!(" + a + " + " + b + ")",
		"(() => { let x; x ??= " + a + " + " + b + "; return x })()",
		"(() => { if (" + a + " + " + b + ") return 1 })()",
		"(() => { do { return " + a + " + " + b + " } while (0) })()",
		"(() => { with ({}) { return " + a + " + " + b + " } })()",
	} {
		t.Run(expr, func(t *testing.T) {
			mustHold(t, e, doc, `() => { try { `+expr+`; return false } catch (e) { return e instanceof RangeError } }`)
		})
	}
}
