package transform

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestEngineRun_GivesUpOnStuckRuntime checks the last resort behind the sandbox's
// guards: when an evaluation is stuck where the interrupt cannot reach it, run
// returns within three times the time limit, counts the evaluation as stuck until it
// ends, and the engine goes on with other runtimes.
func TestEngineRun_GivesUpOnStuckRuntime(t *testing.T) {
	const timeout = 20 * time.Millisecond
	e := NewEngine(Limits{Timeout: timeout})
	var stuck atomic.Int32
	release := make(chan struct{})
	start := time.Now()
	_, err := e.run(context.Background(), &stuck, func(m *vm) (bool, error) {
		<-release // a Go call that does not look at the interrupt
		return true, nil
	})
	if elapsed := time.Since(start); elapsed > 3*timeout+time.Second {
		t.Errorf("run took %v, want about %v", elapsed, 3*timeout)
	}
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "could not be stopped") {
		t.Fatalf("run = %v, want ErrTimeout, could not be stopped", err)
	}
	if n := stuck.Load(); n != 1 {
		t.Fatalf("stuck = %d while the evaluation runs, want 1", n)
	}
	ok, err := e.run(context.Background(), nil, func(m *vm) (bool, error) { return true, nil })
	if !ok || err != nil {
		t.Fatalf("another evaluation meanwhile: %v, %v", ok, err)
	}
	close(release)
	for deadline := time.Now().Add(10 * time.Second); stuck.Load() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("stuck stayed 1 after the evaluation ended")
		}
	}
}
