package models

import (
	"strings"
	"unicode/utf8"
)

// storableText returns s as text that every store accepts, cut to at most max bytes (0:
// no limit): each byte that is not part of valid UTF-8, and each NUL, becomes U+FFFD.
// Receivers answer with any bytes, and PostgreSQL refuses both in a text column; SQLite
// would keep them but the API could not show them as JSON text faithfully.
func storableText(s string, max int) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return Truncate(s, max)
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += size
	}
	return Truncate(b.String(), max)
}

// Truncate cuts s to at most n bytes (n <= 0: no limit) on a rune boundary.
func Truncate(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
