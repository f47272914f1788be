package transform_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/transform"
)

// The filter from Fynd's documentation: deliver only events about brand 238.
func ExampleEngine_Filter() {
	engine := transform.NewEngine(transform.DefaultLimits())

	filter, err := engine.Filter([]byte(`{"query": "$.brand.uid", "condition": "(uid) => uid === 238"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, event := range []string{`{"brand": {"uid": 238}}`, `{"brand": {"uid": 17}}`} {
		doc, _ := payload.Decode([]byte(event))
		deliver, err := filter.Match(context.Background(), doc)
		fmt.Println(event, deliver, err)
	}

	_, err = engine.Filter([]byte(`{"logic": "AND", "conditions": [{"query": "$.brand.uid", "condition": "uid =>"}]}`))
	var ce *transform.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field, "-", ce.Message)
	}
	// Output:
	// {"brand": {"uid": 238}} true <nil>
	// {"brand": {"uid": 17}} false <nil>
	// conditions[0].condition - JavaScript syntax error: unexpected end of the condition
}

// A reducer reshapes the payload; a definite query gives one value (null when absent),
// an indefinite one the array of its matches.
func ExampleEngine_Reducer() {
	engine := transform.NewEngine(transform.DefaultLimits())
	reducer, err := engine.Reducer([]byte(`{"brand_name": "$.brand.name", "logo": {"url": "$.brand.logo"}, "prices": "$.items[*].price"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, _ := payload.Decode([]byte(`{"brand": {"name": "Acme"}, "items": [{"price": 10}, {"price": 12}]}`))
	out, _ := reducer.Apply(doc)
	fmt.Println(string(payload.Marshal(out)))
	// Output:
	// {"brand_name":"Acme","logo":{"url":null},"prices":[10,12]}
}
