package payload

import (
	"unicode/utf16"
	"unicode/utf8"
)

// string decodes the string whose opening quote is at d.pos.
func (d *decoder) string() (string, error) {
	data := d.data
	start := d.pos + 1
	for i := start; i < len(data); {
		i = skipPlain(data, i)
		if i >= len(data) {
			break
		}
		c := data[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				d.pos = i + 1
				return d.substring(start, i), nil
			case '\\':
				return d.escapedString(start, i)
			}
			return "", d.errControl(i)
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return "", d.errorf(i, "invalid UTF-8")
		}
		i += size
	}
	return "", d.errEOF()
}

// substring returns data[i:j] as a string without copying it again: the first call copies
// all of data once.
func (d *decoder) substring(i, j int) string {
	if d.str == "" {
		d.str = string(d.data)
	}
	return d.str[i:j]
}

// escapedString continues string from the escape at i, with data[start:i] already
// checked; it builds the string in d.buf.
func (d *decoder) escapedString(start, i int) (string, error) {
	data := d.data
	buf := append(d.buf[:0], data[start:i]...)
	for i < len(data) {
		if j := skipPlain(data, i); j > i {
			buf = append(buf, data[i:j]...)
			i = j
			if i >= len(data) {
				break
			}
		}
		c := data[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				d.pos = i + 1
				d.buf = buf
				return string(buf), nil
			case c == '\\':
				var err error
				if buf, i, err = d.escape(buf, i); err != nil {
					return "", err
				}
			default:
				return "", d.errControl(i)
			}
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return "", d.errorf(i, "invalid UTF-8")
		}
		buf = append(buf, data[i:i+size]...)
		i += size
	}
	return "", d.errEOF()
}

// escape appends what the escape sequence at data[i] stands for and returns the offset
// after it. A \u escape of a UTF-16 surrogate pair becomes one character; a lone
// surrogate becomes its generalized UTF-8 form.
func (d *decoder) escape(buf []byte, i int) ([]byte, int, error) {
	data := d.data
	if i+1 >= len(data) {
		return buf, i, d.errEOF()
	}
	switch c := data[i+1]; c {
	case '"', '\\', '/':
		return append(buf, c), i + 2, nil
	case 'b':
		return append(buf, '\b'), i + 2, nil
	case 'f':
		return append(buf, '\f'), i + 2, nil
	case 'n':
		return append(buf, '\n'), i + 2, nil
	case 'r':
		return append(buf, '\r'), i + 2, nil
	case 't':
		return append(buf, '\t'), i + 2, nil
	case 'u':
		r, ok := hex4(data[i+2:])
		if !ok {
			return buf, i, d.errHex(i)
		}
		i += 6
		if utf16.IsSurrogate(r) {
			if r < 0xDC00 && i+6 <= len(data) && data[i] == '\\' && data[i+1] == 'u' {
				if lo, ok := hex4(data[i+2:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					return utf8.AppendRune(buf, utf16.DecodeRune(r, lo)), i + 6, nil
				}
			}
			return appendSurrogate(buf, r), i, nil
		}
		return utf8.AppendRune(buf, r), i, nil
	}
	name, ok := describeChar(data[i+1:])
	if !ok {
		return buf, i, d.errorf(i+1, "invalid UTF-8")
	}
	return buf, i, d.errorf(i, "invalid escape sequence: %s cannot follow a backslash", name)
}

// hex4 decodes the four hexadecimal digits that start b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// errHex reports the malformed \u escape at data[i].
func (d *decoder) errHex(i int) error {
	for j := i + 2; j < i+6; j++ {
		if j >= len(d.data) {
			return d.errEOF()
		}
		if c := d.data[j] | 0x20; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			break
		}
	}
	return d.errorf(i, `invalid escape sequence: \u needs four hexadecimal digits`)
}

// appendSurrogate appends the three-byte generalized UTF-8 form of the surrogate code
// point r, which utf8.AppendRune would replace with U+FFFD.
func appendSurrogate(buf []byte, r rune) []byte {
	return append(buf, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
}

func (d *decoder) errControl(i int) error {
	return d.errorf(i, "control character %s in string must be escaped", unicodeName(rune(d.data[i])))
}
