package transform_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/transform"
)

// mustHold evaluates condition on doc and fails the test unless it returns true.
func mustHold(t *testing.T, e *transform.Engine, doc any, condition string) {
	t.Helper()
	ok, err := MustFilter(t, e, expression("$", condition)).Match(context.Background(), doc)
	if err != nil {
		t.Fatalf("%s: %v", condition, err)
	}
	if !ok {
		t.Fatalf("%s returned false", condition)
	}
}

// ecmaScriptGlobals lists the global properties a condition may see: ECMAScript
// built-ins only, minus those the sandbox removes.
var ecmaScriptGlobals = []string{
	"Object", "Function", "Array", "String", "Number", "Boolean", "Symbol", "Date", "RegExp",
	"Error", "AggregateError", "TypeError", "ReferenceError", "SyntaxError", "RangeError", "EvalError", "URIError",
	"Math", "JSON", "Reflect", "Map", "Set", "WeakMap", "WeakSet", "Promise", "globalThis",
	"NaN", "Infinity", "undefined", "eval", "isNaN", "isFinite", "parseInt", "parseFloat",
	"decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "unescape",
	"Symbol(Symbol.toStringTag)",
}

func TestSandbox_Globals(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, `{}`)
	allowed := `new Set(` + string(payload.Marshal(ecmaScriptGlobals)) + `)`
	mustHold(t, e, doc, `() => { const allowed = `+allowed+`;
		const extra = Reflect.ownKeys(globalThis).map(String).filter(k => !allowed.has(k));
		if (extra.length > 0) throw new Error('unexpected globals: ' + extra.join(', '));
		return true }`)
	mustHold(t, e, doc, `() => { for (const k in globalThis) throw new Error('enumerable global ' + k); return true }`)
	for _, name := range []string{"require", "module", "exports", "process", "console", "setTimeout", "setInterval",
		"setImmediate", "clearTimeout", "queueMicrotask", "fetch", "XMLHttpRequest", "WebSocket", "GoError",
		"Proxy", "BigInt", "ArrayBuffer", "SharedArrayBuffer", "DataView", "Uint8Array", "Float64Array",
		"BigInt64Array", "Atomics", "WeakRef", "FinalizationRegistry"} {
		mustHold(t, e, doc, `() => typeof `+name+` === 'undefined'`)
	}
}

func TestSandbox_CodeGenerationDisabled(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, `{}`)
	for _, attempt := range []string{
		`eval('1')`,
		`(0, eval)('1')`,
		`globalThis.eval('1')`,
		`new Function('return 1')`,
		`Function('return 1')`,
		`(() => {}).constructor('return 1')`,
		`(function () {}).constructor('return 1')`,
		`(class {}).constructor('return 1')`,
		`[].map.constructor('return 1')`,
		`Object.getPrototypeOf(async function () {}).constructor('return 1')`,
		`Object.getPrototypeOf(async () => {}).constructor('return 1')`,
		`Object.getPrototypeOf(function* () {}).constructor('return 1')`,
		`Reflect.construct(Function, ['return 1'])`,
		`Reflect.apply(Function.prototype.constructor, null, ['return 1'])`,
	} {
		t.Run(attempt, func(t *testing.T) {
			mustHold(t, e, doc, `() => { try { `+attempt+`; return false } catch (e) {
				return e instanceof EvalError && / is disabled in conditions$/.test(e.message) } }`)
		})
	}
	mustHold(t, e, doc, `() => { try { Symbol.for('k'); return false } catch (e) { return e instanceof TypeError } }`)
	// What eval's absence must not break.
	mustHold(t, e, doc, `() => (() => 1) instanceof Function && (function* () {}) instanceof Function &&
		typeof Function === 'function' && Function.prototype.constructor === Function`)
	// The error reaches the user with its message.
	_, err := MustFilter(t, e, expression("$", "() => eval('1')")).Match(context.Background(), doc)
	if err == nil || !strings.Contains(err.Error(), "EvalError: eval is disabled in conditions") {
		t.Fatalf("Match = %v, want the EvalError", err)
	}
}

