package payload

import "unicode/utf8"

// plainByte marks the ASCII bytes that stand for themselves inside a JSON string, in the
// input as in JSON.stringify's output: everything but control characters, '"' and '\'.
var plainByte = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipPlain returns the offset of the first byte at or after i in s that is not a plain
// byte: a control character, '"', '\' or the start of a non-ASCII character. It returns
// len(s) if there is none. It tests eight bytes at a time while it can.
func skipPlain[T ~string | ~[]byte](s T, i int) int {
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if !plainWord(x) {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !plainByte[c] {
			return i
		}
	}
	return i
}

// plainWord reports whether all eight bytes of x are plain. With every byte below 0x80,
// (v - 0x01…01·n) &^ v has a high bit set exactly when some byte of v is below n; the
// last term catches the bytes from 0x80 up.
func plainWord(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (lo * '"')
	backslash := x ^ (lo * '\\')
	return ((x-lo*0x20)&^x|(quote-lo)&^quote|(backslash-lo)&^backslash|x)&hi == 0
}
