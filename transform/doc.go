// Package transform evaluates subscribers' filters and reducers: JSONPath queries
// (github.com/ohler55/ojg/jp) over an event payload and JavaScript conditions
// (github.com/dop251/goja) run in a sandbox.
//
// # Filters
//
// A filter follows Fynd's grammar:
//
//	FILTERS           = EXPRESSION | LOGICAL_CONNECTOR
//	EXPRESSION        = { "query": "<JSONPath>", "condition": "<JavaScript function>" }
//	LOGICAL_CONNECTOR = { "logic": "AND" | "OR", "conditions": [FILTERS, …] }
//
// An expression extracts one value from the payload with its query and passes it to its
// condition; the event is delivered when the condition returns a truthy value (ECMAScript
// ToBoolean). The extracted value is the first match in document order: $.items[*].price
// gives the first item's price. A query that matches nothing passes undefined. A connector
// combines its conditions with short-circuit evaluation: AND stops at the first false, OR
// at the first true. logic is accepted in any case. A connector holds 1 to
// [MaxConditions] conditions, and filters nest at most [MaxNesting] levels (an expression
// alone is one level; a connector of expressions is two). Empty text, null and {} mean
// no filter.
//
// # Reducers
//
// A reducer is a JSON object whose string leaves are JSONPath queries on the payload. Its
// result has the reducer's shape, keys in the reducer's order (array-index keys first,
// as JSON.parse orders them), with each query replaced by what it extracts; numbers, booleans and null are copied as literals, and arrays are
// processed element by element. A definite query (child names and indexes only, such as
// $.brand.name or $.items[0]) yields its single value, or null when absent. An indefinite
// query (wildcard, recursive descent, filter, slice or union) yields an array of every
// match in document order, empty when nothing matches — the convention of Jayway
// JsonPath. Empty text, null and {} mean no reducer. The JSON text of the result is
// at most Limits.MaxReducedBytes (1 MiB, the largest event payload); a reducer that
// would build more, as a recursive descent on a deep payload can, fails with
// [ErrReducedTooLarge].
//
// # Document order
//
// Matches are ordered as their values appear in the JSON text of the payload: a value
// comes before its descendants, object members in property order, array elements by
// index. A node matched twice, as by the union $['a','a'], counts once. This holds for every query, whatever order its selectors
// enumerate: $['b','a'] yields a before b when a comes first in the payload.
//
// # JSONPath dialect
//
// Queries must start with $ and use ojg's syntax. Inside a filter selector, @ is the
// candidate value; $ is refused there because ojg would bind it to the candidate rather
// than to the payload. Procedures ([(…)]) are refused, and a query holds at most one
// recursive descent (..), counting those inside filters, so that evaluation stays linear
// in the size of the payload.
//
// # Conditions
//
// A condition is the source of a JavaScript expression that evaluates to a function, such
// as (uid) => uid === 238 or function (x) { return x > 10 }. The value passed to it is a
// fresh copy of the extracted value (objects keep their key order), so a condition cannot
// change the payload. Async functions, generators and classes are refused when the
// filter is parsed, since their results are not booleans; a condition that returns a
// Promise anyway fails with an EvalError.
//
// Every evaluation starts from the condition's source: state that a condition keeps in
// a closure or on its function object does not carry over to the next event, nor to
// another subscriber that saved the same text. Compilation is cached; a condition
// written as an arrow function literal, which cannot keep state, is also instantiated
// only once per pooled runtime. Nothing else carries over either: every built-in
// object is frozen, and globalThis cannot be extended.
//
// The sandbox (see [Engine]) bounds time, call depth and the size of what a condition
// builds. Ordinary code runs unchanged, with these differences from a plain engine:
//   - a + b, x += y and template literals refuse to build strings longer than
//     Limits.MaxStringLength; obj.p += v throws a TypeError when p is read-only
//     instead of silently doing nothing;
//   - Array.prototype methods work on arrays only (not on array-likes such as
//     {length: 3}; convert with Array.from), on at most Limits.MaxArrayLength
//     elements; Array.from and flat return plain arrays even for subclasses;
//   - global or splitting regular expressions, string iteration and Object.keys and
//     its kin refuse strings longer than Limits.MaxArrayLength;
//   - one regular-expression match that runs longer than [RegexpMatchTimeout] throws
//     a RangeError, and a pattern larger than 10,000 once its counted repetitions
//     ({n,m}) are expanded is a SyntaxError (a literal one is refused when the filter
//     is parsed);
//   - toUpperCase, toLowerCase and normalize refuse results longer than
//     Limits.MaxStringLength; localeCompare refuses strings longer than 10,000
//     characters; the Date constructor and Date.parse take strings longer than 256
//     characters for invalid dates;
//   - eval, the Function constructors, BigInt, typed arrays, ArrayBuffer, DataView,
//     Atomics, Proxy, WeakRef, FinalizationRegistry and Symbol.for are unavailable.
//
// # Errors
//
// Parsing reports *[ConfigError], whose Field names the offending part of the
// configuration; evaluation reports *[EvalError]. The text of both is meant to be shown
// to the partner who wrote the configuration.
package transform
