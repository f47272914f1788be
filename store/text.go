package store

import (
	"strings"
	"unicode/utf8"

	"github.com/hookflow/hookflow/models"
)

// storableText returns s as text that every store accepts, cut to at most max bytes (0:
// no limit): each byte that is not part of valid UTF-8, and each NUL, becomes U+FFFD.
// Receivers answer with any bytes, and PostgreSQL refuses both in a text column; SQLite
// would keep them but the API could not show them as JSON text faithfully.
func storableText(s string, max int) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return models.Truncate(s, max)
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
	return models.Truncate(b.String(), max)
}
