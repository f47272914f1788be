package transform

import "time"

// Grammar limits of Fynd's filter language. They are part of the grammar, not tunable.
const (
	// MaxConditions is the most conditions one logical connector may hold.
	MaxConditions = 5
	// MaxNesting is the deepest a filter may nest: an expression alone is level 1, a
	// connector whose conditions are expressions spans levels 1 and 2.
	MaxNesting = 5
)

// Limits bounds what a configuration may contain and what evaluating it may cost. The
// zero value of a field means its default; see [DefaultLimits].
type Limits struct {
	// Timeout bounds one evaluation: a whole Filter.Match, all its conditions together,
	// and the instantiation of a condition when a filter is parsed. Default 50ms.
	Timeout time.Duration

	// MaxConfigBytes bounds the JSON text of one filter or reducer. Default 64 KiB.
	MaxConfigBytes int
	// MaxQueryBytes bounds one JSONPath query. Default 1 KiB.
	MaxQueryBytes int
	// MaxConditionBytes bounds the JavaScript source of one condition. Default 4 KiB.
	MaxConditionBytes int

	// MaxReducerDepth bounds how deeply a reducer's objects and arrays nest; the
	// top-level object is depth 1. Default 10.
	MaxReducerDepth int
	// MaxReducerLeaves bounds the leaves of a reducer: queries and literals, counting
	// empty objects and arrays as one each. Default 256.
	MaxReducerLeaves int
	// MaxReducedBytes bounds the JSON text of what a reducer builds, the payload a
	// receiver gets. A recursive descent repeats every value once per level above
	// it, so a reducer could otherwise turn a payload into one many times its size.
	// Default 1 MiB, the largest event payload accepted.
	MaxReducedBytes int

	// MaxCallDepth bounds the JavaScript call stack (goja's SetMaxCallStackSize); deeper
	// recursion ends the evaluation with "recursion too deep". Default 256.
	MaxCallDepth int
	// MaxStringLength bounds, in UTF-16 code units, every string a condition builds with
	// +, template literals or a string-producing built-in (repeat, padStart, padEnd,
	// concat, join, replace, JSON.stringify, …). Strings taken from the payload may be
	// longer. Default 1 Mi (1,048,576).
	MaxStringLength int
	// MaxArrayLength bounds the arrays a condition may create or hand to an Array
	// built-in (new Array(n), fill, join, map, spread, apply, …), and the strings that a
	// global or splitting regular expression, a string iteration or Object.keys and its
	// kin may run over. Default 100,000.
	MaxArrayLength int
	// MaxJSONDepth bounds the nesting JSON.parse and JSON.stringify accept inside a
	// condition. Default 256.
	MaxJSONDepth int

	// CacheSize is how many parsed filters and reducers an Engine keeps, least recently
	// used first out. Default 1024.
	CacheSize int
	// MaxIdleVMs is how many JavaScript runtimes an Engine keeps for reuse; more are made
	// when more evaluations run at once, and dropped afterwards. A runtime costs a few
	// milliseconds to make and about half a megabyte. Default 16.
	MaxIdleVMs int
}

// DefaultLimits returns the limits an Engine uses for fields left at zero.
func DefaultLimits() Limits {
	return Limits{
		Timeout:           50 * time.Millisecond,
		MaxConfigBytes:    64 << 10,
		MaxQueryBytes:     1 << 10,
		MaxConditionBytes: 4 << 10,
		MaxReducerDepth:   10,
		MaxReducerLeaves:  256,
		MaxReducedBytes:   1 << 20,
		MaxCallDepth:      256,
		MaxStringLength:   1 << 20,
		MaxArrayLength:    100_000,
		MaxJSONDepth:      256,
		CacheSize:         1024,
		MaxIdleVMs:        16,
	}
}

// withDefaults fills zero (or negative) fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	pick(&l.MaxConfigBytes, d.MaxConfigBytes)
	pick(&l.MaxQueryBytes, d.MaxQueryBytes)
	pick(&l.MaxConditionBytes, d.MaxConditionBytes)
	pick(&l.MaxReducerDepth, d.MaxReducerDepth)
	pick(&l.MaxReducerLeaves, d.MaxReducerLeaves)
	pick(&l.MaxReducedBytes, d.MaxReducedBytes)
	pick(&l.MaxCallDepth, d.MaxCallDepth)
	pick(&l.MaxStringLength, d.MaxStringLength)
	pick(&l.MaxArrayLength, d.MaxArrayLength)
	pick(&l.MaxJSONDepth, d.MaxJSONDepth)
	pick(&l.CacheSize, d.CacheSize)
	pick(&l.MaxIdleVMs, d.MaxIdleVMs)
	return l
}
