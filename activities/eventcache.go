package activities

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/webhook"
)

// cachedEvent is a stored event ready to deliver: its row, its decoded payload for
// filters and reducers, its top-level keys and the envelope metadata.
type cachedEvent struct {
	row      *models.Event
	doc      *payload.Object
	contains []string
	meta     webhook.EventMeta
	size     int
}

// eventCache keeps recently delivered events in memory, least recently used out first,
// within a byte budget. Events never change once stored, so a cached copy is never stale;
// an event fanned out to many subscribers is read from the database once per worker.
type eventCache struct {
	mu      sync.Mutex
	budget  int
	used    int
	order   *list.List // front: most recent; values are *cachedEvent
	entries map[int64]*list.Element
}

// eventStore is what the event cache needs of the store.
type eventStore interface {
	EventByRowID(ctx context.Context, id int64) (*models.Event, error)
}

func newEventCache(budget int) *eventCache {
	return &eventCache{budget: budget, order: list.New(), entries: map[int64]*list.Element{}}
}

func (c *eventCache) get(ctx context.Context, st eventStore, rowID int64) (*cachedEvent, error) {
	c.mu.Lock()
	if el, ok := c.entries[rowID]; ok {
		c.order.MoveToFront(el)
		ev := el.Value.(*cachedEvent)
		c.mu.Unlock()
		return ev, nil
	}
	c.mu.Unlock()

	row, err := st.EventByRowID(ctx, rowID)
	if err != nil {
		return nil, err
	}
	ev, err := prepareEvent(row)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[rowID]; ok { // another attempt loaded it meanwhile
		return el.Value.(*cachedEvent), nil
	}
	if ev.size > c.budget {
		return ev, nil
	}
	c.entries[rowID] = c.order.PushFront(ev)
	c.used += ev.size
	for c.used > c.budget {
		last := c.order.Back()
		old := last.Value.(*cachedEvent)
		c.order.Remove(last)
		delete(c.entries, old.row.ID)
		c.used -= old.size
	}
	return ev, nil
}

func prepareEvent(row *models.Event) (*cachedEvent, error) {
	doc, err := payload.DecodeObject(row.Payload)
	if err != nil {
		// The payload was validated and canonicalised at ingestion; this is corruption.
		return nil, fmt.Errorf("decode stored payload of event %d: %w", row.ID, err)
	}
	slug, err := models.ParseSlug(row.Slug)
	if err != nil {
		return nil, fmt.Errorf("stored event %d: slug %q: %w", row.ID, row.Slug, err)
	}
	return &cachedEvent{
		row:      row,
		doc:      doc,
		contains: doc.Keys(),
		meta: webhook.EventMeta{
			ID: row.EventID, Category: slug.Category, Name: slug.Name, Type: slug.Type, Version: slug.Version,
			CreatedTimestamp: row.AcceptedAt.UnixMilli(), TraceID: row.TraceID,
			CompanyID: row.CompanyID, ApplicationID: row.ApplicationID,
		},
		// The decoded document takes a few times the encoded size.
		size: 4*len(row.Payload) + 512,
	}, nil
}
