package transform

import (
	"container/list"
	"sync"
)

// lru maps configuration text to what was parsed from it, keeping the most recently used
// size entries. It is safe for concurrent use.
type lru[V any] struct {
	mu    sync.Mutex
	size  int
	order *list.List // front: most recently used; values are *lruEntry[V]
	items map[string]*list.Element
}

type lruEntry[V any] struct {
	key   string
	value V
}

func newLRU[V any](size int) *lru[V] {
	return &lru[V]{size: size, order: list.New(), items: make(map[string]*list.Element, size)}
}

func (c *lru[V]) get(key []byte) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The conversion in a map index does not allocate.
	el, ok := c.items[string(key)]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[V]).value, true
}

// add stores v under key and returns the value now stored: v, or the value another
// caller stored first, so that concurrent parses of one configuration end up sharing.
func (c *lru[V]) add(key []byte, v V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[string(key)]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*lruEntry[V]).value
	}
	k := string(key)
	c.items[k] = c.order.PushFront(&lruEntry[V]{key: k, value: v})
	for c.order.Len() > c.size {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruEntry[V]).key)
	}
	return v
}
