package transform_test

import (
	"context"
	"testing"

	"github.com/hookflow/hookflow/transform"
)

func BenchmarkFilterSimple(b *testing.B) {
	benchMatch(b, `{"query":"$.brand.uid","condition":"(uid) => uid === 238"}`)
}

// benchMatch measures a filter that matches the product document.
func benchMatch(b *testing.B, filter string) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(b, productJSON)
	f := MustFilter(b, e, filter)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := f.Match(ctx, doc)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkFilterNested(b *testing.B) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(b, productJSON)
	f := MustFilter(b, e, `{"logic":"AND","conditions":[
		{"query":"$.brand.uid","condition":"(uid) => uid === 238"},
		{"query":"$.is_active","condition":"(a) => a === true"},
		{"query":"$.price.effective.min","condition":"(p) => p < 5000"}]}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := f.Match(ctx, doc)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkReducer3Fields(b *testing.B) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(b, productJSON)
	r := MustReducer(b, e, `{"brand_name":"$.brand.name","logo":{"url":"$.brand.logo"},"price":"$.price.effective.min"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Apply(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilterParseCached(b *testing.B) {
	e := transform.NewEngine(transform.Limits{})
	config := []byte(`{"query":"$.brand.uid","condition":"(uid) => uid === 238"}`)
	MustFilter(b, e, string(config))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Filter(config); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilterFunctionExpression measures a condition that is not an arrow literal
// and so is instantiated afresh for every evaluation.
func BenchmarkFilterFunctionExpression(b *testing.B) {
	benchMatch(b, `{"query":"$.brand.uid","condition":"function (uid) { return uid === 238 }"}`)
}
