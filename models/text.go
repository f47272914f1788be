package models

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
