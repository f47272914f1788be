package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestMigrateConcurrent runs Migrate from three stores at once on one fresh database, as
// three `hookflow migrate` processes started together do: all must succeed, and the
// catalogue must be seeded once.
func TestMigrateConcurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		const peers = 3
		stores := make([]*store.Store, peers)
		for i := range stores {
			s, err := store.Open(ctx, db.URL, nil)
			if err != nil {
				t.Fatalf("open %d: %v", i, err)
			}
			t.Cleanup(func() { _ = s.Close() })
			stores[i] = s
		}
		errs := make([]error, peers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.Migrate(ctx)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("migrate %d: %v", i, err)
			}
		}
		if t.Failed() {
			return
		}
		types, err := stores[0].ListEventTypes(ctx)
		if err != nil {
			t.Fatalf("list event types: %v", err)
		}
		seen := map[string]bool{}
		for _, et := range types {
			if seen[et.Slug] {
				t.Errorf("event type %s is in the catalogue twice", et.Slug)
			}
			seen[et.Slug] = true
		}
		if !seen["company/product/create/v1"] {
			t.Errorf("the catalogue lacks company/product/create/v1 after the migrations: %d entries", len(types))
		}
		// A fourth run, after the others, changes nothing and succeeds.
		if err := stores[0].Migrate(ctx); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
		again, err := stores[0].ListEventTypes(ctx)
		if err != nil || len(again) != len(types) {
			t.Errorf("catalogue after another migrate: %d entries (%v), want %d", len(again), err, len(types))
		}
	})
}
