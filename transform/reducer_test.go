package transform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/transform"
)

func TestReducer_Apply(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, productJSON)
	tests := []struct {
		name, config, want string
	}{
		{"DesignExample", `{"brand_name":"$.brand.name","logo":{"url":"$.brand.logo"}}`,
			`{"brand_name":"Acme Outdoor","logo":{"url":"https://cdn.example.com/brands/238/logo.png"}}`},
		{"KeysInReducerOrder", `{"z":"$.uid","a":"$.slug","m":"$.currency"}`,
			`{"z":7501,"a":"trail-runner-2-mens-shoes","m":"INR"}`},
		{"ArrayIndexKeysFirstAsJSONParse", `{"b":"$.uid","1":"$.currency"}`, `{"1":"INR","b":7501}`},
		{"MissingIsNull", `{"gone":"$.nothing.here","idx":"$.items[9]"}`, `{"gone":null,"idx":null}`},
		{"NullValueIsNull", `{"n":"$.brand.uid.deeper"}`, `{"n":null}`},
		{"ObjectValue", `{"brand":"$.brand"}`, `{"brand":{"uid":238,"name":"Acme Outdoor","logo":"https://cdn.example.com/brands/238/logo.png"}}`},
		{"WholePayloadRoot", `{"all":"$"}`, `{"all":` + string(payload.Marshal(doc)) + `}`},
		{"Literals", `{"version":2,"live":true,"off":false,"none":null,"src":"$.uid"}`, `{"version":2,"live":true,"off":false,"none":null,"src":7501}`},
		{"Arrays", `{"pair":["$.brand.uid","$.category.uid",3],"empty":[],"nested":[["$.currency"]]}`,
			`{"pair":[238,91,3],"empty":[],"nested":[["INR"]]}`},
		{"EmptyObject", `{"meta":{}}`, `{"meta":{}}`},
		{"DeepShape", `{"a":{"b":{"c":{"d":"$.brand.uid"}}}}`, `{"a":{"b":{"c":{"d":238}}}}`},
		{"NegativeIndex", `{"last":"$.items[-1].size"}`, `{"last":"10"}`},
		{"BracketChild", `{"c":"$['country_of_origin']"}`, `{"c":"India"}`},
		{"WildcardIsArray", `{"sizes":"$.items[*].size"}`, `{"sizes":["7","8","9","10"]}`},
		{"WildcardOnObject", `{"v":"$.category.*"}`, `{"v":[91,"Running Shoes","running-shoes"]}`},
		{"SingleWildcardMatchIsStillArray", `{"v":"$.media[?(@.url =~ /side/)].type"}`, `{"v":["image"]}`},
		{"NoMatchIndefiniteIsEmptyArray", `{"v":"$.items[?(@.price > 100000)].size"}`, `{"v":[]}`},
		{"FilterSelector", `{"available":"$.items[?(@.is_available == true)].size"}`, `{"available":["7","9","10"]}`},
		{"SliceSelector", `{"first2":"$.items[0:2].size","rev":"$.items[::-1].size","step":"$.items[::2].size"}`,
			`{"first2":["7","8"],"rev":["7","8","9","10"],"step":["7","9"]}`},
		{"UnionSelector", `{"u":"$.items[3,0].size"}`, `{"u":["7","10"]}`},
		{"Descent", `{"uids":"$..uid"}`, `{"uids":[7501,238,91]}`},
		{"DescentWildcardOrder", `{"v":"$.price..*"}`, `{"v":[{"min":5999,"max":6499},5999,6499,{"min":4499,"max":4999},4499,4999]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := MustReducer(t, e, tt.config).Apply(doc)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if _, ok := out.(*payload.Object); !ok {
				t.Fatalf("Apply returned %T, want *payload.Object", out)
			}
			if got := string(payload.Marshal(out)); got != tt.want {
				t.Fatalf("Apply =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestReducer_DocumentOrder pins the order of matches where ojg's own evaluation would
// differ: recursive descent lists shallow matches after deeper ones that come first in
// the text, and unions list their keys as written.
func TestReducer_DocumentOrder(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, `{"b":{"a":1,"c":{"a":2}},"a":3,"list":[{"a":4},{"x":{"a":5}}],"u":{"y":1,"x":2}}`)
	tests := []struct {
		name, query, want string
	}{
		{"DescentPreOrder", "$..a", `[1,2,3,4,5]`},
		{"DescentWithIndex", "$..list[1]", `[{"x":{"a":5}}]`},
		{"UnionInDocumentOrder", "$.u['x','y']", `[1,2]`},
		{"UnionDuplicateOnce", "$.u['x','x']", `[2]`},
		{"UnionOfIndexes", "$.list[1,0,1]", `[{"a":4},{"x":{"a":5}}]`},
		{"NegativeStepSlice", "$.list[::-1]", `[{"a":4},{"x":{"a":5}}]`},
		{"DescentFilter", "$..[?(@.a > 1)].a", `[2,4,5]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := MustReducer(t, e, `{"v":`+string(payload.Marshal(tt.query))+`}`).Apply(doc)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := out.(*payload.Object).Get("v")
			if got := string(payload.Marshal(v)); got != tt.want {
				t.Fatalf("%s = %s, want %s", tt.query, got, tt.want)
			}
		})
	}
}

