package models

import (
	"fmt"
	"strconv"
	"strings"
)

// Slug identifies an event type in Fynd's form category/name/type/vN, for example
// company/product/create/v1 or application/order/placed/v1.
type Slug struct {
	Category string
	Name     string
	Type     string
	Version  string // the number after "v", e.g. "1"
}

// String returns the slug in category/name/type/vN form.
func (s Slug) String() string {
	return s.Category + "/" + s.Name + "/" + s.Type + "/v" + s.Version
}

// ParseSlug parses category/name/type/vN. Each part is lowercase letters, digits and
// underscores; the version is a positive integer.
func ParseSlug(s string) (Slug, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 {
		return Slug{}, fmt.Errorf("must have the form category/name/type/vN, e.g. company/product/create/v1")
	}
	for i, p := range parts[:3] {
		if !isSlugPart(p) {
			return Slug{}, fmt.Errorf("part %d (%q) must be lowercase letters, digits or underscores", i+1, p)
		}
	}
	v := parts[3]
	if len(v) < 2 || v[0] != 'v' {
		return Slug{}, fmt.Errorf("version %q must be v followed by a number, e.g. v1", v)
	}
	if n, err := strconv.Atoi(v[1:]); err != nil || n < 1 || strconv.Itoa(n) != v[1:] {
		return Slug{}, fmt.Errorf("version %q must be v followed by a positive number, e.g. v1", v)
	}
	return Slug{Category: parts[0], Name: parts[1], Type: parts[2], Version: v[1:]}, nil
}

func isSlugPart(p string) bool {
	if p == "" || len(p) > 64 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
