package transform_test

import (
	"testing"

	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/transform"
)

// productJSON is a realistic product document of about 1 KiB, like the payload of a
// company/product/create event.
const productJSON = `{
  "uid": 7501,
  "name": "Trail Runner 2 Men's Shoes",
  "slug": "trail-runner-2-mens-shoes",
  "item_code": "TR2-M-001",
  "brand": {"uid": 238, "name": "Acme Outdoor", "logo": "https://cdn.example.com/brands/238/logo.png"},
  "category": {"uid": 91, "name": "Running Shoes", "slug": "running-shoes"},
  "departments": [3, 17],
  "is_active": true,
  "country_of_origin": "India",
  "currency": "INR",
  "price": {"marked": {"min": 5999, "max": 6499}, "effective": {"min": 4499, "max": 4999}},
  "tags": ["running", "trail", "men", "new-arrival"],
  "attributes": {"color": "Forest Green", "material": "Mesh", "closure": "Lace-up", "gender": ["men"]},
  "items": [
    {"size": "7", "seller_identifier": "TR2-M-7", "price": 4499, "quantity": 12, "is_available": true},
    {"size": "8", "seller_identifier": "TR2-M-8", "price": 4499, "quantity": 0, "is_available": false},
    {"size": "9", "seller_identifier": "TR2-M-9", "price": 4999, "quantity": 5, "is_available": true},
    {"size": "10", "seller_identifier": "TR2-M-10", "price": 4999, "quantity": 3, "is_available": true}
  ],
  "media": [
    {"type": "image", "url": "https://cdn.example.com/products/7501/front.jpg"},
    {"type": "image", "url": "https://cdn.example.com/products/7501/side.jpg"}
  ],
  "created_on": "2024-05-01T10:00:00Z",
  "modified_on": "2024-05-03T08:30:00Z"
}`

// MustDecode decodes JSON text into the document model.
func MustDecode(tb testing.TB, text string) any {
	tb.Helper()
	v, err := payload.Decode([]byte(text))
	if err != nil {
		tb.Fatalf("decode %q: %v", text, err)
	}
	return v
}

// MustFilter parses a filter configuration.
func MustFilter(tb testing.TB, e *transform.Engine, config string) *transform.Filter {
	tb.Helper()
	f, err := e.Filter([]byte(config))
	if err != nil {
		tb.Fatalf("parse filter %s: %v", config, err)
	}
	return f
}

// MustReducer parses a reducer configuration.
func MustReducer(tb testing.TB, e *transform.Engine, config string) *transform.Reducer {
	tb.Helper()
	r, err := e.Reducer([]byte(config))
	if err != nil {
		tb.Fatalf("parse reducer %s: %v", config, err)
	}
	return r
}

// expression builds the JSON of a single-expression filter.
func expression(query, condition string) string {
	return `{"query":` + string(payload.Marshal(query)) + `,"condition":` + string(payload.Marshal(condition)) + `}`
}
