package transform_test

import (
	"testing"

	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/transform"
)

// TestQuery covers the JSONPath selectors through a reducer, which shows every match:
// a definite query gives its value or null, an indefinite one the array of its matches
// in document order.
func TestQuery(t *testing.T) {
	e := transform.NewEngine(transform.Limits{})
	doc := MustDecode(t, `{"a":[0,1,2,3,4,5],"o":{"x":1,"y":{"x":2},"z":[{"x":3}]},"s":"str","n":null,"2":"two"}`)
	tests := []struct {
		query, want string
	}{
		{"$.a[1]", `1`},
		{"$.a[-1]", `5`},
		{"$.a[6]", `null`},
		{"$.a[-7]", `null`},
		{"$['2']", `"two"`},
		{"$.n", `null`},
		{"$.s.length", `null`}, // JSONPath, not JavaScript: strings have no members
		{"$.s[0]", `null`},
		{"$.a[1:3]", `[1,2]`},
		{"$.a[:2]", `[0,1]`},
		{"$.a[4:]", `[4,5]`},
		{"$.a[-2:]", `[4,5]`},
		{"$.a[::2]", `[0,2,4]`},
		{"$.a[::-2]", `[1,3,5]`}, // document order, whatever the step
		{"$.a[5:1:-1]", `[2,3,4,5]`},
		{"$.a[1:5:0]", `[]`},
		{"$.a[10:20]", `[]`},
		{"$.a[3:1]", `[]`},
		{"$.a[0,0,1]", `[0,1]`},
		{"$.a[-1,0]", `[0,5]`},
		{"$.o['y','x']", `[1,{"x":2}]`},
		{"$.o['x','missing']", `[1]`},
		{"$.o[0]", `null`},
		{"$.a['x']", `null`},
		{"$.a[*]", `[0,1,2,3,4,5]`},
		{"$.s[*]", `[]`},
		{"$.o.*", `[1,{"x":2},[{"x":3}]]`},
		{"$..x", `[1,2,3]`},
		{"$.o..x", `[1,2,3]`},
		{"$..y.x", `[2]`},
		{"$.o..*", `[1,{"x":2},2,[{"x":3}],{"x":3},3]`},
		{"$.a[?(@ > 3)]", `[4,5]`},
		{"$.a[?(@ == 9)]", `[]`},
		{"$.o[?(@.x)]", `[{"x":2}]`},
		{"$.o.z[?(@.x == 3)].x", `[3]`},
		{"$..[?(@.x >= 2)].x", `[2,3]`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
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
