package payload_test

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// corpus returns the inputs that the differential and fixed-point tests run: every table
// of this package's tests, the benchmark payload, and generated documents. The generated
// part is the same on every run.
func corpus(tb testing.TB) [][]byte {
	tb.Helper()
	var inputs [][]byte
	add := func(s string) { inputs = append(inputs, []byte(s)) }
	for _, tc := range numberCases {
		add(tc.in)
		add("[" + tc.in + "]")
	}
	for _, tc := range stringCases {
		add(tc.in)
	}
	for _, tc := range keyOrderCases {
		add(tc.in)
	}
	for _, tc := range rejectCases {
		add(tc.in)
	}
	inputs = append(inputs, mustReadFile(tb, "testdata/product.json"))

	g := &docGen{r: rand.New(rand.NewPCG(2024, 5))}
	for range 400 {
		inputs = append(inputs, g.document())
	}
	// Numbers from random bit patterns test the shortest-digits formatting; each array
	// prints them in one of strconv's formats.
	for i := range 40 {
		b := []byte{'['}
		for j := range 50 {
			if j > 0 {
				b = append(b, ',')
			}
			b = g.randomDouble(b, "eEgf"[i%4])
		}
		inputs = append(inputs, append(b, ']'))
	}
	// Mutants of valid documents test that Decode accepts what JSON.parse accepts.
	for i := range 300 {
		doc := g.document()
		if m := g.mutate(doc); utf8.Valid(m) {
			inputs = append(inputs, m)
		} else if i%2 == 0 {
			inputs = append(inputs, doc)
		}
	}
	return inputs
}

func mustReadFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// docGen writes random JSON documents that exercise what canonicalization changes:
// whitespace, number spellings, string escapes, surrogates and array-index keys.
type docGen struct {
	r *rand.Rand
}

func (g *docGen) document() []byte {
	b := g.space(nil)
	b = g.object(b, 0)
	return g.space(b)
}

func (g *docGen) space(b []byte) []byte {
	for g.r.IntN(4) == 0 {
		b = append(b, " \t\n\r"[g.r.IntN(4)])
	}
	return b
}

func (g *docGen) value(b []byte, depth int) []byte {
	b = g.space(b)
	n := 10
	if depth > 4 {
		n = 8 // no more containers
	}
	switch g.r.IntN(n) {
	case 0, 1, 2:
		b = g.number(b)
	case 3, 4:
		b = g.string(b)
	case 5:
		b = append(b, []string{"true", "false", "null"}[g.r.IntN(3)]...)
	case 6, 7:
		b = g.randomDouble(b, "eEgf"[g.r.IntN(4)])
	case 8:
		b = g.array(b, depth+1)
	case 9:
		b = g.object(b, depth+1)
	}
	return g.space(b)
}

func (g *docGen) array(b []byte, depth int) []byte {
	b = append(b, '[')
	for i := range g.r.IntN(6) {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.value(b, depth)
	}
	return append(g.space(b), ']')
}

var genKeys = []string{
	"a", "b", "id", "uid", "name", "price", "_x", "$ref", "a b", "é", "😀", "", " ",
	"0", "1", "2", "9", "10", "01", "00", "-1", "1.5", "1e3", "+1", "4294967294",
	"4294967295", "4294967296", "99999999999", "__proto__", "constructor", "toString",
}

func (g *docGen) object(b []byte, depth int) []byte {
	b = append(b, '{')
	used := map[string]bool{}
	for i := range g.r.IntN(8) {
		var key []byte
		if g.r.IntN(3) == 0 {
			key = g.string(nil)
		} else {
			k := genKeys[g.r.IntN(len(genKeys))]
			if g.r.IntN(4) == 0 {
				k = strconv.Itoa(g.r.IntN(1000))
			}
			key = strconv.AppendQuote(nil, k) // these keys need no escapes that differ from JSON's
		}
		if used[string(key)] && g.r.IntN(20) != 0 {
			continue // now and then a duplicate, which Decode rejects
		}
		used[string(key)] = true
		if i > 0 {
			b = append(b, ',')
		}
		b = g.space(b)
		b = append(b, key...)
		b = g.space(b)
		b = append(b, ':')
		b = g.value(b, depth)
	}
	return append(g.space(b), '}')
}

