package payload_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/payload"
)

// rejectCases are inputs that Decode must reject, with the error it returns.
var rejectCases = []struct {
	name, in, err string
}{
	// Refused although JSON.parse accepts them (see the package documentation).
	{"InvalidUTF8InString", "{\"name\":\"caf\xe9\"}", `$.name: invalid UTF-8 at offset 12`},
	{"InvalidUTF8InKey", "{\"a\":1,\"\xff\":2}", `$: invalid UTF-8 at offset 8`},
	{"InvalidUTF8AfterEscape", "[\"\\n\xc3\"]", `$[0]: invalid UTF-8 at offset 4`},
	{"InvalidUTF8OutsideString", "[1,\xff]", `$[1]: invalid UTF-8 at offset 3`},
	{"RawSurrogate", "[\"\xed\xa0\x80\"]", `$[0]: invalid UTF-8 at offset 2`},
	{"Overlong", "[\"\xc0\xaf\"]", `$[0]: invalid UTF-8 at offset 2`},
	{"DuplicateKey", `{"uid":1,"uid":2}`, `$: duplicate key "uid" at offset 9`},
	{"DuplicateKeyNested", `{"brand":{"uid":1,"name":"x","uid":2}}`, `$.brand: duplicate key "uid" at offset 29`},
	{"DuplicateKeyInArray", `{"a":[{},{"k":1,"k":1}]}`, `$.a[1]: duplicate key "k" at offset 16`},
	{"DuplicateKeyEscaped", `{"a":1,"\u0061":2}`, `$: duplicate key "a" at offset 7`},
	{"DuplicateIndexKey", `{"1":1,"b":2,"1":3}`, `$: duplicate key "1" at offset 13`},
	{"NumberOutOfRange", `{"items":[{},{},{},{"price":1e400}]}`, `$.items[3].price: number out of range at offset 28`},
	{"NegativeOutOfRange", `[-1.8e308]`, `$[0]: number out of range at offset 1`},
	{"HugeInteger", "[1" + strings.Repeat("0", 400) + "]", `$[0]: number out of range at offset 1`},

	// Not JSON.
	{"Empty", ``, `$: unexpected end of input at offset 0`},
	{"OnlySpace", " \n", `$: unexpected end of input at offset 2`},
	{"TrailingGarbage", `{"a":1}x`, `$: unexpected character 'x' after the top-level value at offset 7`},
	{"TwoValues", `{} {}`, `$: unexpected character '{' after the top-level value at offset 3`},
	{"TrailingNUL", "{}\x00", `$: unexpected character U+0000 after the top-level value at offset 2`},
	{"TruncatedObject", `{"a":1`, `$: unexpected end of input at offset 6`},
	{"TruncatedKey", `{"a`, `$: unexpected end of input at offset 3`},
	{"TruncatedAfterKey", `{"a"`, `$: unexpected end of input at offset 4`},
	{"TruncatedAfterColon", `{"a":`, `$.a: unexpected end of input at offset 5`},
	{"TruncatedArray", `[1,2`, `$: unexpected end of input at offset 4`},
	{"TruncatedString", `["abc`, `$[0]: unexpected end of input at offset 5`},
	{"TruncatedEscape", `["\`, `$[0]: unexpected end of input at offset 3`},
	{"TruncatedUnicodeEscape", `["\u00`, `$[0]: unexpected end of input at offset 6`},
	{"TruncatedLiteral", `[tru`, `$[0]: unexpected end of input at offset 4`},
	{"TruncatedNumber", `[-`, `$[0]: unexpected end of input at offset 2`},
	{"TruncatedFraction", `[1.`, `$[0]: unexpected end of input at offset 3`},
	{"TruncatedExponent", `[1e+`, `$[0]: unexpected end of input at offset 4`},
	{"LeadingZero", `{"n":01}`, `$.n: invalid number: leading zero at offset 5`},
	{"NegativeLeadingZero", `[-00]`, `$[0]: invalid number: leading zero at offset 1`},
	{"LeadingPlus", `[+1]`, `$[0]: unexpected character '+', expected a value at offset 1`},
	{"LeadingDot", `[.5]`, `$[0]: unexpected character '.', expected a value at offset 1`},
	{"TrailingDot", `[1.]`, `$[0]: invalid number: expected a digit after the decimal point at offset 3`},
	{"MinusAlone", `[-]`, `$[0]: invalid number: expected a digit after '-' at offset 2`},
	{"EmptyExponent", `[1e]`, `$[0]: invalid number: expected a digit in the exponent at offset 3`},
	{"Hex", `[0x10]`, `$: unexpected character 'x', expected ',' or ']' at offset 2`},
	{"NaN", `{"n":NaN}`, `$.n: unexpected character 'N', expected a value at offset 5`},
	{"Infinity", `[Infinity]`, `$[0]: unexpected character 'I', expected a value at offset 1`},
	{"NegativeInfinity", `[-Infinity]`, `$[0]: invalid number: expected a digit after '-' at offset 2`},
	{"SingleQuotedKey", `{'a':1}`, `$: unexpected character "'", expected a string key at offset 1`},
	{"SingleQuotedValue", `{"a":'b'}`, `$.a: unexpected character "'", expected a value at offset 5`},
	{"UnquotedKey", `{a:1}`, `$: unexpected character 'a', expected a string key at offset 1`},
	{"MissingColon", `{"a" 1}`, `$: unexpected character '1', expected ':' at offset 5`},
	{"MissingComma", `{"a":1 "b":2}`, `$: unexpected character '"', expected ',' or '}' at offset 7`},
	{"TrailingCommaObject", `{"a":1,}`, `$: unexpected character '}', expected a string key at offset 7`},
	{"TrailingCommaArray", `[1,]`, `$[1]: unexpected character ']', expected a value at offset 3`},
	{"LeadingComma", `[,1]`, `$[0]: unexpected character ',', expected a value at offset 1`},
	{"BadLiteral", `[trUe]`, `$[0]: unexpected character 'U' in literal true at offset 3`},
	{"Nul", `[nul]`, `$[0]: unexpected character ']' in literal null at offset 4`},
	{"LiteralSuffix", `[nullx]`, `$: unexpected character 'x', expected ',' or ']' at offset 5`},
	{"Comment", `{"a":1 /* c */}`, `$: unexpected character '/', expected ',' or '}' at offset 7`},
	{"ControlCharInString", "[\"a\nb\"]", `$[0]: control character U+000A in string must be escaped at offset 3`},
	{"TabInString", "{\"k\":\"a\tb\"}", `$.k: control character U+0009 in string must be escaped at offset 7`},
	{"ControlCharInKey", "{\"a\x01\":1}", `$: control character U+0001 in string must be escaped at offset 3`},
	{"BadEscape", `["\x41"]`, `$[0]: invalid escape sequence: 'x' cannot follow a backslash at offset 2`},
	{"BadUnicodeEscape", `["\u12G4"]`, `$[0]: invalid escape sequence: \u needs four hexadecimal digits at offset 2`},
	{"BadLowSurrogateEscape", `["\ud800\u12"]`, `$[0]: invalid escape sequence: \u needs four hexadecimal digits at offset 8`},
	{"ByteOrderMark", "\ufeff{}", `$: unexpected character U+FEFF, expected a value at offset 0`},
	{"VerticalTab", "\v{}", `$: unexpected character U+000B, expected a value at offset 0`},
	{"NonBreakingSpace", "\u00a0{}", `$: unexpected character U+00A0, expected a value at offset 0`},
	{"NonASCIILetter", `[é]`, `$[0]: unexpected character 'é', expected a value at offset 1`},
	{"QuotedPath", `{"a b":{"1x":[{"ok":-}]}}`, `$["a b"]["1x"][0].ok: invalid number: expected a digit after '-' at offset 21`},
	{"LongKeyShortened", `{"` + strings.Repeat("k", 100) + `":x}`, `$["` + strings.Repeat("k", 64) + `..."]: unexpected character 'x', expected a value at offset 104`},
	{"CloseMismatch", `[1}`, `$: unexpected character '}', expected ',' or ']' at offset 2`},
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range rejectCases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := payload.Decode([]byte(tc.in))
			if err == nil {
				t.Fatalf("Decode(%q) = %v, want error", tc.in, v)
			}
			if got, want := err.Error(), tc.err; got != want {
				t.Errorf("Decode(%q) error\n got: %s\nwant: %s", tc.in, got, want)
			}
			var se *payload.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is %T, want *payload.SyntaxError", err)
			}
			if se.Offset < 0 || se.Offset > int64(len(tc.in)) {
				t.Errorf("Offset = %d, outside the input", se.Offset)
			}
		})
	}
}

