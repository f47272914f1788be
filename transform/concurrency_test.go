package transform_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/payload"
	"github.com/hookflow/hookflow/transform"
)

// TestConcurrentEvaluation shares one engine, its filters and reducers and one payload
// among goroutines that parse and evaluate at once; run it with -race.
func TestConcurrentEvaluation(t *testing.T) {
	// The time limit is generous: this test is about data races, not timing, and runs
	// eight goroutines on however few cores.
	e := transform.NewEngine(transform.Limits{MaxIdleVMs: 4, CacheSize: 8, Timeout: 5 * time.Second})
	doc := MustDecode(t, productJSON)
	type check struct {
		config string
		want   bool
		fails  bool
	}
	checks := []check{
		{`{"query":"$.brand.uid","condition":"(uid) => uid === 238"}`, true, false},
		{expression("$.items[*].price", "p => p > 5000"), false, false},
		{`{"logic":"or","conditions":[` + expression("$.is_active", "a => !a") + `,` + expression("$.tags", "t => t.includes('trail')") + `]}`, true, false},
		{expression("$.brand", "b => b.missing.x"), false, true},
		{expression("$", "p => { let n = 0; for (const i of p.items) n += i.quantity; return n === 20 }"), true, false},
	}
	reducer := MustReducer(t, e, `{"brand":"$.brand.name","sizes":"$.items[*].size"}`)
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				c := checks[(w+i)%len(checks)]
				// Distinct texts too, so that parsing and eviction run concurrently.
				config := c.config
				if i%7 == 0 {
					config = fmt.Sprintf("%s%*s", c.config, i%5+1, "")
				}
				f, err := e.Filter([]byte(config))
				if err != nil {
					errs <- err
					return
				}
				got, err := f.Match(context.Background(), doc)
				var ee *transform.EvalError
				if c.fails != errors.As(err, &ee) || (!c.fails && got != c.want) {
					errs <- fmt.Errorf("%s: got %v, %v", c.config, got, err)
					return
				}
				out, err := reducer.Apply(doc)
				if err != nil || string(payload.Marshal(out)) != `{"brand":"Acme Outdoor","sizes":["7","8","9","10"]}` {
					errs <- fmt.Errorf("reducer: %s, %v", payload.Marshal(out), err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