func (g *docGen) number(b []byte) []byte {
	if g.r.IntN(3) == 0 {
		b = append(b, '-')
	}
	switch g.r.IntN(4) {
	case 0:
		b = strconv.AppendInt(b, g.r.Int64N(1000), 10)
	case 1:
		b = g.digits(b, 1+g.r.IntN(25))
	default:
		b = g.digits(b, 1+g.r.IntN(4))
	}
	if g.r.IntN(2) == 0 {
		b = append(b, '.')
		n := 1 + g.r.IntN(20)
		b = g.digits(b, n)
		for range g.r.IntN(3) {
			b = append(b, '0')
		}
	}
	if g.r.IntN(3) == 0 {
		b = append(b, "eE"[g.r.IntN(2)])
		switch g.r.IntN(3) {
		case 0:
			b = append(b, '+')
		case 1:
			b = append(b, '-')
		}
		b = strconv.AppendInt(b, int64(g.r.IntN(330)), 10)
	}
	return b
}

// digits appends n random digits without a leading zero.
func (g *docGen) digits(b []byte, n int) []byte {
	b = append(b, byte('1'+g.r.IntN(9)))
	for range n - 1 {
		b = append(b, byte('0'+g.r.IntN(10)))
	}
	return b
}

// randomDouble appends a finite double from random bits in a strconv format.
func (g *docGen) randomDouble(b []byte, format byte) []byte {
	var f float64
	for {
		f = math.Float64frombits(g.r.Uint64())
		if g.r.IntN(2) == 0 {
			f = math.Ldexp(float64(g.r.Uint64()>>11), g.r.IntN(140)-120) // near usual magnitudes
		}
		if !math.IsInf(f, 0) && !math.IsNaN(f) && (format != 'f' || math.Abs(f) < 1e30 && math.Abs(f) > 1e-30) {
			break
		}
	}
	prec := -1
	if g.r.IntN(3) == 0 {
		prec = g.r.IntN(25)
	}
	// Every strconv format of a finite double is valid JSON ("1e+06", "-0", "1.5E-07").
	return strconv.AppendFloat(b, f, format, prec, 64)
}

var genRunes = []string{
	"a", "Z", " ", "é", "ß", "₹", "中", "😀", "\u2028", "\u2029", "\u007f", "\u0085", "\ufeff",
	`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, "<", ">", "&", "'",
	`\u0000`, `\u001f`, `\u0020`, `\u00e9`, `\u2028`, `\uFFFF`, `\ud83d\ude00`, `\uD83D\uDE00`,
	`\ud800`, `\udbff`, `\udc00`, `\uDFFF`, `\ud83d\u0041`,
}

func (g *docGen) string(b []byte) []byte {
	b = append(b, '"')
	for range g.r.IntN(12) {
		if g.r.IntN(3) == 0 {
			b = append(b, byte('a'+g.r.IntN(26)))
			continue
		}
		b = append(b, genRunes[g.r.IntN(len(genRunes))]...)
		if g.r.IntN(10) == 0 {
			// Any code unit, in either case of hexadecimal digit.
			hex := strconv.FormatUint(0x10000+uint64(g.r.IntN(0x10000)), 16)[1:]
			if g.r.IntN(2) == 0 {
				hex = strings.ToUpper(hex)
			}
			b = append(b, `\u`...)
			b = append(b, hex...)
		}
	}
	return append(b, '"')
}

const mutantBytes = `{}[]:,"\ 0-.eE+tfnu`

// mutate returns doc with a few random ASCII edits, which usually make it invalid.
func (g *docGen) mutate(doc []byte) []byte {
	m := append([]byte(nil), doc...)
	for range 1 + g.r.IntN(2) {
		if len(m) == 0 {
			break
		}
		i := g.r.IntN(len(m))
		switch g.r.IntN(3) {
		case 0:
			m = append(m[:i], m[i+1:]...)
		case 1:
			m[i] = mutantBytes[g.r.IntN(len(mutantBytes))]
		case 2:
			m = slices.Insert(m, i, mutantBytes[g.r.IntN(len(mutantBytes))])
		}
	}
	return m
}
