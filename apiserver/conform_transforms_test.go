package apiserver_test

import (
	"net/http"
	"testing"
)

// conformTransforms covers validating filters and reducers and saving them.
func conformTransforms(t *testing.T, c *conformer, fx *conformFixture) {
	sample := map[string]any{"uid": 7501, "name": "Air Zoom", "brand": map[string]any{"uid": 238, "name": "Nike"},
		"sizes": []map[string]any{{"size": "UK 8"}, {"size": "UK 9"}}}
	brand := map[string]string{"query": "$.brand.uid", "condition": "(uid) => uid === 238"}
	type filterOut struct {
		Success      bool
		Message      string
		FilterResult bool `json:"filter_result"`
	}
	filter := fx.base + "/validate/filter"
	for _, tc := range []struct {
		name          string
		filters       any
		invalid       bool
		success, want bool
	}{
		{"expression", brand, false, true, true},
		{"connector", map[string]any{"logic": "or", "conditions": []any{
			map[string]string{"query": "$.uid", "condition": "(x) => x > 9000"}, brand}}, false, true, true},
		{"no match", map[string]string{"query": "$.brand.name", "condition": "(n) => n === 'Adidas'"}, false, true, false},
		{"throws", map[string]string{"query": "$.uid", "condition": "(x) => { throw new Error('boom') }"}, false, false, false},
		{"bad grammar", map[string]string{"query": "$.uid"}, true, false, false},
	} {
		rec := c.do(t, call{Method: http.MethodPost, Path: filter, Token: fx.partnerKey, Want: http.StatusOK, Invalid: tc.invalid,
			Body: map[string]any{"sample_data": sample, "filters": tc.filters}})
		if got := mustDecode[filterOut](t, rec.Body.Bytes()); got.Success != tc.success || got.FilterResult != tc.want || got.Message == "" {
			t.Errorf("%s: %+v, want success %v, filter_result %v", tc.name, got, tc.success, tc.want)
		}
	}
	c.do(t, call{Method: http.MethodPost, Path: filter, Token: fx.partnerKey, Body: map[string]any{"filters": brand},
		Want: http.StatusBadRequest, Invalid: true, Field: "sample_data"})
	c.do(t, call{Method: http.MethodPost, Path: filter, Token: fx.partnerKey, Body: map[string]any{"sample_data": sample},
		Want: http.StatusBadRequest, Invalid: true, Field: "filters"})
	c.do(t, call{Method: http.MethodPost, Path: filter, Token: fx.partnerKey, Body: bigBody(300 << 10), Want: http.StatusRequestEntityTooLarge, Invalid: true})

	reducer := fx.base + "/validate/reducer"
	rec := c.do(t, call{Method: http.MethodPost, Path: reducer, Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"sample_data": sample, "reducer": map[string]any{"name": "$.name", "sizes": "$.sizes[*].size", "v": 1}}})
	if got := rec.Body.String(); got != `{"success":true,"message":"the reducer is valid","reducer_result":{"name":"Air Zoom","sizes":["UK 8","UK 9"],"v":1}}` {
		t.Errorf("validate reducer: %s", got)
	}
	rec = c.do(t, call{Method: http.MethodPost, Path: reducer, Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"sample_data": sample, "reducer": map[string]any{"name": "not a query"}}})
	if got := mustDecode[map[string]any](t, rec.Body.Bytes()); got["success"] != false || got["reducer_result"] != nil {
		t.Errorf("invalid reducer: %s", rec.Body.String())
	}
	c.do(t, call{Method: http.MethodPost, Path: reducer, Token: fx.partnerKey, Body: map[string]any{"sample_data": "text", "reducer": map[string]any{}},
		Want: http.StatusBadRequest, Invalid: true, Field: "sample_data"})
	c.do(t, call{Method: http.MethodPost, Path: reducer, Token: fx.partnerKey, Body: map[string]any{"sample_data": sample},
		Want: http.StatusBadRequest, Invalid: true, Field: "reducer"})
	c.do(t, call{Method: http.MethodPost, Path: reducer, Token: fx.partnerKey, Body: bigBody(300 << 10), Want: http.StatusRequestEntityTooLarge, Invalid: true})

	save := fx.sub(fx.subscriberID) + "/filter_reducer"
	type saved struct {
		Data struct {
			Filters map[string]any
			Reducer map[string]any
		}
	}
	rec = c.do(t, call{Method: http.MethodPut, Path: save, Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"event_slug": "application/order/placed/v1", "filter_configuration": brand, "reducer_configuration": map[string]string{"id": "$.uid"}}})
	if got := mustDecode[saved](t, rec.Body.Bytes()); got.Data.Filters["query"] != "$.brand.uid" || got.Data.Reducer["id"] != "$.uid" {
		t.Errorf("saved: %s", rec.Body.String())
	}
	rec = c.do(t, call{Method: http.MethodPut, Path: save, Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"event_slug": "application/order/placed/v1", "filter_configuration": nil}})
	if got := mustDecode[saved](t, rec.Body.Bytes()); len(got.Data.Filters) != 0 || got.Data.Reducer["id"] != "$.uid" {
		t.Errorf("filter removed, reducer kept: %s", rec.Body.String())
	}
	c.do(t, call{Method: http.MethodPut, Path: save, Token: fx.partnerKey, Want: http.StatusOK,
		Body: map[string]any{"event_slug": "application/order/placed/v1", "reducer_configuration": map[string]any{}}})
	c.do(t, call{Method: http.MethodPut, Path: save, Token: fx.partnerKey, Want: http.StatusUnprocessableEntity, Field: "event_slug",
		Body: map[string]any{"event_slug": "application/customer/create/v1", "filter_configuration": brand}})
	c.do(t, call{Method: http.MethodPut, Path: save, Token: fx.partnerKey, Want: http.StatusBadRequest, Invalid: true, Field: "filter_configuration",
		Body: map[string]any{"event_slug": "application/order/placed/v1"}})
	c.do(t, call{Method: http.MethodPut, Path: save, Token: fx.partnerKey, Want: http.StatusBadRequest, Field: "filter_configuration.query",
		Body: map[string]any{"event_slug": "application/order/placed/v1", "filter_configuration": map[string]string{"query": "uid", "condition": "(x) => true"}}})
	c.do(t, call{Method: http.MethodPut, Path: save, Token: fx.partnerKey, Want: http.StatusRequestEntityTooLarge, Invalid: true, Body: bigBody(300 << 10)})
	c.do(t, call{Method: http.MethodPut, Path: fx.base + "/company/1/subscriber/999999/filter_reducer", Token: fx.partnerKey, Want: http.StatusNotFound,
		Body: map[string]any{"event_slug": "application/order/placed/v1", "filter_configuration": brand}})
}
