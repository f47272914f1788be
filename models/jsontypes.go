package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// JSON is a JSON document kept as text in the database (TEXT on SQLite and PostgreSQL
// alike, so that both stores behave the same). The zero value is SQL NULL.
type JSON []byte

// Value implements driver.Valuer.
func (j JSON) Value() (driver.Value, error) {
	if len(j) == 0 {
		return nil, nil
	}
	return string(j), nil
}

// Scan implements sql.Scanner.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case string:
		*j = JSON(v)
	case []byte:
		*j = append(JSON(nil), v...)
	default:
		return fmt.Errorf("scan JSON from %T", src)
	}
	return nil
}

// MarshalJSON emits the document itself (null when empty).
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// IsEmpty reports whether j is absent, null or an empty object.
func (j JSON) IsEmpty() bool {
	s := string(j)
	return s == "" || s == "null" || s == "{}"
}

// Headers are custom HTTP headers sent with every delivery, stored as a JSON object.
type Headers map[string]string

// Value implements driver.Valuer.
func (h Headers) Value() (driver.Value, error) {
	if len(h) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]string(h))
	return string(b), err
}

// Scan implements sql.Scanner.
func (h *Headers) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*h = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan headers from %T", src)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("scan headers: %w", err)
	}
	*h = m
	return nil
}
