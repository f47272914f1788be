package activities

import (
	"context"
	"fmt"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/workflows"
)

// catalogue remembers the slugs of the event catalogue that the database has shown, for
// PrepareDeliveries' check of an event's slug before it stores the event. Its zero value
// is ready to use.
//
// Slugs are only ever added to the catalogue (hookflow migrate seeds the missing ones),
// so a slug seen once stays known and the usual check costs no query; a slug not known
// is looked up afresh every time, so that an event type added a moment ago is found: an
// event the REST API accepted is never refused here for a stale copy.
type catalogue struct {
	mu    sync.RWMutex
	known map[string]bool
}

// catalogueStore is what the catalogue check of PrepareDeliveries needs of the store.
type catalogueStore interface {
	ListEventTypes(ctx context.Context) ([]models.EventType, error)
}

// has reports whether slug is in the catalogue, reading it from store unless the slug is
// known already. Returns the store's error when it cannot tell.
func (c *catalogue) has(ctx context.Context, st catalogueStore, slug string) (bool, error) {
	c.mu.RLock()
	ok := c.known[slug]
	c.mu.RUnlock()
	if ok {
		return true, nil
	}
	types, err := st.ListEventTypes(ctx)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known == nil {
		c.known = make(map[string]bool, len(types))
	}
	for _, t := range types {
		c.known[t.Slug] = true
	}
	return c.known[slug], nil
}

// notInCatalogue is PrepareDeliveries' refusal of an event whose slug the catalogue does
// not have: permanent, with the field at fault in the details, which EventWorkflow turns
// into its ErrInvalidEvent failure.
func notInCatalogue(slug string) error {
	msg := fmt.Sprintf("%q is not in the event catalogue (GET /service/common/webhook/v1.0/events lists it)", slug)
	return temporal.NewNonRetryableApplicationError("event.slug: "+msg, workflows.ErrPermanent, nil,
		[]models.FieldError{{Field: "event.slug", Message: msg}})
}
