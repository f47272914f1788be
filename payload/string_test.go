package payload_test

import (
	"strings"
	"testing"

	"github.com/hookflow/hookflow/payload"
)

// stringCases are JSON strings and what JSON.stringify(JSON.parse(in)) prints for them;
// the differential test checks every want against Node.js too.
var stringCases = []struct {
	name, in, want string
}{
	{"Empty", `""`, `""`},
	{"ASCII", `"hello, world"`, `"hello, world"`},
	{"ShortEscapes", `"\b\f\n\r\t"`, `"\b\f\n\r\t"`},
	{"ShortEscapesAsU", `"\u0008\u000C\u000a\u000D\u0009"`, `"\b\f\n\r\t"`},
	{"NUL", `"a\u0000b"`, `"a\u0000b"`},
	{"OtherControls", `"\u0001\u001F\u000b\u001b"`, `"\u0001\u001f\u000b\u001b"`},
	{"DEL", `"\u007f"`, "\"\x7f\""},
	{"C1Control", `"\u0085"`, "\"\u0085\""},
	{"QuoteAndBackslash", `"\"\\"`, `"\"\\"`},
	{"Solidus", `"\/a/b"`, `"/a/b"`},
	{"HTML", `"<script>&amp;</script>"`, `"<script>&amp;</script>"`},
	{"HTMLEscaped", `"\u003c\u003e\u0026"`, `"<>&"`},
	{"LineSeparators", `"\u2028\u2029"`, "\"\u2028\u2029\""},
	{"LineSeparatorsRaw", "\"\u2028\u2029\"", "\"\u2028\u2029\""},
	{"Latin", `"é"`, `"é"`},
	{"LatinEscaped", `"\u00e9\u00C9"`, `"éÉ"`},
	{"Rupee", `"₹"`, `"₹"`},
	{"Emoji", `"😀"`, `"😀"`},
	{"EmojiEscaped", `"\ud83d\ude00"`, `"😀"`},
	{"EmojiEscapedUpper", `"\uD83D\uDE00"`, `"😀"`},
	{"FirstSupplementary", `"\ud800\udc00"`, "\"\U00010000\""},
	{"LastSupplementary", `"\udbff\udfff"`, "\"\U0010FFFF\""},
	{"LoneHigh", `"\ud800"`, `"\ud800"`},
	{"LoneHighUpper", `"\uDBFF"`, `"\udbff"`},
	{"LoneLow", `"\udc00"`, `"\udc00"`},
	{"LoneLowLast", `"\uDFFF"`, `"\udfff"`},
	{"HighThenLetter", `"\ud83dA"`, `"\ud83dA"`},
	{"HighThenEscapedLetter", `"\ud83d\u0041"`, `"\ud83dA"`},
	{"LowThenHigh", `"\ude00\ud83d"`, `"\ude00\ud83d"`},
	{"HighHighLow", `"\ud83d\ud83d\ude00"`, `"\ud83d😀"`},
	{"HighThenNewline", `"\ud83d\n"`, `"\ud83d\n"`},
	{"HighAtEnd", `"abc\ud83d"`, `"abc\ud83d"`},
	{"Noncharacter", `"\uffff\ufffe"`, "\"\uffff\ufffe\""},
	{"ReplacementChar", `"\ufffd"`, "\"\ufffd\""},
	{"BOM", `"\ufeff"`, "\"\ufeff\""},
	{"Mixed", `"a\"b\\c\/d\u00e9\ud83d\ude00\n"`, `"a\"b\\c/dé😀\n"`},
}

func TestCanonicalizeStrings(t *testing.T) {
	for _, tc := range stringCases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := payload.Canonicalize([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(out), tc.want; got != want {
				t.Errorf("Canonicalize(%s) = %s, want %s", tc.in, got, want)
			}
		})
	}
}

func TestDecodeStrings(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"Escapes", `"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{"Pair", `"\ud83d\ude00"`, "😀"},
		{"LoneHighIsWTF8", `"\ud800"`, "\xed\xa0\x80"},
		{"LoneLowIsWTF8", `"\udfff"`, "\xed\xbf\xbf"},
		{"NUL", `"\u0000"`, "\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := payload.Decode([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := v.(string), tc.want; got != want {
				t.Errorf("Decode(%s) = %q, want %q", tc.in, got, want)
			}
		})
	}
}

func TestMarshalGoStrings(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"Plain", "abc", `"abc"`},
		{"Controls", "\x00\x1f\n", `"\u0000\u001f\n"`},
		{"InvalidUTF8", "a\xffb", "\"a\ufffdb\""},
		{"TruncatedSequence", "a\xe2\x82", "\"a\ufffd\ufffd\""},
		{"RawSurrogateHigh", "\xed\xa0\xbd", `"\ud83d"`},
		{"WTF8PairIsOneCharacter", "\xed\xa0\xbd\xed\xb8\x80", `"😀"`},
		{"WTF8LowThenHigh", "\xed\xb8\x80\xed\xa0\xbd", `"\ude00\ud83d"`},
		{"TruncatedSurrogate", "\xed\xa0", "\"\ufffd\ufffd\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := string(payload.Marshal(tc.in)), tc.want; got != want {
				t.Errorf("Marshal(%q) = %s, want %s", tc.in, got, want)
			}
		})
	}
}

func TestStringsAcrossWordBoundaries(t *testing.T) {
	// The scanners test eight bytes at a time; put each kind of special byte at every
	// offset of strings of several lengths.
	for _, sp := range []struct{ raw, escaped string }{
		{`"`, `\"`},
		{`\`, `\\`},
		{"\x00", `\u0000`},
		{"\n", `\n`},
		{"\x1f", `\u001f`},
		{"\x7f", "\x7f"},
		{"é", "é"},
		{"😀", "😀"},
		{"\u2028", "\u2028"},
		{"\xed\xa0\x80", `\ud800`},
	} {
		for n := range 20 {
			for p := 0; p <= n; p++ {
				s := strings.Repeat("a", p) + sp.raw + strings.Repeat("b", n-p)
				want := `"` + strings.Repeat("a", p) + sp.escaped + strings.Repeat("b", n-p) + `"`
				out := payload.Marshal(s)
				if got := string(out); got != want {
					t.Fatalf("Marshal(%q) = %s, want %s", s, got, want)
				}
				v, err := payload.Decode(out)
				if err != nil {
					t.Fatalf("Decode(%s): %v", out, err)
				}
				if got := v.(string); got != s {
					t.Fatalf("Decode(%s) = %q, want %q", out, got, s)
				}
			}
		}
	}
}
