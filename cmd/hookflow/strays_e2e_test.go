package main_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// newPathToken returns a random path segment for one receiver's URLs. Every subscriber of
// a test points below its receiver's token, so a request for any other path was not sent
// to this test: a process of another test (or of an earlier run) reached the port after
// the kernel handed it to this receiver.
func newPathToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:])
}

// stray is a request that reached a test's receiver but is none of its deliveries.
type stray struct {
	At                                   time.Time
	Why                                  string
	Method, Path, WebhookID, EventID, UA string
	Body                                 string // the first bytes
}

func newStray(r *http.Request, body []byte, why string) stray {
	const keep = 200
	if len(body) > keep {
		body = body[:keep]
	}
	return stray{At: time.Now(), Why: why, Method: r.Method, Path: r.URL.Path, WebhookID: r.Header.Get("webhook-id"),
		EventID: r.Header.Get("x-fp-event-id"), UA: r.Header.Get("User-Agent"), Body: string(body)}
}

func (s stray) String() string {
	return fmt.Sprintf("%s %s %s (%s): webhook-id %q, x-fp-event-id %q, User-Agent %q, body %q",
		s.At.Format("15:04:05.000"), s.Method, s.Path, s.Why, s.WebhookID, s.EventID, s.UA, s.Body)
}

// reportStrays logs every stray a receiver got and fails t if there was one. With path
// tokens and child processes that die with the test binary, a stray means that a
// process outside this test still delivers to a port it once used: the tests are not
// isolated, which must be fixed, not tolerated. (A second webhook-id for one of the
// test's own deliveries is another matter, a product bug, which the tests check apart.)
func reportStrays(t *testing.T, receiver string, strays []stray) {
	t.Helper()
	failing := 0
	for _, s := range strays {
		t.Logf("stray request at %s: %s", receiver, s)
		// An HTTP/2 connection preface ("PRI *") is a gRPC client of another test's
		// stopped Temporal server redialling a port the kernel has since handed to this
		// receiver: it is no webhook request (Hookflow POSTs over HTTP/1.1 or TLS), so it
		// says nothing about where deliveries go. It is logged, not failed.
		if s.Method != "PRI" {
			failing++
		}
	}
	if failing > 0 {
		t.Errorf("%s got %d requests that are none of this test's deliveries (logged above): they came from another process, not from this test's hookflow", receiver, failing)
	}
}