// TestSandbox_Isolation checks that what one condition changes is not seen by another:
// runtimes are pooled, so both run in the same runtime here.
func TestSandbox_Isolation(t *testing.T) {
	e := transform.NewEngine(transform.Limits{MaxIdleVMs: 1})
	doc := MustDecode(t, `{}`)
	mustHold(t, e, doc, `() => {
		Object.prototype.polluted = 1;
		Array.prototype.includes = () => true;
		String.prototype.repeat = () => 'hacked';
		JSON.stringify = () => 'hacked';
		globalThis.leak = 'secret';
		try { Object.defineProperty(globalThis, 'leak2', { value: 1 }) } catch (e) {}
		return true }`)
	mustHold(t, e, doc, `() => ({}).polluted === undefined && ![1].includes(2) && 'a'.repeat(2) === 'aa' &&
		JSON.stringify([1]) === '[1]' && typeof leak === 'undefined' && typeof leak2 === 'undefined'`)
	mustHold(t, e, doc, `() => Object.isFrozen(globalThis) && Object.isFrozen(Object.prototype) &&
		Object.isFrozen(Array.prototype) && Object.isFrozen(Object.getPrototypeOf([][Symbol.iterator]()))`)
	mustHold(t, e, doc, `() => { 'use strict'; try { Object.prototype.x = 1; return false } catch (e) { return e instanceof TypeError } }`)
}

func TestSandbox_InputIsACopy(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, productJSON)
	before := string(payload.Marshal(doc))
	mustHold(t, e, doc, `p => { p.brand.uid = 1; delete p.name; p.items.length = 0; p.added = true; return true }`)
	if after := string(payload.Marshal(doc)); after != before {
		t.Fatalf("a condition changed the payload:\n%s", after)
	}
	mustHold(t, e, doc, `p => p.brand.uid === 238 && p.items.length === 4 && !('added' in p)`)
}

func TestSandbox_Values(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, `{"__proto__":{"polluted":true},"lone":"\ud800x","text":"héllo 😀","num":1.5,
		"big":1e300,"neg":-0.25,"t":true,"n":null,"nested":{"2":"b","1":"a","z":[1,[2,{"k":"v"}]]}}`)
	for _, condition := range []string{
		`p => Object.getPrototypeOf(p) === Object.prototype && p.__proto__.polluted === true && ({}).polluted === undefined`,
		`p => Object.keys(p)[0] === '__proto__'`,
		`p => p.lone.length === 2 && p.lone.charCodeAt(0) === 0xD800 && p.lone[1] === 'x'`,
		`p => p.text.length === 8 && p.text.codePointAt(6) === 0x1F600`,
		`p => p.num === 1.5 && p.big === 1e300 && p.neg === -0.25 && p.t === true && p.n === null`,
		`p => Object.keys(p.nested).join() === '1,2,z' && p.nested.z[1][1].k === 'v'`,
		`p => JSON.stringify(p.nested) === '{"1":"a","2":"b","z":[1,[2,{"k":"v"}]]}'`,
		`p => Array.isArray(p.nested.z) && p.nested.z instanceof Array`,
		`p => new Date(0).toISOString() === '1970-01-01T00:00:00.000Z' && Math.max(1, 2) === 2 && /h.llo/.test(p.text)`,
	} {
		mustHold(t, e, doc, condition)
	}
}

