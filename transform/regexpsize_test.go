package transform

import (
	"strings"
	"testing"
)

func TestRegexpSize(t *testing.T) {
	for _, tt := range []struct {
		pattern string
		max     int // the estimate is at least this (or over the limit when -1)
		small   bool
	}{
		{`abc`, 3, true},
		{`^[a-z0-9._%+-]{1,64}@[a-z0-9.-]{2,255}\.[a-z]{2,24}$`, 340, true},
		{`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}`, 14, true},
		{`(?<year>\d{4})-(?<month>\d{2})`, 6, true},
		{`\u{1F600}{3}`, 3, true},
		{`\p{L}+`, 1, true},
		{`a{1000}`, 1000, true},
		{strings.Repeat(`a{1000}`, 100), -1, false},
		{`((a{100}){100}){100}`, -1, false},
		{`(?:(?:a{9}){9}){9}`, 729, true},
		{`a{2,}`, 3, true},
		{`x{99999999999999999999}`, -1, false},
		{strings.Repeat(`(?:a|b)`, 1e5), -1, false},
		{strings.Repeat("a", maxRegexpSize+1), -1, false},
		{`[{1000}]{2}`, 2, true},
		{`a{,5}`, 5, true}, // not a repetition in ECMAScript: literal characters
		{`(((`, 0, true},
		{`)))`, 3, true},
	} {
		got := regexpSize(tt.pattern, maxRegexpSize)
		if small := got <= maxRegexpSize; small != tt.small {
			t.Errorf("regexpSize(%.40q) = %d, within the limit %v, want %v", tt.pattern, got, small, tt.small)
		}
		if tt.max >= 0 && got < tt.max {
			t.Errorf("regexpSize(%.40q) = %d, want at least %d", tt.pattern, got, tt.max)
		}
	}
}

// TestRegexpSize_Literal checks that a condition's regular-expression literal too
// large to compile quickly is refused when the filter is parsed: goja compiles
// literals with the condition, before any time limit applies.
func TestRegexpSize_Literal(t *testing.T) {
	e := NewEngine(Limits{})
	cond := "x => /" + strings.Repeat("a{1000}", 500) + "/.test(x)"
	_, err := e.Filter([]byte(`{"query":"$","condition":"` + cond + `"}`))
	if err == nil || !strings.Contains(err.Error(), "regular expression is too large") {
		t.Fatalf("Filter = %v, want the pattern refused", err)
	}
	if _, err := e.Filter([]byte(`{"query":"$","condition":"x => /a{1000}/.test(x)"}`)); err != nil {
		t.Fatalf("a pattern within the limit: %v", err)
	}
}
