package payload_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/payload"
)

// keyOrderCases are objects and what JSON.stringify(JSON.parse(in)) prints for them;
// the differential test checks every want against Node.js too.
var keyOrderCases = []struct {
	name, in, want string
}{
	{
		"ArrayIndexKeysFirst",
		`{"b":1,"2":2,"a":3,"1":4,"01":5,"4294967295":6,"4294967294":7}`,
		`{"1":4,"2":2,"4294967294":7,"b":1,"a":3,"01":5,"4294967295":6}`,
	},
	{"InsertionOrderKept", `{"z":1,"y":2,"x":3}`, `{"z":1,"y":2,"x":3}`},
	{"IndexKeysNumericNotLexicographic", `{"10":1,"9":2,"100":3,"0":4}`, `{"0":4,"9":2,"10":1,"100":3}`},
	{"NotIndices", `{"-1":1,"1.5":2,"1e3":3," 1":4,"+1":5,"":6,"0":7}`, `{"0":7,"-1":1,"1.5":2,"1e3":3," 1":4,"+1":5,"":6}`},
	{"Nested", `{"x":{"b":1,"3":2},"1":[{"k":1,"0":2}]}`, `{"1":[{"0":2,"k":1}],"x":{"3":2,"b":1}}`},
	{"Empty", `{}`, `{}`},
	{"Whitespace", " {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\" : { } } ", `{"a":[1,2],"b":{}}`},
}

func TestCanonicalizeKeyOrder(t *testing.T) {
	for _, tc := range keyOrderCases {
		t.Run(tc.name, func(t *testing.T) {
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

func TestCanonicalizeLargeObject(t *testing.T) {
	// Objects above the index threshold take another path in the decoder.
	var in, want strings.Builder
	in.WriteString("{")
	want.WriteString("{")
	for i := range 100 {
		if i > 0 {
			in.WriteString(",")
		}
		in.WriteString(`"k` + strconv.Itoa(99-i) + `":` + strconv.Itoa(i))
	}
	in.WriteString(`,"7":1,"3":2}`)
	want.WriteString(`"3":2,"7":1`)
	for i := range 100 {
		want.WriteString(`,"k` + strconv.Itoa(99-i) + `":` + strconv.Itoa(i))
	}
	want.WriteString("}")
	o, err := payload.DecodeObject([]byte(in.String()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(payload.Marshal(o)), want.String(); got != want {
		t.Errorf("Marshal = %s\nwant %s", got, want)
	}
	if v, ok := o.Get("k42"); !ok || v != float64(57) {
		t.Errorf(`Get("k42") = %v, %v; want 57, true`, v, ok)
	}
	if v, ok := o.Get("7"); !ok || v != float64(1) {
		t.Errorf(`Get("7") = %v, %v; want 1, true`, v, ok)
	}
}

func TestObjectSet(t *testing.T) {
	o := payload.NewObject(0)
	for _, k := range []string{"b", "2", "a", "1", "01", "4294967295", "4294967294", "0"} {
		o.Set(k, k)
	}
	o.Set("a", "again") // an existing key keeps its place
	if got, want := strings.Join(o.Keys(), ","), "0,1,2,4294967294,b,a,01,4294967295"; got != want {
		t.Errorf("Keys() = %s, want %s", got, want)
	}
	if got, want := string(payload.Marshal(o)), `{"0":"0","1":"1","2":"2","4294967294":"4294967294","b":"b","a":"again","01":"01","4294967295":"4294967295"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	if k, v := o.At(5); k != "a" || v != "again" {
		t.Errorf("At(5) = %q, %v; want a, again", k, v)
	}
}

func TestObjectDelete(t *testing.T) {
	o, err := payload.DecodeObject([]byte(`{"3":3,"1":1,"x":"x","y":"y"}`))
	if err != nil {
		t.Fatal(err)
	}
	o.Delete("1")
	o.Delete("x")
	o.Delete("missing")
	o.Set("2", 2)
	o.Set("0", 0)
	if got, want := string(payload.Marshal(o)), `{"0":0,"2":2,"3":3,"y":"y"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	if got, want := o.Len(), 4; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if _, ok := o.Get("x"); ok {
		t.Error(`Get("x") found a deleted key`)
	}
}

func TestObjectManyKeys(t *testing.T) {
	// Set, Get and Delete must agree across the switch to an indexed object.
	var o payload.Object
	for i := range 50 {
		o.Set("k"+strconv.Itoa(i), i)
		o.Set(strconv.Itoa(50-i), i)
	}
	for i := 0; i < 50; i += 2 {
		o.Delete("k" + strconv.Itoa(i))
		o.Delete(strconv.Itoa(50 - i))
	}
	if got, want := o.Len(), 50; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	for i := range 50 {
		_, okKey := o.Get("k" + strconv.Itoa(i))
		_, okIdx := o.Get(strconv.Itoa(50 - i))
		if want := i%2 == 1; okKey != want || okIdx != want {
			t.Errorf("member %d present = %v, %v; want %v", i, okKey, okIdx, want)
		}
	}
	keys := o.Keys()
	for i := range 25 {
		if got, want := keys[i], strconv.Itoa(2*i+1); got != want {
			t.Fatalf("Keys()[%d] = %s, want %s", i, got, want)
		}
	}
	for i, k := range keys[25:] {
		if got, want := k, "k"+strconv.Itoa(2*i+1); got != want {
			t.Fatalf("Keys()[%d] = %s, want %s", 25+i, got, want)
		}
	}
}

func TestObjectNil(t *testing.T) {
	var o *payload.Object
	if got := o.Len(); got != 0 {
		t.Errorf("Len() = %d, want 0", got)
	}
	if _, ok := o.Get("a"); ok {
		t.Error("Get on a nil object found a key")
	}
	if got := string(payload.Marshal(o)); got != "null" {
		t.Errorf("Marshal(nil *Object) = %s, want null", got)
	}
}

func TestObjectKeyed(t *testing.T) {
	// The jp.Keyed methods that JSONPath uses are Get, Set and Delete.
	var o payload.Object
	o.SetValueForKey("a", 1)
	o.SetValueForKey("0", 2)
	if v, ok := o.ValueForKey("a"); !ok || v != 1 {
		t.Errorf(`ValueForKey("a") = %v, %v; want 1, true`, v, ok)
	}
	o.RemoveValueForKey("a")
	if got, want := string(payload.Marshal(&o)), `{"0":2}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

func TestObjectShrink(t *testing.T) {
	// Deleting below the index threshold must keep lookups right.
	var o payload.Object
	for i := range 20 {
		o.Set("k"+strconv.Itoa(i), i)
	}
	for i := range 17 {
		o.Delete("k" + strconv.Itoa(i))
	}
	o.Set("k0", 0)
	if got, want := strings.Join(o.Keys(), ","), "k17,k18,k19,k0"; got != want {
		t.Errorf("Keys() = %s, want %s", got, want)
	}
	for i, k := range o.Keys() {
		if _, ok := o.Get(k); !ok {
			t.Errorf("Get(%q) missing at %d", k, i)
		}
	}
}
