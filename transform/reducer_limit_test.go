package transform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/transform"
)

// deepDocument is a payload of depth levels, each holding a string of width bytes and
// the next level: about depth*width bytes of JSON, whose recursive descent $..*
// matches every level, each serialized with everything below it.
func deepDocument(depth, width int) string {
	var b strings.Builder
	for i := 0; i < depth; i++ {
		b.WriteString(`{"s":"` + strings.Repeat("x", width) + `","a":`)
	}
	b.WriteString(`null`)
	b.WriteString(strings.Repeat("}", depth))
	return b.String()
}

// TestReducer_BoundedResult checks that a reducer whose result outgrows
// Limits.MaxReducedBytes fails with ErrReducedTooLarge, and stops building the result
// when it does: the heap grows by little more than the limit, where the unbounded
// results of these reducers are 2 to 5 MB of JSON.
func TestReducer_BoundedResult(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	text := deepDocument(60, 3000) // about 180 KB, under payload.MaxDepth
	doc := MustDecode(t, text)
	for _, config := range []string{
		`{"all":"$..*"}`,
		`{"a":"$..a","b":"$..s","c":"$..*"}`,
		`{"copies":["$","$","$","$","$","$","$","$","$","$"]}`,
	} {
		t.Run(config, func(t *testing.T) {
			r := MustReducer(t, e, config)
			var err error
			peak, total := measureHeap(func() { _, err = r.Apply(doc) })
			var ee *transform.EvalError
			if !errors.As(err, &ee) || !errors.Is(err, transform.ErrReducedTooLarge) {
				t.Fatalf("Apply = %v, want an *EvalError wrapping ErrReducedTooLarge", err)
			}
			if !strings.Contains(ee.Message, "1048576 bytes") {
				t.Errorf("message %q does not name the limit", ee.Message)
			}
			if peak > 8<<20 || total > 16<<20 {
				t.Errorf("the heap grew by %.1f MiB, %.1f MiB allocated; want at most 8 and 16", float64(peak)/(1<<20), float64(total)/(1<<20))
			}
			t.Logf("%v; heap grew by %.1f MiB, %.1f MiB allocated", err, float64(peak)/(1<<20), float64(total)/(1<<20))
		})
	}
}

// TestReducer_LimitIsExact checks the limit against the exact length of the JSON
// text of the result: a result of exactly MaxReducedBytes passes, one byte less
// allowed fails.
func TestReducer_LimitIsExact(t *testing.T) {
	doc := MustDecode(t, productJSON)
	for _, config := range []string{
		`{"brand_name":"$.brand.name","logo":{"url":"$.brand.logo"},"price":"$.price.effective.min"}`,
		`{"all":"$..*","n":[1,true,null,"$.uid",{}],"e":[],"tags":"$.tags[*]","missing":"$.nope"}`,
		`{"\u00e9\"\\":"$.items[?(@.price > 4500)].size","u":"$['name','uid','name']"}`,
	} {
		out, err := MustReducer(t, transform.NewEngine(transform.Limits{}), config).Apply(doc)
		if err != nil {
			t.Fatalf("%s: %v", config, err)
		}
		size := len(payload.Marshal(out))
		exact := transform.NewEngine(transform.Limits{MaxReducedBytes: size})
		if _, err := MustReducer(t, exact, config).Apply(doc); err != nil {
			t.Errorf("%s: with the limit at the result's %d bytes: %v", config, size, err)
		}
		under := transform.NewEngine(transform.Limits{MaxReducedBytes: size - 1})
		if _, err := MustReducer(t, under, config).Apply(doc); !errors.Is(err, transform.ErrReducedTooLarge) {
			t.Errorf("%s: with the limit one byte under the result's %d: %v, want ErrReducedTooLarge", config, size, err)
		}
	}
}
