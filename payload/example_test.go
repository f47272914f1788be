package payload_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hookflow/hookflow/payload"
)

func ExampleCanonicalize() {
	body, err := payload.Canonicalize([]byte(`{
		"name": "Caf\u00e9 <Bleu>",
		"price": 12.50,
		"stock": 1e3,
		"2": "array-index keys come first",
		"1": "in ascending order"
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(body))
	// Output:
	// {"1":"in ascending order","2":"array-index keys come first","name":"Café <Bleu>","price":12.5,"stock":1000}
}

func ExampleDecodeObject() {
	_, err := payload.DecodeObject([]byte(`{"items":[{"sku":"A1","price":1e400}]}`))
	var se *payload.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Path)
		fmt.Println(se.Msg)
		fmt.Println(err)
	}
	// Output:
	// $.items[0].price
	// number out of range
	// $.items[0].price: number out of range at offset 30
}

func ExampleObject_Set() {
	o := payload.NewObject(3)
	o.Set("id", "evt_1")
	o.Set("10", "ten")
	o.Set("9", "nine")
	fmt.Println(o.Keys())
	fmt.Println(string(payload.Marshal(o)))
	// Output:
	// [9 10 id]
	// {"9":"nine","10":"ten","id":"evt_1"}
}

func ExampleAppend() {
	// Build a delivery envelope around a payload that is already canonical.
	canonical, _ := payload.Canonicalize([]byte(`{"order_id": 42}`))
	env := payload.NewObject(2)
	env.Set("event", map[string]any{"name": "order", "type": "placed"})
	env.Set("payload", json.RawMessage(canonical))
	fmt.Println(string(payload.Append(nil, env)))
	// Output:
	// {"event":{"name":"order","type":"placed"},"payload":{"order_id":42}}
}
