package transform

import "fmt"

// maxRegexpSize bounds a condition's regular expressions, as regexpSize counts them.
// goja compiles a pattern in one Go call that the VM's interrupt does not reach, and
// Go's regexp copies a counted repetition's operand once per count: 'a{1000}'.repeat(100)
// is a 700-character pattern that compiles to 100,000 instructions, a quarter of a
// second. 10,000 compiles in a few milliseconds.
const maxRegexpSize = 10_000

// errRegexpTooLarge is the message for a pattern over maxRegexpSize.
var errRegexpTooLarge = fmt.Errorf("the regular expression is too large for a condition: more than %d characters once its counted repetitions ({n}, {n,m}) are expanded", maxRegexpSize)

// regexpSize estimates from above the size of an ECMAScript pattern once compiled:
// one per character, with the operand of a counted repetition counted as many times
// as its upper count (its lower count plus one when unbounded), nested repetitions
// multiplying. It returns early, with a size over limit, as soon as the estimate
// exceeds limit. The pattern need not be valid: compiling it reports its errors.
func regexpSize(p string, limit int) int {
	type group struct{ before int }
	var (
		stack []group
		cur   int // the size of the current group so far
		last  int // the size of the last atom, the operand of a quantifier
	)
	atom := func(n int) {
		last = n
		cur += n
	}
	for i := 0; i < len(p); i++ {
		if cur > limit {
			return cur
		}
		switch c := p[i]; c {
		case '\\':
			i++
			if i+1 < len(p) && p[i+1] == '{' && i < len(p) && (p[i] == 'u' || p[i] == 'p' || p[i] == 'P') {
				// \u{…}, \p{…}: an escape, not a repetition.
				for i < len(p) && p[i] != '}' {
					i++
				}
			}
			atom(1)
		case '[':
			// A class is one atom; in ECMAScript the first ] closes it.
			for i++; i < len(p) && p[i] != ']'; i++ {
				if p[i] == '\\' {
					i++
				}
			}
			atom(1)
		case '(':
			stack = append(stack, group{before: cur})
			cur = 0
			if i+1 < len(p) && p[i+1] == '?' {
				// (?:, (?=, (?!, (?<=, (?<!, (?<name>: the prefix is not an atom.
				i++
				if i+1 < len(p) && p[i+1] == '<' {
					for i < len(p) && p[i] != '>' && p[i] != '=' && p[i] != '!' {
						i++
					}
				} else {
					i++
				}
			}
		case ')':
			g := cur + 1
			cur = g
			if n := len(stack); n > 0 {
				cur = stack[n-1].before + g
				stack = stack[:n-1]
			}
			last = g
		case '*', '+', '?':
			cur++
		case '{':
			n, m, end, ok := counts(p, i)
			if !ok {
				atom(1)
				continue
			}
			times := max(n, m)
			if m < 0 {
				times = n + 1 // {n,}: n copies and a loop
			}
			if times > 1 {
				// The operand is counted once already; saturate rather than overflow.
				extra := last * (times - 1)
				if last > 0 && extra/last != times-1 {
					return limit + 1
				}
				cur += extra
			}
			cur++
			i = end
		default:
			atom(1)
		}
	}
	for _, g := range stack {
		cur += g.before
	}
	return cur
}

// counts parses the repetition {n}, {n,} or {n,m} at p[i], returning m -1 for {n,},
// the index of the closing brace, and whether there is one.
func counts(p string, i int) (n, m, end int, ok bool) {
	j := i + 1
	num := func() (int, bool) {
		start, v := j, 0
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			if v < 1<<20 {
				v = v*10 + int(p[j]-'0')
			}
			j++
		}
		return v, j > start
	}
	n, ok = num()
	if !ok || j >= len(p) {
		return 0, 0, 0, false
	}
	m = n
	if p[j] == ',' {
		j++
		var has bool
		if m, has = num(); !has {
			m = -1
		}
	}
	if j >= len(p) || p[j] != '}' {
		return 0, 0, 0, false
	}
	return n, m, j, true
}
