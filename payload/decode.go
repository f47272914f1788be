package payload

import "sync"

// MaxDepth is the deepest nesting of objects and arrays that [Decode] accepts and that
// [Append] produces; a top-level object or array is at depth 1.
const MaxDepth = 64

// Decode parses one JSON value (RFC 8259, optionally surrounded by whitespace) into the
// document model: nil, bool, float64, string, []any or *Object. Objects keep the property
// order that JSON.parse gives them; empty arrays decode as a non-nil empty []any.
//
// Besides malformed JSON, Decode rejects invalid UTF-8, duplicate keys in one object,
// nesting deeper than MaxDepth and numbers beyond the float64 range. Every error is a
// *SyntaxError. Decode neither modifies nor keeps data; the strings it returns share one
// copy of it.
func Decode(data []byte) (any, error) {
	var d decoder
	d.init(data)
	defer d.release()
	return d.document()
}

// DecodeObject is Decode for a document whose top-level value must be an object, such as
// an event payload. It returns a *SyntaxError for any other top-level value.
func DecodeObject(data []byte) (*Object, error) {
	var d decoder
	d.init(data)
	defer d.release()
	d.skipSpace()
	if d.pos < len(d.data) {
		if kind := kindAt(d.data[d.pos]); kind != "" {
			return nil, d.errorf(d.pos, "the top-level value must be an object, not %s", kind)
		}
	}
	v, err := d.document()
	if err != nil {
		return nil, err
	}
	return v.(*Object), nil
}

