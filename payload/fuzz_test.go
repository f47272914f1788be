package payload_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookflow/hookflow/payload"
)

// TestFixedPoint checks, over the whole test corpus, every property FuzzDecode checks.
func TestFixedPoint(t *testing.T) {
	for _, in := range corpus(t) {
		checkDecode(t, in)
	}
}

// FuzzDecode checks that Decode never panics, that it accepts no more than
// encoding/json does, that it rejects no less except on purpose, that it decodes the same
// values, and that what Marshal prints is a fixed point of Canonicalize. Its seed corpus
// is in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
	})
}

func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	v, err := payload.Decode(data)
	if err != nil {
		var se *payload.SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("Decode(%q) error is %T, want *payload.SyntaxError", data, err)
		}
		if se.Offset < 0 || se.Offset > int64(len(data)) || !strings.HasPrefix(se.Path, "$") || se.Msg == "" {
			t.Fatalf("Decode(%q): malformed error %#v", data, se)
		}
		if json.Valid(data) && !isDocumentedRejection(err) {
			t.Fatalf("Decode(%q) rejects valid JSON: %v", data, err)
		}
		if _, objErr := payload.DecodeObject(data); objErr == nil {
			t.Fatalf("DecodeObject(%q) accepts what Decode rejects", data)
		}
		return
	}
	if !json.Valid(data) {
		t.Fatalf("Decode(%q) accepts invalid JSON", data)
	}
	var std any
	if err := json.Unmarshal(data, &std); err != nil {
		t.Fatalf("encoding/json rejects %q: %v", data, err)
	}
	if path, ok := sameValue(v, std, "$"); !ok {
		t.Fatalf("Decode(%q) differs from encoding/json at %s", data, path)
	}
	if _, isObject := v.(*payload.Object); isObject {
		if _, err := payload.DecodeObject(data); err != nil {
			t.Fatalf("DecodeObject(%q): %v", data, err)
		}
	}

	out := payload.Marshal(v)
	if !utf8.Valid(out) || !json.Valid(out) {
		t.Fatalf("Marshal(Decode(%q)) = %q, not valid JSON in UTF-8", data, out)
	}
	canon, err := payload.Canonicalize(data)
	if err != nil || !bytes.Equal(canon, out) {
		t.Fatalf("Canonicalize(%q) = %q, %v; want %q", data, canon, err, out)
	}
	again, err := payload.Canonicalize(out)
	if err != nil {
		t.Fatalf("Canonicalize(%q) of Marshal output: %v", out, err)
	}
	if !bytes.Equal(again, out) {
		t.Fatalf("not a fixed point:\n input: %q\n  once: %q\n twice: %q", data, out, again)
	}
}

// sameValue compares a value of the document model with what encoding/json decodes from
// the same text. encoding/json replaces lone surrogates with U+FFFD and keeps the last
// of duplicate keys, which Decode rejects.
func sameValue(ours, std any, path string) (string, bool) {
	switch o := ours.(type) {
	case nil, bool:
		return path, o == std
	case float64:
		s, ok := std.(float64)
		return path, ok && (o == s && math.Signbit(o) == math.Signbit(s))
	case string:
		return path, replaceSurrogates(o) == std
	case []any:
		s, ok := std.([]any)
		if !ok || len(s) != len(o) {
			return path, false
		}
		for i := range o {
			if p, ok := sameValue(o[i], s[i], path+"[]"); !ok {
				return p, false
			}
		}
		return path, true
	case *payload.Object:
		s, ok := std.(map[string]any)
		if !ok {
			return path, false
		}
		if len(s) != o.Len() {
			// Keys that differ only in their lone surrogates are one key to encoding/json.
			return path, len(s) < o.Len() && hasSurrogates(o.Keys())
		}
		for i := range o.Len() {
			k, v := o.At(i)
			sv, ok := s[replaceSurrogates(k)]
			if !ok {
				return path + "." + k, false
			}
			if p, ok := sameValue(v, sv, path+"."+k); !ok {
				return p, false
			}
		}
		return path, true
	}
	return path, false
}

// replaceSurrogates replaces each lone surrogate held in generalized UTF-8 with U+FFFD.
func replaceSurrogates(s string) string {
	if !strings.Contains(s, "\xed") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0xED && i+2 < len(s) && s[i+1] >= 0xA0 {
			b.WriteRune(utf8.RuneError)
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func hasSurrogates(keys []string) bool {
	for _, k := range keys {
		if replaceSurrogates(k) != k {
			return true
		}
	}
	return false
}

// FuzzMarshalString checks that any Go string, UTF-8 or not, prints as valid JSON that
// decodes back to the same string when it is UTF-8, and to a fixed point otherwise.
func FuzzMarshalString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\x00\x1f\x7f", "é😀\u2028", "\xff\xed\xa0\x80", "\xed\xa0\xbd\xed\xb8\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := payload.Marshal(s)
		if !utf8.Valid(out) || !json.Valid(out) {
			t.Fatalf("Marshal(%q) = %q, not valid JSON in UTF-8", s, out)
		}
		v, err := payload.Decode(out)
		if err != nil {
			t.Fatalf("Decode(Marshal(%q)): %v", s, err)
		}
		if utf8.ValidString(s) && v != s {
			t.Fatalf("Decode(Marshal(%q)) = %q", s, v)
		}
		if again := payload.Marshal(v); !bytes.Equal(again, out) {
			t.Fatalf("Marshal(%q) = %q, but its decoding prints %q", s, out, again)
		}
	})
}