func TestReducer_Absent(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	for _, config := range []string{"", "null", "{}", " {}\n"} {
		r, err := e.Reducer([]byte(config))
		if err != nil || r != nil {
			t.Fatalf("Reducer(%q) = %v, %v; want nil, nil", config, r, err)
		}
	}
	doc := MustDecode(t, productJSON)
	var r *transform.Reducer
	out, err := r.Apply(doc)
	if err != nil || out != doc {
		t.Fatalf("nil reducer: Apply = %v, %v; want the document itself", out, err)
	}
}

func TestReducer_ConfigErrors(t *testing.T) {
	e := transform.NewEngine(transform.Limits{MaxReducerDepth: 3, MaxReducerLeaves: 4})
	tests := []struct {
		name, config, field, message string
	}{
		{"NotJSON", `{"a":`, "", "invalid JSON"},
		{"NotObject", `["$.a"]`, "", "must be a JSON object"},
		{"StringNotQuery", `{"brand_name":"brand.name"}`, "brand_name", "starting with $"},
		{"NestedStringNotQuery", `{"logo":{"url":"https://example.com"}}`, "logo.url", "starting with $"},
		{"InArray", `{"list":["$.a","nope"]}`, "list[1]", "starting with $"},
		{"QuotedKey", `{"a.b":"x"}`, `["a.b"]`, "starting with $"},
		{"QuerySyntax", `{"a":"$.b["}`, "a", "invalid JSONPath"},
		{"TooDeep", `{"a":{"b":{"c":{"d":"$.x"}}}}`, "a.b.c", "at most 3 levels"},
		{"TooDeepArrays", `{"a":[[["$.x"]]]}`, "a[0][0]", "at most 3 levels"},
		{"TooManyLeaves", `{"a":1,"b":2,"c":3,"d":4,"e":5}`, "e", "more than 4 leaves"},
		{"EmptyContainersCount", `{"a":{},"b":[],"c":{},"d":[],"e":{}}`, "e", "more than 4 leaves"},
		{"QueryTooLong", `{"a":"$.` + strings.Repeat("x", 2000) + `"}`, "a", "longer than 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Reducer([]byte(tt.config))
			var ce *transform.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Reducer = %v; want a *ConfigError", err)
			}
			if ce.Field != tt.field || !strings.Contains(ce.Message, tt.message) {
				t.Errorf("got %q at %q, want %q at %q", ce.Message, ce.Field, tt.message, tt.field)
			}
		})
	}
}

func TestReducer_ConfigTooLarge(t *testing.T) {
	e := transform.NewEngine(transform.Limits{MaxConfigBytes: 100})
	_, err := e.Reducer([]byte(`{"a":"$.` + strings.Repeat("x", 100) + `"}`))
	var ce *transform.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "larger than 100 bytes") {
		t.Fatalf("Reducer = %v, want a size error", err)
	}
}
