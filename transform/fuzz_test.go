package transform_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/transform"
)

// fuzzDocument is the payload fuzzed configurations are evaluated against.
const fuzzDocument = `{"brand":{"uid":238,"name":"Acme","logo":"https://x.test/l.png"},"tags":["a","b"],
	"items":[{"price":5,"ok":true},{"price":7,"ok":false,"meta":{"price":9}}],"n":null,"e":"","z":0,
	"__proto__":{"p":1},"lone":"\ud800"}`

// FuzzFilter parses arbitrary configurations and evaluates those that parse. Parsing
// must fail only with a *ConfigError, evaluating only with an *EvalError, and neither
// may panic or outlast the time limit by much.
func FuzzFilter(f *testing.F) {
	f.Add([]byte(`{"query":"$.brand.uid","condition":"(uid) => uid === 238"}`))
	f.Add([]byte(`{"logic":"or","conditions":[{"query":"$..price","condition":"p => p > 6"},{"query":"$.tags[*]","condition":"t => t == 'b'"}]}`))
	const timeout = 20 * time.Millisecond
	e := transform.NewEngine(transform.Limits{Timeout: timeout})
	doc := MustDecode(f, fuzzDocument)
	f.Fuzz(func(t *testing.T, config []byte) {
		filter, err := e.Filter(config)
		if err != nil {
			var ce *transform.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Filter(%q) = %v (%T), want a *ConfigError", config, err, err)
			}
			return
		}
		start := time.Now()
		_, err = filter.Match(context.Background(), doc)
		if elapsed := time.Since(start); elapsed > 3*timeout+time.Second {
			t.Fatalf("Match(%q) took %v", config, elapsed)
		}
		var ee *transform.EvalError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("Match(%q) = %v (%T), want an *EvalError", config, err, err)
		}
	})
}

// FuzzReducer parses arbitrary configurations and applies those that parse. The result
// must be an object that the payload encoder accepts.
func FuzzReducer(f *testing.F) {
	f.Add([]byte(`{"brand_name":"$.brand.name","logo":{"url":"$.brand.logo"}}`))
	f.Add([]byte(`{"a":["$..price",1,null,true],"b":"$.items[?(@.price > 5)]","c":"$['tags','n'][0]"}`))
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(f, fuzzDocument)
	f.Fuzz(func(t *testing.T, config []byte) {
		r, err := e.Reducer(config)
		if err != nil {
			var ce *transform.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Reducer(%q) = %v (%T), want a *ConfigError", config, err, err)
			}
			return
		}
		out, err := r.Apply(doc)
		if r == nil {
			if out != doc || err != nil {
				t.Fatalf("nil reducer changed the document")
			}
			return
		}
		if err != nil {
			t.Fatalf("Apply(%q): %v", config, err)
		}
		if _, ok := out.(*payload.Object); !ok {
			t.Fatalf("Apply(%q) = %T, want *payload.Object", config, out)
		}
		if _, err := payload.MarshalChecked(out); err != nil {
			t.Fatalf("Apply(%q) gave a value the encoder refuses: %v", config, err)
		}
	})
}

// FuzzCondition aims FuzzFilter's checks at the JavaScript side: the source of one
// condition, which goes through the parser, the rewrite of + and templates, and the
// sandbox.
func FuzzCondition(f *testing.F) {
	for _, src := range []string{
		"(uid) => uid === 238",
		"function (x) { let s = ''; for (const k in x) s += k + `=${x[k]};`; return s.length > 3 }",
		"x => { const o = {a: 'b'}; o.a += o['a']; o[`k${1}`] = 2; return class { #p = 1; m() { this.#p += 1; return super.toString() } } }",
		"x => [1, 2, 3].map((v, i) => v + i).reduce((a, b) => a + b, '') === '135'",
		"x => 'abc'.replace(/(b)/g, '[$1$&]').split('').join('-').padEnd(20, '.')",
		"x => JSON.stringify({a: [1, {b: x}]}, null, 2).length + String.raw`\\n${x}`.length",
		"(() => { let n = 0; return x => ++n > 0 })()",
		"x => { try { return eval('1') } catch (e) { return e.message } }",
	} {
		f.Add(src)
	}
	const timeout = 20 * time.Millisecond
	e := transform.NewEngine(transform.Limits{Timeout: timeout})
	doc := MustDecode(f, fuzzDocument)
	f.Fuzz(func(t *testing.T, src string) {
		filter, err := e.Filter([]byte(expression("$", src)))
		if err != nil {
			var ce *transform.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Filter(%q) = %v (%T), want a *ConfigError", src, err, err)
			}
			return
		}
		start := time.Now()
		_, err = filter.Match(context.Background(), doc)
		if elapsed := time.Since(start); elapsed > 3*timeout+time.Second {
			t.Fatalf("Match(%q) took %v", src, elapsed)
		}
		var ee *transform.EvalError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("Match(%q) = %v (%T), want an *EvalError", src, err, err)
		}
	})
}