// TestSandbox_Guards checks that the guarded built-ins still behave as ECMAScript
// says, on both sides of their limits: small limits force the slow paths.
func TestSandbox_Guards(t *testing.T) {
	// The time limit is generous: what is checked is each result, and a loaded
	// machine (CI's) must not turn a RangeError into a timeout.
	e := transform.NewEngine(transform.Limits{MaxStringLength: 64, MaxArrayLength: 16, Timeout: 5 * time.Second})
	wide := transform.NewEngine(transform.Limits{Timeout: 5 * time.Second})
	doc := MustDecode(t, `{}`)
	for _, condition := range []string{
		`() => 'ab'.repeat(3) === 'ababab' && 'a'.padStart(4, 'xy') === 'xyxa' && 'a'.padEnd(3) === 'a  '`,
		`() => 'a'.concat(1, null, [2, 3]) === 'a1null2,3'`,
		`() => 'abc'.replace('b', "[$&|$\x60|$'|$$|$1]") === "a[b|a|c|$|$1]c"`,
		`() => 'aXbX'.replace(/X/g, '<$&>') === 'a<X>b<X>' && 'abcb'.replaceAll('b', m => m.toUpperCase()) === 'aBcB'`,
		`() => 'a-b-c'.replace(/(\w)-(?<second>\w)/, '$2$1[$<second>]$3$01$10') === 'ba[b]$3a' + 'a0' + '-c'`,
		`() => 'John Smith'.replace(/(\w+)\s(\w+)/, '$2, $1') === 'Smith, John'`,
		`() => 'x'.repeat(30).replace(/(x+)/, '$1$1') === 'x'.repeat(60)`,
		`() => { const rx = /a+/y; rx.lastIndex = 1; const r = ('b' + 'a'.repeat(20) + 'b').replace(rx, '$&$&');
			return r === 'b' + 'a'.repeat(40) + 'b' && rx.lastIndex === 21 }`,
		`() => 'a,b,,c'.split(',').length === 4 && 'abc'.split('').join('-') === 'a-b-c' && 'a1b2'.split(/\d/).length === 3`,
		`() => [3, 20, 100].sort().join() === '100,20,3' && [3, 1, 2].sort((a, b) => b - a).join() === '3,2,1'`,
		`() => [undefined, 'b', , 'a'].sort().length === 4 && [undefined, 'b', , 'a'].sort()[0] === 'a'`,
		`() => [1, [2, [3, [4]]]].flat().length === 3 && [1, [2, [3, [4]]]].flat(Infinity).join() === '1,2,3,4'`,
		`() => [1, 2].flatMap(x => [x, x * 10]).join() === '1,10,2,20'`,
		`() => [1, null, undefined, 'x'].join('|') === '1|||x' && String([1, [2, 3]]) === '1,2,3'`,
		`() => { const a = [1]; a.push(a); return a.join() === '1,' }`,
		`() => Array.from('abc').join() === 'a,b,c' && Array.from({length: 2}, (_, i) => i * 2).join() === '0,2'`,
		`() => Array.from(new Set([1, 1, 2])).length === 2 && Array.of(7).length === 1 && new Array(3).length === 3`,
		`() => Array(2, 3).join() === '2,3' && new Array('3').length === 1`,
		`() => { class List extends Array {} const l = new List(); l.push(1); return l instanceof List && l.length === 1 }`,
		`() => Math.max.apply(null, [1, 5, 3]) === 5 && Reflect.apply(Math.min, null, [4, 2]) === 2`,
		`() => Reflect.construct(Date, [0]).getTime() === 0`,
		`() => JSON.stringify({b: [1, {c: true}], a: 'x'}) === '{"b":[1,{"c":true}],"a":"x"}'`,
		`() => JSON.stringify({a: 1, b: 2, c: {a: 3, d: 4}}, ['c', 'a']) === '{"c":{"a":3},"a":1}'`,
		`() => JSON.stringify({a: 1, b: 'x'}, (k, v) => typeof v === 'number' ? v * 2 : v) === '{"a":2,"b":"x"}'`,
		`() => JSON.stringify([1], null, 2) === '[\n  1\n]' && JSON.stringify({toJSON() { return 'j' }}) === '"j"'`,
		`() => JSON.parse('{"a":[1,2]}').a[1] === 2 && JSON.parse('[1]', (k, v) => v) .length === 1`,
		"() => String.raw`a\\n${1}b` === 'a\\\\n1b'",
		"() => `${1}-${'a'}-${[2, 3]}` === '1-a-2,3'",
		`() => { let s = 'a'; s += 'b'; const o = {p: 'c'}; o.p += 'd'; o['p'] += 'e'; return s === 'ab' && o.p === 'cde' }`,
		`() => { let n = 1; n += 2; return n === 3 && 1 + 2 === 3 && '1' + 2 === '12' && 1 + '2' === '12' }`,
		`() => { try { String(new Error('m')); return String(new TypeError('m')) === 'TypeError: m' } catch (e) { return false } }`,
		`() => ({valueOf() { return 40 }}) + 2 === 42 && [1] + [2] === '12' && ({}) + '' === '[object Object]'`,
		`() => 'straße'.toUpperCase() === 'STRASSE' && 'İ'.toLowerCase() === 'i\u0307' && 'ΟΔΟΣ ΑΣ'.toLowerCase() === 'οδος ας'`,
		`() => 'Abc'.toLocaleUpperCase() === 'ABC' && 'ÀB'.toLocaleLowerCase() === 'àb' && 'x'.toUpperCase() === 'X'`,
		`() => '\uFDFA'.normalize('NFKD').length === 18 && 'e\u0301'.normalize() === 'é' && 'é'.normalize('NFD').length === 2`,
		`() => { try { 'a'.normalize('NFX'); return false } catch (e) { return e instanceof RangeError } }`,
		`() => 'a'.localeCompare('b') < 0 && 'é'.localeCompare('e\u0301') === 0`,
		`() => /a(?=b)/.exec('xab').index === 1 && /(\w)\1/.test('xaa') && !/(\w)\1/.test('ab')`,
		`() => 'a1b22c'.replace(/(\d)\1?/g, '<$1>') === 'a<1>b<2>c' && 'a1b2'.match(/\d/g).join() === '1,2'`,
		`() => 'é,b,,c'.split(/,/).length === 4 && [...'a1b2'.matchAll(/\d/g)].length === 2 && 'xay'.search(/a/) === 1`,
		`() => { const r = /a/g; return r.test('aa') && r.lastIndex === 1 && r.exec('aa').index === 1 && r.exec('aa') === null }`,
		`() => RegExp('a') instanceof RegExp && new RegExp(/a/g).flags === 'g' && new RegExp(/a/g, 'i').flags === 'i' && /a/.constructor === RegExp`,
		`() => { const r = /a/; return RegExp(r) === r && new RegExp(r) !== r && RegExp(r, 'g') !== r && String(new RegExp()) === '/(?:)/' }`,
		`() => { class R extends RegExp {} const r = new R('b+'); return r instanceof R && r instanceof RegExp && r.test('abb') }`,
		`() => 'abc'.match('b').index === 1 && 'xay'.search('a') === 1 && [...'a1b2'.matchAll('\\d')].length === 2 && 'x'.match() !== null`,
		`() => { try { 'a'.matchAll(/a/); return false } catch (e) { return e instanceof TypeError } }`,
		`() => { const r = /a/; r.compile('b', 'g'); return r.source === 'b' && r.global && /x{3}y{2,4}z{1,}/.test('xxxyyz') }`,
		`() => 'a.b.c'.split(/\./).length === 3 && RegExp.prototype.constructor === RegExp && typeof RegExp[Symbol.species] === 'function'`,
	} {
		mustHold(t, e, doc, condition)
		mustHold(t, wide, doc, condition)
	}
	// Long strings take the guards' chunked paths; the time limit is generous, since
	// what is checked here is the result.
	chunked := transform.NewEngine(transform.Limits{MaxStringLength: 100_000, Timeout: 5 * time.Second})
	mustHold(t, chunked, doc, `() => encodeURIComponent('😀a'.repeat(6000)) === encodeURIComponent('😀a').repeat(6000) &&
		escape('é😀'.repeat(6000)) === escape('é😀').repeat(6000)`)
	mustHold(t, chunked, doc, `() => { try { encodeURIComponent('é'.repeat(20000)); return false } catch (e) { return e instanceof RangeError } }`)
	mustHold(t, chunked, doc, `() => { try { encodeURIComponent('\ud800'.repeat(20000)); return false } catch (e) { return e instanceof URIError } }`)
	// Each guard refuses what exceeds the small limits, with a RangeError.
	for _, bomb := range []string{
		`'a'.repeat(65)`, `'a'.padStart(65)`, `'a'.padEnd(65, 'b')`, `'a'.repeat(40).concat('b'.repeat(40))`,
		`'x'.repeat(40) + 'y'.repeat(40)`, "`${'x'.repeat(40)}${'y'.repeat(40)}`", `Array(17)`, `new Array(17)`,
		`[].concat(Array(10), Array(10))`, `Array.from({length: 17})`, `'abcdefghijklmnopq'.split('')`,
		`[...'abcdefghijklmnopq']`, `[1].flatMap(() => Array(16).fill(0).concat([1]))`,
		`Array(10).fill('x'.repeat(10)).join()`, `'xxxxx'.replace(/x/g, 'y'.repeat(20))`,
		`'abbbbbbbbbb'.replace('a', "$'$'$'".repeat(10))`,
		`'x'.repeat(30).replace(/(x+)/, '$1$1$1')`, `'x'.repeat(30).replace(/(?<g>x+)/, '$<g>$<g>$<g>')`, `JSON.stringify('x'.repeat(60))`,
		`(() => { const a = []; a.length = 100; return a.fill(0) })()`,
		`Math.max.apply(null, {length: 17})`, `escape('%'.repeat(30))`,
		`'ß'.repeat(40).toUpperCase()`, `'é'.repeat(65).toLowerCase()`, `'\uFDFA'.repeat(4).normalize('NFKD')`,
		`'a'.localeCompare('b'.repeat(10001))`,
	} {
		t.Run(bomb, func(t *testing.T) {
			mustHold(t, e, doc, `() => { try { `+bomb+`; return false } catch (e) { return e instanceof RangeError } }`)
		})
	}
}
