package payload

import (
	"cmp"
	"slices"
	"sort"
)

// indexThreshold is the size above which an Object keeps a key index; below it a linear
// scan is faster than hashing.
const indexThreshold = 12

// Object is a JSON object whose members keep ECMAScript's property order: keys that are
// array indices (canonical decimal integers below 2^32-1) come first in ascending numeric
// order, then every other key in insertion order. This is the order JSON.parse gives an
// object, so encoding an Object reproduces what JSON.stringify(JSON.parse(…)) prints.
//
// The zero value is an empty object ready to use. An Object is not safe for concurrent
// mutation; concurrent reads are safe. Copying an Object value shares its members with
// the original, so pass *Object around.
type Object struct {
	keys []string
	vals []any
	// nidx counts the array-index keys, which are always keys[:nidx].
	nidx int
	// index maps each key to its position once the object has more than indexThreshold
	// members; nil below that.
	index map[string]int
}

// NewObject returns an empty object with room for n members.
func NewObject(n int) *Object {
	return &Object{keys: make([]string, 0, n), vals: make([]any, 0, n)}
}

// Len returns the number of members.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.keys)
}

// Keys returns the member names in property order. The slice is shared; do not modify it.
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// At returns the i-th member in property order. It panics if i is not in [0, Len()).
func (o *Object) At(i int) (key string, value any) {
	return o.keys[i], o.vals[i]
}

// Get returns the value of key and whether the object has it.
func (o *Object) Get(key string) (any, bool) {
	i := o.find(key)
	if i < 0 {
		return nil, false
	}
	return o.vals[i], true
}

// Set sets key to value. A new key takes its place in property order; an existing key
// keeps its place and gets the new value.
func (o *Object) Set(key string, value any) {
	if i := o.find(key); i >= 0 {
		o.vals[i] = value
		return
	}
	idx, isIdx := arrayIndex(key)
	if !isIdx {
		o.keys = append(o.keys, key)
		o.vals = append(o.vals, value)
		if o.index != nil {
			o.index[key] = len(o.keys) - 1
		} else if len(o.keys) > indexThreshold {
			o.reindex()
		}
		return
	}
	// Array-index keys sort before all other keys, ascending; keys[:nidx] are sorted.
	pos := sort.Search(o.nidx, func(i int) bool {
		other, _ := arrayIndex(o.keys[i])
		return other > idx
	})
	o.keys = slices.Insert(o.keys, pos, key)
	o.vals = slices.Insert(o.vals, pos, value)
	o.nidx++
	switch {
	case o.index != nil:
		for i, k := range o.keys[pos:] {
			o.index[k] = pos + i // the members after the new one moved up by one
		}
	case len(o.keys) > indexThreshold:
		o.reindex()
	}
}

// Delete removes key if present.
func (o *Object) Delete(key string) {
	i := o.find(key)
	if i < 0 {
		return
	}
	o.keys = slices.Delete(o.keys, i, i+1)
	o.vals = slices.Delete(o.vals, i, i+1)
	if i < o.nidx {
		o.nidx--
	}
	if o.index != nil {
		delete(o.index, key)
		for j, k := range o.keys[i:] {
			o.index[k] = i + j // the members after the deleted one moved down by one
		}
		if len(o.keys) <= indexThreshold {
			o.index = nil
		}
	}
}

func (o *Object) find(key string) int {
	if o == nil {
		return -1
	}
	if o.index != nil {
		if i, ok := o.index[key]; ok {
			return i
		}
		return -1
	}
	for i, k := range o.keys {
		if k == key {
			return i
		}
	}
	return -1
}

func (o *Object) reindex() {
	if len(o.keys) <= indexThreshold {
		o.index = nil
		return
	}
	o.index = make(map[string]int, len(o.keys))
	for i, k := range o.keys {
		o.index[k] = i
	}
}

// orderArrayIndexKeys moves the array-index keys, in ascending numeric order, before the
// other keys, which keep their order, and sets nidx. It reports whether any member moved.
// Decode uses it once per object instead of inserting each member in place.
func (o *Object) orderArrayIndexKeys() bool {
	type member struct {
		index uint32
		pos   int
	}
	var (
		members []member
		ordered = true
	)
	for i, k := range o.keys {
		if k == "" || k[0] > '9' || k[0] < '0' {
			continue
		}
		idx, ok := arrayIndex(k)
		if !ok {
			continue
		}
		if n := len(members); i != n || n > 0 && idx < members[n-1].index {
			ordered = false
		}
		members = append(members, member{idx, i})
	}
	o.nidx = len(members)
	if ordered {
		return false
	}
	slices.SortFunc(members, func(a, b member) int { return cmp.Compare(a.index, b.index) })
	keys := make([]string, 0, len(o.keys))
	vals := make([]any, 0, len(o.vals))
	for _, m := range members {
		keys = append(keys, o.keys[m.pos])
		vals = append(vals, o.vals[m.pos])
	}
	for i, k := range o.keys {
		if _, ok := arrayIndex(k); !ok {
			keys = append(keys, k)
			vals = append(vals, o.vals[i])
		}
	}
	o.keys, o.vals = keys, vals
	return true
}

// ValueForKey implements github.com/ohler55/ojg/jp.Keyed so that JSONPath expressions
// navigate an Object like a map.
func (o *Object) ValueForKey(key string) (any, bool) { return o.Get(key) }

// SetValueForKey implements jp.Keyed.
func (o *Object) SetValueForKey(key string, value any) { o.Set(key, value) }

// RemoveValueForKey implements jp.Keyed.
func (o *Object) RemoveValueForKey(key string) { o.Delete(key) }

// arrayIndex reports whether key is an ECMAScript array index: the canonical decimal
// form of an integer in [0, 2^32-2].
func arrayIndex(key string) (uint32, bool) {
	if key == "" || len(key) > 10 || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	var n uint64 // at most 10 digits, so no overflow
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n >= 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}
