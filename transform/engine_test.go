package transform_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/transform"
)

func TestEngine_Limits(t *testing.T) {
	got := transform.NewEngine(transform.Limits{}).Limits()
	if want := transform.DefaultLimits(); got != want {
		t.Fatalf("zero Limits became %+v, want the defaults %+v", got, want)
	}
	if got.Timeout != 50*time.Millisecond {
		t.Fatalf("default Timeout = %v, want 50ms", got.Timeout)
	}
	custom := transform.NewEngine(transform.Limits{Timeout: time.Second, MaxQueryBytes: 10}).Limits()
	if custom.Timeout != time.Second || custom.MaxQueryBytes != 10 || custom.MaxConditionBytes != got.MaxConditionBytes {
		t.Fatalf("custom limits became %+v", custom)
	}
}

func TestEngine_SizeLimits(t *testing.T) {
	e := transform.NewEngine(transform.Limits{MaxConfigBytes: 200, MaxQueryBytes: 20, MaxConditionBytes: 30})
	tests := []struct {
		name, config, field, message string
	}{
		{"Config", expression("$.a", "x => x"+strings.Repeat(" ", 200)), "", "larger than 200 bytes"},
		{"Query", expression("$."+strings.Repeat("a", 20), "x => x"), "query", "longer than 20 bytes"},
		{"Condition", expression("$.a", "x => x === '"+strings.Repeat("a", 30)+"'"), "condition", "longer than 30 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Filter([]byte(tt.config))
			var ce *transform.ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field || !strings.Contains(ce.Message, tt.message) {
				t.Fatalf("Filter = %v, want %q at %q", err, tt.message, tt.field)
			}
		})
	}
}

func TestEngine_Timeouts(t *testing.T) {
	const timeout = slowdown * 20 * time.Millisecond
	e := transform.NewEngine(transform.Limits{Timeout: timeout})
	doc := MustDecode(t, `{}`)
	loop := MustFilter(t, e, expression("$", "x => { while (true) {} }"))

	_, err := loop.Match(context.Background(), doc)
	var ee *transform.EvalError
	if !errors.As(err, &ee) || !errors.Is(err, transform.ErrTimeout) || ee.Field != "condition" {
		t.Fatalf("Match = %v, want an *EvalError wrapping ErrTimeout at condition", err)
	}
	if want := "condition timed out after " + timeout.String(); ee.Message != want {
		t.Fatalf("Message = %q, want %q", ee.Message, want)
	}

	// A context deadline shorter than the limit wins, and is reported as such.
	ctx, cancel := context.WithTimeout(context.Background(), timeout/4)
	defer cancel()
	_, err = loop.Match(ctx, doc)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, transform.ErrTimeout) {
		t.Fatalf("Match with a deadline = %v, want context.DeadlineExceeded", err)
	}

	// The time limit bounds parsing too, when the source runs forever on instantiation.
	_, err = e.Filter([]byte(expression("$", "(() => { while (true) {} })()")))
	var ce *transform.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "timed out") {
		t.Fatalf("Filter = %v, want a ConfigError saying it timed out", err)
	}

	// After all this the engine evaluates normally.
	ok, err := MustFilter(t, e, expression("$", "x => true")).Match(context.Background(), doc)
	if !ok || err != nil {
		t.Fatalf("Match = %v, %v", ok, err)
	}
}
