package payload

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// SyntaxError describes why [Decode] rejected its input: the input is not JSON, or it is
// JSON that this package refuses (see the package documentation). Its fields and its
// Error text are safe to show to whoever sent the input.
type SyntaxError struct {
	// Offset is the byte offset in the input at which the problem was found.
	Offset int64
	// Path locates the problem in the document: "$" for the top-level value, then
	// ".name" or ["name"] for an object member and [i] for an array element, as in
	// $.items[3].price. A problem with a key, such as a duplicate, names the object
	// that holds the key.
	Path string
	// Msg describes the problem in lowercase, without path or offset, as in
	// "number out of range".
	Msg string
}

// Error returns the path, the message and the offset, as in
// `$.items[3].price: number out of range at offset 117`.
func (e *SyntaxError) Error() string {
	return e.Path + ": " + e.Msg + " at offset " + strconv.FormatInt(e.Offset, 10)
}

// pathElem is one step of a path: an object member when key is set (index < 0), an
// array element otherwise.
type pathElem struct {
	key   string
	index int
}

// maxShownKey bounds how much of a key an error message repeats, so that a huge key does
// not make a huge message.
const maxShownKey = 64

// appendPath renders elems, outermost first, as a path rooted at "$".
func appendPath(dst []byte, elems []pathElem) []byte {
	dst = append(dst, '$')
	for _, e := range elems {
		dst = appendPathElem(dst, e)
	}
	return dst
}

func appendPathElem(dst []byte, e pathElem) []byte {
	if e.index >= 0 {
		dst = append(dst, '[')
		dst = strconv.AppendInt(dst, int64(e.index), 10)
		return append(dst, ']')
	}
	if isIdentifier(e.key) && len(e.key) <= maxShownKey {
		dst = append(dst, '.')
		return append(dst, e.key...)
	}
	dst = append(dst, '[')
	dst = appendShownKey(dst, e.key)
	return append(dst, ']')
}

// appendShownKey appends key as a JSON string, cut to about maxShownKey bytes with "..."
// when longer.
func appendShownKey(dst []byte, key string) []byte {
	if len(key) <= maxShownKey {
		return appendString(dst, key)
	}
	cut := maxShownKey
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return appendString(dst, key[:cut]+"...")
}

// isIdentifier reports whether key can follow a dot in a path: an ASCII letter, '_' or
// '$', then any of those or digits.
func isIdentifier(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// describeChar names the character that starts at data[0] for an error message: 'x' for
// a printable character, U+XXXX otherwise. It reports false if data does not start with
// valid UTF-8.
func describeChar(data []byte) (string, bool) {
	r, size := utf8.DecodeRune(data)
	if r == utf8.RuneError && size <= 1 {
		return "", false
	}
	switch {
	case r == '\'':
		return `"'"`, true
	case r > ' ' && r < utf8.RuneSelf, r >= 0xA0 && strconv.IsPrint(r):
		return "'" + string(r) + "'", true
	}
	return unicodeName(r), true
}

// unicodeName returns r as U+XXXX.
func unicodeName(r rune) string { return fmt.Sprintf("U+%04X", r) }

// errorf returns a *SyntaxError at offset, located at the decoder's current path.
func (d *decoder) errorf(offset int, format string, args ...any) error {
	return &SyntaxError{
		Offset: int64(offset),
		Path:   string(appendPath(nil, d.path)),
		Msg:    fmt.Sprintf(format, args...),
	}
}

func (d *decoder) errEOF() error {
	return d.errorf(len(d.data), "unexpected end of input")
}

func (d *decoder) errDuplicate(offset int, key string) error {
	return d.errorf(offset, "duplicate key %s", appendShownKey(nil, key))
}

// unexpected reports the character at d.pos, which the grammar does not allow there;
// context completes the message.
func (d *decoder) unexpected(context string) error {
	if d.pos >= len(d.data) {
		return d.errEOF()
	}
	name, ok := describeChar(d.data[d.pos:])
	if !ok {
		return d.errorf(d.pos, "invalid UTF-8")
	}
	return d.errorf(d.pos, "unexpected character %s%s", name, context)
}
