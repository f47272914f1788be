package transform

import (
	"sync"

	"github.com/hookflow/hookflow/payload"
)

// sizeBudget adds up the length of the JSON text of a reducer's result while the
// result is built, so that building stops as soon as the text would exceed
// Limits.MaxReducedBytes, not after. The counts are exact: they are the lengths of
// what payload.Marshal prints for each part.
type sizeBudget struct {
	left    int
	over    bool
	scratch []byte // reused to measure values
}

// add charges n bytes and reports whether the text still fits.
func (b *sizeBudget) add(n int) bool {
	if b.left -= n; b.left < 0 {
		b.over = true
	}
	return !b.over
}

// value charges the JSON text of v. Measuring prints v once: a value shared with the
// payload is at most the size of the payload, so the work done before the budget
// runs out is bounded by the limit plus the payload.
func (b *sizeBudget) value(v any) bool {
	b.scratch = payload.Append(b.scratch[:0], v)
	return b.add(len(b.scratch))
}

// budgets keeps sizeBudgets and their scratch buffers between calls of Apply, which is
// on the delivery path of every event.
var budgets = sync.Pool{New: func() any { return &sizeBudget{scratch: make([]byte, 0, 256)} }}

// maxKeptScratch bounds the scratch buffer a pooled budget keeps.
const maxKeptScratch = 64 << 10

func getBudget(limit int) *sizeBudget {
	b := budgets.Get().(*sizeBudget)
	b.left, b.over = limit, false
	return b
}

func putBudget(b *sizeBudget) {
	if cap(b.scratch) > maxKeptScratch {
		b.scratch = make([]byte, 0, 256)
	}
	budgets.Put(b)
}
