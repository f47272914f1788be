package transform_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/transform"
)

func TestFilter_Match(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, productJSON)
	tests := []struct {
		name   string
		config string
		want   bool
	}{
		{"SeedExample", `{"query":"$.brand.uid","condition":"(uid) => uid === 238"}`, true},
		{"SeedExampleOtherBrand", `{"query":"$.brand.uid","condition":"(uid) => uid === 239"}`, false},
		{"FunctionExpression", expression("$.price.effective.min", "function (x) { return x > 10 }"), true},
		{"BareArrow", expression("$.tags", "x => x.length > 2"), true},
		{"BlockArrow", expression("$.name", "(n) => { const words = n.split(' '); return words.length === 5 }"), true},
		{"ImmediatelyInvoked", expression("$.brand.uid", "(() => { const want = 238; return (x) => x === want })()"), true},
		{"ObjectKeepsKeyOrder", expression("$.brand", "b => Object.keys(b).join() === 'uid,name,logo'"), true},
		{"ArrayValue", expression("$.departments", "d => Array.isArray(d) && d[1] === 17"), true},
		{"WholePayload", expression("$", "p => p.items.filter(i => i.is_available).length === 3"), true},
		{"NoMatchIsUndefined", expression("$.missing.path", "x => x === undefined"), true},
		{"NoMatchNotNull", expression("$.missing", "x => x === null"), false},
		{"NullValue", expression("$.maybe", "x => x === null"), false},
		{"FirstMatchWins", expression("$.items[*].price", "x => x === 4499"), true},
		{"FirstMatchWinsNotLast", expression("$.items[*].price", "x => x === 4999"), false},
		{"FirstMatchOfDescent", expression("$..uid", "x => x === 7501"), true},
		{"FirstMatchOfFilter", expression("$.items[?(@.quantity == 0)].size", "x => x === '8'"), true},
		{"FirstMatchOfSlice", expression("$.items[-2:].size", "x => x === '9'"), true},
		{"FirstMatchOfUnionIsDocumentOrder", expression("$['slug','name']", "x => x === \"Trail Runner 2 Men's Shoes\""), true},
		{"LooseEquality", expression("$.brand.uid", `x => x == "238"`), true},
		{"StrictEquality", expression("$.brand.uid", `x => x === "238"`), false},
		{"LogicAND", `{"logic":"AND","conditions":[` + expression("$.brand.uid", "x => x === 238") + `,` + expression("$.is_active", "x => x") + `]}`, true},
		{"LogicANDOneFalse", `{"logic":"AND","conditions":[` + expression("$.brand.uid", "x => x === 238") + `,` + expression("$.is_active", "x => !x") + `]}`, false},
		{"LogicOR", `{"logic":"OR","conditions":[` + expression("$.brand.uid", "x => x === 1") + `,` + expression("$.is_active", "x => x") + `]}`, true},
		{"LogicORAllFalse", `{"logic":"OR","conditions":[` + expression("$.brand.uid", "x => x === 1") + `,` + expression("$.is_active", "x => !x") + `]}`, false},
		{"LogicLowercase", `{"logic":"and","conditions":[` + expression("$.brand.uid", "x => x === 238") + `]}`, true},
		{"LogicMixedCase", `{"logic":"Or","conditions":[` + expression("$.brand.uid", "x => x === 1") + `,` + expression("$.currency", "c => c === 'INR'") + `]}`, true},
		{"Nested", `{"logic":"AND","conditions":[` + expression("$.is_active", "x => x") + `,{"logic":"OR","conditions":[` +
			expression("$.brand.uid", "x => x === 1") + `,` + expression("$.category.slug", "s => s.startsWith('running')") + `]}]}`, true},
		{"ANDShortCircuits", `{"logic":"AND","conditions":[` + expression("$.brand.uid", "x => false") + `,` + expression("$", "x => { throw new Error('evaluated') }") + `]}`, false},
		{"ORShortCircuits", `{"logic":"OR","conditions":[` + expression("$.brand.uid", "x => true") + `,` + expression("$", "x => { throw new Error('evaluated') }") + `]}`, true},
		{"NestingAtLimit", nest(transform.MaxNesting, expression("$.brand.uid", "x => x === 238")), true},
		{"ConditionsAtLimit", `{"logic":"AND","conditions":[` + strings.Repeat(expression("$.is_active", "x => x")+",", transform.MaxConditions-1) + expression("$.is_active", "x => x") + `]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := MustFilter(t, e, tt.config)
			got, err := f.Match(context.Background(), doc)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

// nest wraps inner in connectors until the filter spans levels levels.
func nest(levels int, inner string) string {
	for i := 1; i < levels; i++ {
		inner = `{"logic":"AND","conditions":[` + inner + `]}`
	}
	return inner
}

// TestFilter_Truthiness checks that the result is ECMAScript's ToBoolean of what the
// condition returns.
func TestFilter_Truthiness(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, `{"zero":0,"empty":"","null":null,"arr":[],"obj":{},"str0":"0","num":238,"f":false}`)
	tests := []struct {
		query, condition string
		want             bool
	}{
		{"$.zero", "x => x", false},
		{"$.empty", "x => x", false},
		{"$.null", "x => x", false},
		{"$.arr", "x => x", true},
		{"$.obj", "x => x", true},
		{"$.str0", "x => x", true},
		{"$.num", "x => x", true},
		{"$.f", "x => x", false},
		{"$.missing", "x => x", false},
		{"$.num", "x => NaN", false},
		{"$.num", "x => undefined", false},
		{"$.num", "x => {}", false}, // a block, returning undefined
		{"$.num", "x => ({})", true},
		{"$.num", "x => 'false'", true},
		{"$.num", "x => -0", false},
		{"$.num", "x => Symbol()", true},
	}
	for _, tt := range tests {
		t.Run(tt.query+" "+tt.condition, func(t *testing.T) {
			got, err := MustFilter(t, e, expression(tt.query, tt.condition)).Match(context.Background(), doc)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilter_Absent(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	for _, config := range []string{"", " ", "null", "{}", " { } ", "\nnull\n"} {
		f, err := e.Filter([]byte(config))
		if err != nil || f != nil {
			t.Fatalf("Filter(%q) = %v, %v; want nil, nil", config, f, err)
		}
	}
	var f *transform.Filter
	if ok, err := f.Match(context.Background(), MustDecode(t, productJSON)); !ok || err != nil {
		t.Fatalf("nil filter: Match = %v, %v; want true, nil", ok, err)
	}
}

func TestFilter_ConfigErrors(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	ok := expression("$.a", "x => x")
	tests := []struct {
		name, config, field, message string
	}{
		{"NotJSON", `{"query":`, "", "invalid JSON"},
		{"NotObject", `[1]`, "", "must be a JSON object"},
		{"DuplicateKey", `{"query":"$.a","query":"$.b","condition":"x => x"}`, "", "invalid JSON"},
		{"MissingCondition", `{"query":"$.a"}`, "condition", "is required"},
		{"MissingQuery", `{"condition":"x => x"}`, "query", "is required"},
		{"QueryNotString", `{"query":1,"condition":"x => x"}`, "query", "must be a string"},
		{"ConditionNotString", `{"query":"$.a","condition":true}`, "condition", "must be a string"},
		{"UnknownKey", `{"query":"$.a","condition":"x => x","extra":1}`, "extra", "unknown key"},
		{"Mixed", `{"query":"$.a","condition":"x => x","logic":"AND","conditions":[]}`, "", "mixes"},
		{"EmptyNested", `{"logic":"AND","conditions":[{}]}`, "conditions[0]", "must be an object with query"},
		{"NestedNotObject", `{"logic":"AND","conditions":[` + ok + `,1]}`, "conditions[1]", "must be an object"},
		{"BadLogic", `{"logic":"XOR","conditions":[` + ok + `]}`, "logic", `"AND" or "OR"`},
		{"LogicNotString", `{"logic":1,"conditions":[` + ok + `]}`, "logic", `"AND" or "OR"`},
		{"MissingConditions", `{"logic":"AND"}`, "conditions", "is required"},
		{"ConditionsNotArray", `{"logic":"AND","conditions":{}}`, "conditions", "must be an array"},
		{"NoConditions", `{"logic":"AND","conditions":[]}`, "conditions", "at least one"},
		{"TooManyConditions", `{"logic":"OR","conditions":[` + strings.Repeat(ok+",", transform.MaxConditions) + ok + `]}`, "conditions", "at most 5"},
		{"TooDeep", nest(transform.MaxNesting+1, ok), "conditions[0].conditions[0].conditions[0].conditions[0].conditions", "at most 5 levels"},
		{"TooManyDeepInside", `{"logic":"AND","conditions":[` + ok + `,{"logic":"OR","conditions":[` + strings.Repeat(ok+",", 6) + ok + `]}]}`, "conditions[1].conditions", "at most 5"},
		{"QueryWithoutDollar", `{"logic":"AND","conditions":[` + ok + `,` + expression("brand.uid", "x => x") + `]}`, "conditions[1].query", "starting with $"},
		{"QuerySyntax", expression("$.a[", "x => x"), "query", "invalid JSONPath"},
		{"QueryEndsWithDescent", expression("$.a..", "x => x"), "query", "cannot end with a recursive descent (..)"},
		{"QueryDollarInFilter", expression("$.items[?(@.price > $.min)]", "x => x"), "query", "$ inside a filter"},
		{"QueryTwoDescents", expression("$..items..price", "x => x"), "query", "at most 1 recursive descent"},
		{"QueryDescentInFilter", expression("$..items[?(@..price > 1)]", "x => x"), "query", "at most 1 recursive descent"},
		{"JSSyntax", expression("$.a", "x => x ===="), "condition", "JavaScript syntax error"},
		{"JSSyntaxPosition", expression("$.a", "x => {\n  return x +* 2\n}"), "condition", "line 2"},
		{"JSSyntaxPositionCRLF", expression("$.a", "x => {\r\n  return x +* 2\r\n}"), "condition", "line 2, column"},
		{"JSIncomplete", expression("$.a", "x =>"), "condition", "unexpected end of the condition"},
		{"JSEmpty", expression("$.a", "  "), "condition", "empty"},
		{"JSTwoStatements", expression("$.a", "x => x; 1"), "condition", "syntax error"},
		{"JSEscapesWrapper", expression("$.a", "x => x)) + ((y => y"), "condition", "syntax error"},
		{"NotFunctionNumber", expression("$.a", "42"), "condition", "does not evaluate to a function"},
		{"NotFunctionString", expression("$.a", `"abc"`), "condition", "does not evaluate to a function"},
		{"NotFunctionComputed", expression("$.a", "[1, 2].length"), "condition", "does not evaluate to a function"},
		{"ThrowsWhenEvaluated", expression("$.a", "undefinedName"), "condition", "ReferenceError"},
		{"Async", expression("$.a", "async x => x"), "condition", "synchronous"},
		{"Generator", expression("$.a", "function* (x) { yield x }"), "condition", "generator"},
		{"Class", expression("$.a", "class { }"), "condition", "class"},
		{"BigInt", expression("$.a", "x => x > 10n"), "condition", "BigInt"},
		{"ReservedName", expression("$.a", "x => __hookflow_add(x, 1)"), "condition", "reserved"},
		{"NestedJSError", `{"logic":"AND","conditions":[` + ok + `,{"logic":"OR","conditions":[` + ok + `,` + expression("$.a", "x => (") + `]}]}`,
			"conditions[1].conditions[1].condition", "JavaScript syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := e.Filter([]byte(tt.config))
			var ce *transform.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Filter = %v, %v; want a *ConfigError", f, err)
			}
			if ce.Field != tt.field {
				t.Errorf("Field = %q, want %q (%v)", ce.Field, tt.field, err)
			}
			if !strings.Contains(ce.Message, tt.message) {
				t.Errorf("Message = %q, want it to contain %q", ce.Message, tt.message)
			}
		})
	}
}

func TestFilter_EvalErrors(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, productJSON)
	tests := []struct {
		name, config, field, message string
	}{
		{"Throws", expression("$.brand", "b => b.missing.deeper"), "condition", "condition threw: TypeError"},
		{"ThrowsValue", expression("$.brand", "b => { throw 'plain string' }"), "condition", "condition threw: plain string"},
		{"ThrowsCustomError", expression("$.brand", "b => { throw new RangeError('too far') }"), "condition", "condition threw: RangeError: too far"},
		{"ThrowsObject", expression("$.brand", "b => { throw {code: 1} }"), "condition", "condition threw: [object Object]"},
		{"ThrowsNested", `{"logic":"OR","conditions":[` + expression("$.brand.uid", "x => false") + `,` + expression("$.brand", "b => b.x.y") + `]}`,
			"conditions[1].condition", "condition threw: TypeError"},
		{"Recursion", expression("$", "x => { const f = (n) => f(n + 1) + 1; return f(0) }"), "condition", "recursion too deep"},
		{"Promise", expression("$", "x => Promise.resolve(true)"), "condition", "Promise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := MustFilter(t, e, tt.config).Match(context.Background(), doc)
			var ee *transform.EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("Match = %v, %v; want an *EvalError", ok, err)
			}
			if ok {
				t.Error("Match returned true with an error")
			}
			if ee.Field != tt.field || !strings.Contains(ee.Message, tt.message) {
				t.Errorf("got %q at %q, want %q at %q", ee.Message, ee.Field, tt.message, tt.field)
			}
			if errors.Is(err, transform.ErrTimeout) {
				t.Error("a thrown error must not wrap ErrTimeout")
			}
		})
	}
}

func TestFilter_Cached(t *testing.T) {
	e := transform.NewEngine(transform.Limits{CacheSize: 2})
	a := expression("$.a", "x => x")
	f1 := MustFilter(t, e, a)
	if f2 := MustFilter(t, e, a); f1 != f2 {
		t.Fatal("parsing the same configuration twice gave two filters")
	}
	MustFilter(t, e, expression("$.b", "x => x"))
	MustFilter(t, e, expression("$.c", "x => x"))
	if f3 := MustFilter(t, e, a); f3 == f1 {
		t.Fatal("the least recently used filter was not evicted")
	}
}

func TestFilter_Canceled(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	f := MustFilter(t, e, expression("$", "x => { while (true) {} }"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Match(ctx, MustDecode(t, `{}`))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Match = %v, want context.Canceled", err)
	}
}
