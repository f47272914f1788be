package payload_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/payload"
)

func TestMarshalGoValues(t *testing.T) {
	s := "pointed"
	n := 42
	var nilString *string
	var nilObject *payload.Object
	obj := payload.NewObject(2)
	obj.Set("b", 1)
	obj.Set("0", 2)
	for _, tc := range []struct {
		name string
		in   any
		want string
	}{
		{"Nil", nil, `null`},
		{"True", true, `true`},
		{"False", false, `false`},
		{"EmptyArray", []any{}, `[]`},
		{"NilArray", []any(nil), `[]`},
		{"Array", []any{1, "a", nil, []any{true}}, `[1,"a",null,[true]]`},
		{"Strings", []string{"a", "<b>", "\n"}, `["a","<b>","\n"]`},
		{"NilStrings", []string(nil), `[]`},
		{"Object", obj, `{"0":2,"b":1}`},
		{"ObjectValue", *obj, `{"0":2,"b":1}`},
		{"ZeroObject", payload.Object{}, `{}`},
		{"NilObject", nilObject, `null`},
		{"NilMap", map[string]any(nil), `{}`},
		{
			"MapOrder",
			map[string]any{"b": 1, "2": 2, "a": 3, "10": 4, "01": 5, "4294967295": 6, "B": 7, "é": 8, "": 9},
			`{"2":2,"10":4,"":9,"01":5,"4294967295":6,"B":7,"a":3,"b":1,"é":8}`,
		},
		{"NestedMap", map[string]any{"m": map[string]any{"z": []string{}, "y": obj}}, `{"m":{"y":{"0":2,"b":1},"z":[]}}`},
		{"RawMessage", []any{json.RawMessage(`{"a":1}`), json.RawMessage(nil)}, `[{"a":1},null]`},
		{"Pointer", &s, `"pointed"`},
		{"PointerToInt", []any{&n}, `[42]`},
		{"NilPointer", nilString, `null`},
		{"NilPointerInMap", map[string]any{"p": nilString}, `{"p":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := string(payload.Marshal(tc.in)), tc.want; got != want {
				t.Errorf("Marshal = %s, want %s", got, want)
			}
			out, err := payload.MarshalChecked(tc.in)
			if err != nil {
				t.Fatalf("MarshalChecked: %v", err)
			}
			if got, want := string(out), tc.want; got != want {
				t.Errorf("MarshalChecked = %s, want %s", got, want)
			}
		})
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	buf := []byte(`{"payload":`)
	buf = payload.Append(buf, []any{1.5})
	if got, want := string(buf), `{"payload":[1.5]`; got != want {
		t.Errorf("Append = %s, want %s", got, want)
	}
}

func TestMarshalCheckedRejects(t *testing.T) {
	type point struct{ X int }
	cyclic := payload.NewObject(1)
	cyclic.Set("self", cyclic)
	deep := []any{1}
	for range payload.MaxDepth - 1 {
		deep = []any{deep}
	}
	for _, tc := range []struct {
		name string
		in   any
		err  string
	}{
		{"Struct", map[string]any{"a": []any{1, point{}}}, `payload: cannot encode Go type payload_test.point at $.a[1]`},
		{"Channel", make(chan int), `payload: cannot encode Go type chan int at $`},
		{"Bytes", map[string]any{"body": []byte(`{}`)}, `payload: cannot encode Go type []byte (wrap JSON text in json.RawMessage) at $.body`},
		{"OtherMap", []any{map[string]int{}}, `payload: cannot encode Go type map[string]int at $[0]`},
		{"QuotedKey", map[string]any{"a b": func() {}}, `payload: cannot encode Go type func() at $["a b"]`},
		{"Cycle", cyclic, `payload: nesting deeper than 64 levels at $` + strings.Repeat(".self", 64)},
		{"TooDeep", []any{deep}, `payload: nesting deeper than 64 levels at $` + strings.Repeat("[0]", 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := payload.MarshalChecked(tc.in)
			if err == nil {
				t.Fatal("MarshalChecked succeeded, want error")
			}
			if got, want := err.Error(), tc.err; got != want {
				t.Errorf("MarshalChecked error\n got: %s\nwant: %s", got, want)
			}
			defer func() {
				if got, want := recover(), tc.err; got == nil || got.(error).Error() != want {
					t.Errorf("Marshal panicked with %v, want %s", got, want)
				}
			}()
			payload.Marshal(tc.in)
		})
	}
}

func TestMarshalDepthLimitMatchesDecode(t *testing.T) {
	// The deepest value Append accepts is one that Decode accepts.
	deep := []any{1}
	for range payload.MaxDepth - 1 {
		deep = []any{deep}
	}
	out, err := payload.MarshalChecked(deep)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := payload.Decode(out); err != nil {
		t.Errorf("Decode(Marshal(64 levels)): %v", err)
	}
}
