package payload_test

import (
	"testing"

	"github.com/hookflow/hookflow/payload"
)

// The benchmarks use testdata/product.json, a 1 KiB product event payload (brand,
// prices, sizes, images) as a commerce platform sends it.

func BenchmarkDecode1KiB(b *testing.B) {
	data := mustReadFile(b, "testdata/product.json")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := payload.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal1KiB(b *testing.B) {
	data := mustReadFile(b, "testdata/product.json")
	v, err := payload.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		payload.Marshal(v)
	}
}

func BenchmarkCanonicalize1KiB(b *testing.B) {
	data := mustReadFile(b, "testdata/product.json")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := payload.Canonicalize(data); err != nil {
			b.Fatal(err)
		}
	}
}
