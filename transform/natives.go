package transform

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	textform "golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// The Go helpers below are handed to the sandbox prelude, which calls them from its
// guards. goja's own versions of these built-ins run in one Go call that the VM's
// interrupt cannot stop and whose result it does not bound: toUpperCase of a megabyte
// of accented text takes a third of a second on a busy machine, and
// 'ﷺ'.repeat(2 ** 20).normalize('NFKD') builds 18 Mi characters in five seconds. The
// helpers produce the same strings chunk by chunk, refusing a result longer than
// Limits.MaxStringLength and giving up as soon as the runtime is interrupted.

// chunkBytes is how much output a helper produces between two checks of the stop flag
// and of the size of its result.
const chunkBytes = 16 << 10

// sinceStart is the clock of the prelude's regular-expression guards: milliseconds
// since the runtime was made, monotonic.
func (m *vm) sinceStart(goja.FunctionCall) goja.Value {
	return m.rt.ToValue(float64(time.Since(m.born)) / float64(time.Millisecond))
}

// mapString is the prelude's mapString(op, s): s upper- or lower-cased, or normalized
// to one of the four Unicode forms, exactly as goja's built-ins do it, but bounded. op
// is "upper", "lower", "NFC", "NFD", "NFKC" or "NFKD" (the guard checks the form).
// The string is read, transformed and built back in chunks, with no pass over the
// whole of it in one go: on a megabyte, even one copy in Go takes tens of
// milliseconds on a busy machine.
func (m *vm) mapString(call goja.FunctionCall) goja.Value {
	op := call.Argument(0).String()
	s, ok := call.Argument(1).(goja.String)
	if !ok {
		panic(m.rt.NewTypeError("mapString: not a string"))
	}
	var t textform.Transformer
	switch op {
	case "upper":
		t = cases.Upper(language.Und)
	case "lower":
		t = cases.Lower(language.Und)
	case "NFC":
		t = norm.NFC
	case "NFD":
		t = norm.NFD
	case "NFKC":
		t = norm.NFKC
	case "NFKD":
		t = norm.NFKD
	default:
		panic(m.rt.NewTypeError("mapString: unknown operation " + op))
	}
	out, err := m.transformBounded(t, s.Reader())
	switch {
	case errors.Is(err, errStopped):
		// The VM raises the interrupt at the guard's next instruction.
		return goja.Undefined()
	case errors.Is(err, errTooLong):
		panic(m.rangeError("string length exceeds the sandbox limit of %d", m.limits.MaxStringLength))
	case err != nil:
		panic(m.rt.NewTypeError("mapString: " + err.Error()))
	}
	if op == "lower" {
		lowerSigmaWorkaround(out)
	}
	return goja.StringFromUTF16(out)
}

var (
	errStopped = errors.New("the runtime was interrupted")
	errTooLong = errors.New("the result is too long")
)

// transformBounded runs t over the characters of r as transform.String would, in
// chunks, and returns the result in UTF-16. It fails with errTooLong when the result
// would exceed MaxStringLength code units, errStopped when the runtime was told to
// stop. The whole input is read first: given its text in pieces, x/text's lower-case
// mapping misses a final sigma at the very end.
func (m *vm) transformBounded(t textform.Transformer, r io.RuneReader) ([]uint16, error) {
	src, err := io.ReadAll(&runeSource{r: r, stop: &m.stop})
	if err != nil {
		return nil, err
	}
	t.Reset()
	var out []uint16
	dst := make([]byte, chunkBytes)
	for {
		if m.stop.Load() {
			return nil, errStopped
		}
		nDst, nSrc, err := t.Transform(dst, src, true)
		for b := dst[:nDst]; len(b) > 0; {
			c, size := utf8.DecodeRune(b)
			out = utf16.AppendRune(out, c)
			b = b[size:]
		}
		if len(out) > m.limits.MaxStringLength {
			return nil, errTooLong
		}
		src = src[nSrc:]
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, textform.ErrShortDst):
			if nDst == 0 && nSrc == 0 {
				dst = make([]byte, 2*len(dst)) // one segment longer than the buffer
			}
		default:
			return nil, err
		}
	}
}

// runeSource reads a JavaScript string as UTF-8, a chunk at a time, until the
// runtime is told to stop.
type runeSource struct {
	r    io.RuneReader
	stop *atomic.Bool
}

func (s *runeSource) Read(p []byte) (int, error) {
	if s.stop.Load() {
		return 0, errStopped
	}
	n := 0
	for n+utf8.UTFMax <= len(p) {
		c, _, err := s.r.ReadRune()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		n += utf8.EncodeRune(p[n:], c)
	}
	return n, nil
}

// lowerSigmaWorkaround repeats, in place, the correction goja applies after
// cases.Lower (see goja's toLower), so that the guarded toLowerCase returns what
// goja's does. The characters involved are all single UTF-16 code units.
func lowerSigmaWorkaround(r []uint16) {
	for i := 0; i < len(r)-1; i++ {
		if (i == 0 || r[i-1] != 0x3b1) && r[i] == 0x345 && r[i+1] == 0x3c2 {
			i++
			r[i] = 0x3c3
		}
	}
}

func (m *vm) rangeError(format string, args ...any) *goja.Object {
	ctor := m.rt.Get("RangeError")
	obj, err := m.rt.New(ctor, m.rt.ToValue(fmt.Sprintf(format, args...)))
	if err != nil {
		panic(err)
	}
	return obj
}