// kindAt names the kind of value that starts with c, or returns "" if c starts an object
// or no value at all.
func kindAt(c byte) string {
	switch {
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == '-', c >= '0' && c <= '9':
		return "a number"
	case c == 't', c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return ""
}

// decoder is the state of one Decode call. Objects and arrays are decoded recursively;
// MaxDepth bounds the recursion.
//
// The members of an object, and the elements of an array, are gathered on the scratch
// stacks keys and vals while they are decoded, then copied to slices of their exact size.
// Those slices, and the Objects, are carved from larger blocks so that a document costs
// a few allocations for them rather than three per object.
type decoder struct {
	data  []byte
	str   string // data as a string, made on first use; unescaped strings are substrings of it
	pos   int
	depth int
	path  []pathElem // where the decoder is, for errors
	keys  []string   // members of the objects being decoded, innermost last
	vals  []any      // values of the objects and arrays being decoded, innermost last
	buf   []byte     // scratch for strings with escapes

	scratch  *scratch
	block    int // size of the next block of keys and values
	keyBlock []string
	valBlock []any
	objBlock []Object
}

// scratch is the decoder's working memory, which Decode calls reuse.
type scratch struct {
	path []pathElem
	keys []string
	vals []any
	buf  []byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooledScratch bounds the scratch slices that go back to the pool, so that one huge
// document does not pin its memory.
const maxPooledScratch = 4096

func (d *decoder) init(data []byte) {
	d.data = data
	d.scratch = scratchPool.Get().(*scratch)
	d.path, d.keys, d.vals, d.buf = d.scratch.path, d.scratch.keys, d.scratch.vals, d.scratch.buf
	// About one member or element for every 16 bytes of input; blocks stay small enough
	// that an unused tail wastes little.
	d.block = min(max(len(data)/16, 16), 1024)
}

// release returns the scratch slices to the pool, emptied so that the pool does not keep
// the document alive.
func (d *decoder) release() {
	s := d.scratch
	s.path, s.keys, s.vals, s.buf = nil, nil, nil, nil
	if cap(d.path) <= maxPooledScratch {
		s.path = d.path[:0]
		clear(s.path[:cap(s.path)])
	}
	if cap(d.keys) <= maxPooledScratch {
		s.keys = d.keys[:0]
		clear(s.keys[:cap(s.keys)])
	}
	if cap(d.vals) <= maxPooledScratch {
		s.vals = d.vals[:0]
		clear(s.vals[:cap(s.vals)])
	}
	if cap(d.buf) <= 16*maxPooledScratch {
		s.buf = d.buf[:0]
	}
	scratchPool.Put(s)
}

// takeKeys returns the next n free keys of the current block, as a slice whose capacity
// ends where the next slice starts, so that appending to it cannot overwrite another.
func (d *decoder) takeKeys(n int) []string {
	if len(d.keyBlock) < n {
		d.keyBlock = make([]string, max(n, d.block))
	}
	s := d.keyBlock[:n:n]
	d.keyBlock = d.keyBlock[n:]
	return s
}

// takeVals is takeKeys for values.
func (d *decoder) takeVals(n int) []any {
	if len(d.valBlock) < n {
		d.valBlock = make([]any, max(n, d.block))
	}
	s := d.valBlock[:n:n]
	d.valBlock = d.valBlock[n:]
	return s
}

func (d *decoder) newObject() *Object {
	if len(d.objBlock) == 0 {
		d.objBlock = make([]Object, max(d.block/8, 4))
	}
	o := &d.objBlock[0]
	d.objBlock = d.objBlock[1:]
	return o
}

// document decodes the whole input as one value.
func (d *decoder) document() (any, error) {
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, d.unexpected(" after the top-level value")
	}
	return v, nil
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() (any, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, d.errEOF()
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		return s, nil
	case c == '-', c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.unexpected(", expected a value")
}

func (d *decoder) object() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	kbase, vbase := len(d.keys), len(d.vals)
	var seen map[string]int // key positions once the object is big enough to index
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return d.newObject(), nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errEOF()
		}
		if d.data[d.pos] != '"' {
			return nil, d.unexpected(", expected a string key")
		}
		keyStart := d.pos
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		if seen != nil {
			if _, dup := seen[key]; dup {
				return nil, d.errDuplicate(keyStart, key)
			}
			seen[key] = len(d.keys) - kbase
		} else {
			for _, k := range d.keys[kbase:] {
				if k == key {
					return nil, d.errDuplicate(keyStart, key)
				}
			}
			if n := len(d.keys) - kbase + 1; n > indexThreshold {
				seen = make(map[string]int, 2*n)
				for i, k := range d.keys[kbase:] {
					seen[k] = i
				}
				seen[key] = n - 1
			}
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errEOF()
		}
		if d.data[d.pos] != ':' {
			return nil, d.unexpected(", expected ':'")
		}
		d.pos++
		d.path = append(d.path, pathElem{key: key, index: -1})
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		d.keys = append(d.keys, key)
		d.vals = append(d.vals, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errEOF()
		}
		if c := d.data[d.pos]; c == '}' {
			d.pos++
			break
		} else if c != ',' {
			return nil, d.unexpected(", expected ',' or '}'")
		}
		d.pos++
	}
	n := len(d.keys) - kbase
	o := d.newObject()
	o.keys, o.vals = d.takeKeys(n), d.takeVals(n)
	copy(o.keys, d.keys[kbase:])
	copy(o.vals, d.vals[vbase:])
	d.keys, d.vals = d.keys[:kbase], d.vals[:vbase]
	if o.orderArrayIndexKeys() || (seen == nil && len(o.keys) > indexThreshold) {
		o.reindex()
	} else {
		o.index = seen
	}
	d.depth--
	return o, nil
}

func (d *decoder) array() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	vbase := len(d.vals)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return []any{}, nil
	}
	for i := 0; ; i++ {
		d.path = append(d.path, pathElem{index: i})
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		d.vals = append(d.vals, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errEOF()
		}
		if c := d.data[d.pos]; c == ']' {
			d.pos++
			break
		} else if c != ',' {
			return nil, d.unexpected(", expected ',' or ']'")
		}
		d.pos++
	}
	a := d.takeVals(len(d.vals) - vbase)
	copy(a, d.vals[vbase:])
	d.vals = d.vals[:vbase]
	d.depth--
	return a, nil
}

// enter consumes the '{' or '[' at d.pos and counts one more level of nesting.
func (d *decoder) enter() error {
	if d.depth == MaxDepth {
		return d.errorf(d.pos, "nesting deeper than %d levels", MaxDepth)
	}
	d.depth++
	d.pos++
	return nil
}

// literal consumes lit (true, false or null), whose first byte is at d.pos.
func (d *decoder) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		p := d.pos + i
		if p >= len(d.data) {
			d.pos = p
			return d.errEOF()
		}
		if d.data[p] != lit[i] {
			d.pos = p
			return d.unexpected(" in literal " + lit)
		}
	}
	d.pos += len(lit)
	return nil
}
