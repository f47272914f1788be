package payload

import (
	"math"
	"strconv"
)

// appendNumber appends f as JSON.stringify prints a number: null for NaN and ±Infinity,
// otherwise ECMAScript's Number::toString(f) (ECMA-262, 6.1.6.1.20) with radix 10.
func appendNumber(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return append(dst, "null"...)
	case f == 0:
		return append(dst, '0') // also for -0, which Number::toString prints as "0"
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		// Every integer below 2^53 is exact, and its shortest round-trip digits are its
		// own, so the spec's steps print it as plain decimal.
		return strconv.AppendInt(dst, int64(f), 10)
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	// The spec asks for the smallest k, and then the digits s closest to f, such that
	// s × 10^(n-k) is f; strconv's shortest formatting finds the same digits.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d[.ddd]e±dd
	var digits [17]byte
	digits[0] = e[0]
	k, p := 1, 1
	if e[1] == '.' {
		for p = 2; e[p] != 'e'; p++ {
			digits[k] = e[p]
			k++
		}
	}
	exp := 0
	for _, c := range e[p+2:] {
		exp = exp*10 + int(c-'0')
	}
	if e[p+1] == '-' {
		exp = -exp
	}
	n := exp + 1 // f = 0.digits × 10^n
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits[:k]...)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:k]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, digits[:k]...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:k]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}

// number decodes the number at d.pos, whose first byte is '-' or a digit.
func (d *decoder) number() (any, error) {
	data := d.data
	start, i := d.pos, d.pos
	neg := data[i] == '-'
	if neg {
		i++
	}
	intStart := i
	switch {
	case i >= len(data):
		return nil, d.errEOF()
	case data[i] == '0':
		i++
		if i < len(data) && isDigit(data[i]) {
			return nil, d.errorf(start, "invalid number: leading zero")
		}
	case isDigit(data[i]):
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		return nil, d.errorf(i, "invalid number: expected a digit after '-'")
	}
	intEnd := i
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) {
			return nil, d.errEOF()
		}
		if !isDigit(data[i]) {
			return nil, d.errorf(i, "invalid number: expected a digit after the decimal point")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) {
			return nil, d.errEOF()
		}
		if !isDigit(data[i]) {
			return nil, d.errorf(i, "invalid number: expected a digit in the exponent")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	d.pos = i
	if i == intEnd && intEnd-intStart <= 15 {
		// An integer of at most 15 digits is exact in a float64; skip the general parser.
		var n int64
		for _, c := range data[intStart:intEnd] {
			n = n*10 + int64(c-'0')
		}
		if neg {
			return -float64(n), nil
		}
		if n < int64(len(smallInts)) {
			return smallInts[n], nil
		}
		return float64(n), nil
	}
	// The grammar checked above is a subset of what ParseFloat accepts, so the only
	// possible error is a range error. Underflow rounds to zero without one, as in
	// JSON.parse; overflow would become Infinity there, which JSON.stringify prints as null.
	f, err := strconv.ParseFloat(string(data[start:i]), 64)
	if err != nil {
		return nil, d.errorf(start, "number out of range")
	}
	return f, nil
}

// smallInts holds the float64 values 0 to 255 already boxed, which saves an allocation
// for each of the small counts, quantities and flags that fill payloads.
var smallInts = func() (t [256]any) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
