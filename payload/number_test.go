package payload_test

import (
	"math"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/payload"
)

// numberCases are JSON numbers and what JSON.stringify(JSON.parse(in)) prints for them;
// the differential test checks every want against Node.js too.
var numberCases = []struct {
	in, want string
}{
	{"0", "0"},
	{"-0", "0"},
	{"-0.0", "0"},
	{"0.0e5", "0"},
	{"-1", "-1"},
	{"1.0", "1"},
	{"12.50", "12.5"},
	{"1e3", "1000"},
	{"1E+2", "100"},
	{"100", "100"},
	{"0.1", "0.1"},
	{"0.30000000000000004", "0.30000000000000004"},
	{"123.456", "123.456"},
	{"4.35", "4.35"},
	{"0.5e-6", "5e-7"},
	{"1e-6", "0.000001"},
	{"0.000001", "0.000001"},
	{"0.0000012345", "0.0000012345"},
	{"1e-7", "1e-7"},
	{"0.0000001", "1e-7"},
	{"123456789e-15", "1.23456789e-7"},
	{"-1.5e-10", "-1.5e-10"},
	{"123e-20", "1.23e-18"},
	{"5e-324", "5e-324"},
	{"2e-323", "2e-323"},
	{"2.2250738585072014e-308", "2.2250738585072014e-308"},
	{"1e-400", "0"},  // underflow rounds to zero, as in JSON.parse
	{"-1e-400", "0"}, // -0
	{"1.7976931348623157e308", "1.7976931348623157e+308"},
	{"1.7976931348623158e308", "1.7976931348623157e+308"}, // rounds down to the largest double
	{"1.5e300", "1.5e+300"},
	{"1e20", "100000000000000000000"},
	{"123456789012345678", "123456789012345680"},
	{"1e21", "1e+21"},
	{"999999999999999999999", "1e+21"},
	{"123456789012345678901", "123456789012345680000"},
	{"1234567890123456789012", "1.2345678901234568e+21"},
	{"9007199254740991", "9007199254740991"},   // 2^53-1
	{"9007199254740992", "9007199254740992"},   // 2^53
	{"9007199254740993", "9007199254740992"},   // 2^53+1 is not a double: the documented loss
	{"-9007199254740993", "-9007199254740992"}, // likewise
	{"9007199254740995", "9007199254740996"},
	{"18446744073709551615", "18446744073709552000"},
	{"0.1e1", "1"},
	{"1.25e2", "125"},
	{"25e-1", "2.5"},
	{"100000000000000000000000000000000000", "1e+35"},
	{"0e999999", "0"},
	{"-0.0e-999999", "0"},
	{"1e-99999999999999999999", "0"},
	{"0." + strings.Repeat("0", 400) + "1", "0"},
	{"1" + strings.Repeat("0", 300) + "e-200", "1e+100"},
	{"0." + strings.Repeat("0", 300) + "12345e300", "0.12345"},
	{"2.4703282292062328e-324", "5e-324"}, // just above half the smallest subnormal
	{"2.4703282292062327e-324", "0"},      // just below
}

func TestCanonicalizeNumbers(t *testing.T) {
	for _, tc := range numberCases {
		t.Run(tc.in, func(t *testing.T) {
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

func TestMarshalFloats(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{1, "1"},
		{-1, "-1"},
		{0.1, "0.1"},
		{1e21, "1e+21"},
		{1e-7, "1e-7"},
		{1 << 53, "9007199254740992"},
		{-1 << 53, "-9007199254740992"},
		{1<<53 + 2, "9007199254740994"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{-math.MaxFloat64, "-1.7976931348623157e+308"},
		{math.SmallestNonzeroFloat64, "5e-324"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
		{math.Inf(-1), "null"},
		{1.5, "1.5"},
		{-0.000001, "-0.000001"},
		{123456789.125, "123456789.125"},
	} {
		if got, want := string(payload.Marshal(tc.in)), tc.want; got != want {
			t.Errorf("Marshal(%v) = %s, want %s", tc.in, got, want)
		}
	}
}

func TestMarshalGoNumbers(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{int(-42), "-42"},
		{int8(-128), "-128"},
		{int16(32767), "32767"},
		{int32(-2147483648), "-2147483648"},
		{int64(1700000000000), "1700000000000"},
		{int64(math.MaxInt64), "9223372036854776000"},
		{int64(1<<53 + 1), "9007199254740992"},
		{uint(7), "7"},
		{uint8(255), "255"},
		{uint16(65535), "65535"},
		{uint32(4294967295), "4294967295"},
		{uint64(math.MaxUint64), "18446744073709552000"},
		{uintptr(3), "3"},
		{float32(0.1), "0.10000000149011612"},
		{float32(1.5), "1.5"},
		{float32(math.Inf(1)), "null"},
	} {
		if got, want := string(payload.Marshal(tc.in)), tc.want; got != want {
			t.Errorf("Marshal(%T(%v)) = %s, want %s", tc.in, tc.in, got, want)
		}
	}
}