func TestDecodeObjectRejectsOtherValues(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{`[]`, `$: the top-level value must be an object, not an array at offset 0`},
		{` "x"`, `$: the top-level value must be an object, not a string at offset 1`},
		{`12`, `$: the top-level value must be an object, not a number at offset 0`},
		{`-1`, `$: the top-level value must be an object, not a number at offset 0`},
		{`true`, `$: the top-level value must be an object, not a boolean at offset 0`},
		{`false`, `$: the top-level value must be an object, not a boolean at offset 0`},
		{`null`, `$: the top-level value must be an object, not null at offset 0`},
		{``, `$: unexpected end of input at offset 0`},
		{`{"a":1`, `$: unexpected end of input at offset 6`},
		{`x`, `$: unexpected character 'x', expected a value at offset 0`},
	} {
		if _, err := payload.DecodeObject([]byte(tc.in)); err == nil {
			t.Errorf("DecodeObject(%q) succeeded, want error", tc.in)
		} else if got, want := err.Error(), tc.err; got != want {
			t.Errorf("DecodeObject(%q) error\n got: %s\nwant: %s", tc.in, got, want)
		}
	}
}

func TestDecodeDepth(t *testing.T) {
	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	for _, tc := range []struct {
		name, in, err string
	}{
		{"Arrays64", "[" + nest("[", "]", 63) + "]", ""},
		{"Objects64", nest(`{"a":`, "}", 64), ""},
		{"Arrays65", nest("[", "]", 65), `$` + strings.Repeat("[0]", 64) + `: nesting deeper than 64 levels at offset 64`},
		{"Objects65", nest(`{"a":`, "}", 65), `$` + strings.Repeat(".a", 64) + `: nesting deeper than 64 levels at offset 320`},
		{"Mixed65", nest(`[{"a":`, "}]", 33), `$` + strings.Repeat("[0].a", 32) + `: nesting deeper than 64 levels at offset 192`},
		// The decoder stops at depth 65, so neither the stack nor the time grows with this.
		{"Arrays1e6", strings.Repeat("[", 1_000_000), `$` + strings.Repeat("[0]", 64) + `: nesting deeper than 64 levels at offset 64`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := payload.Decode([]byte(tc.in))
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Decode succeeded, want error")
			}
			if got, want := err.Error(), tc.err; got != want {
				t.Errorf("Decode error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestDecodeModel(t *testing.T) {
	v, err := payload.Decode([]byte(`{"s":"x","n":-2.5,"i":3,"t":true,"f":false,"z":null,"a":[1,"b",[]],"o":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*payload.Object)
	for _, tc := range []struct {
		key  string
		want any
	}{
		{"s", "x"},
		{"n", -2.5},
		{"i", float64(3)},
		{"t", true},
		{"f", false},
		{"z", nil},
		{"a", []any{float64(1), "b", []any{}}},
		{"o", &payload.Object{}},
	} {
		got, ok := o.Get(tc.key)
		if !ok {
			t.Errorf("Get(%q): missing", tc.key)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Get(%q) = %#v, want %#v", tc.key, got, tc.want)
		}
	}
	if a, _ := o.Get("a"); a.([]any)[2] == nil {
		t.Error("an empty array decoded as a nil slice")
	}
}

func TestDecodeTopLevelScalars(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{`null`, nil},
		{` true `, true},
		{"\t\r\nfalse", false},
		{`"s"`, "s"},
		{`-0.5`, -0.5},
	} {
		got, err := payload.Decode([]byte(tc.in))
		if err != nil {
			t.Errorf("Decode(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Decode(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}
