package webhook_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/internal/dnstest"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/webhook"
)

var devPolicy = models.NetworkPolicy{AllowLoopback: true, AllowPrivate: true}

// TestCustomHeaderValuesSentAsSaved checks the subscriber validation against the wire:
// a custom header value is accepted at save exactly when it reaches the receiver as it
// was saved. A value that passes validation and then fails every send would block the
// subscriber; one that is refused but would have been sent unchanged is a needless 400.
func TestCustomHeaderValuesSentAsSaved(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Values("X-Probe")
		mu.Unlock()
	}))
	defer srv.Close()
	client := webhook.NewClient(webhook.ClientOptions{Policy: devPolicy})

	var values []string
	for b := 0; b < 256; b++ {
		c := string([]byte{byte(b)})
		values = append(values, "a"+c+"b", c+"a", "a"+c)
	}
	values = append(values, "", "plain value", "tab\tinside", "é utf-8", "a  b")
	accepted := 0
	for _, v := range values {
		sub := &models.Subscriber{
			Name: "probe", WebhookURL: srv.URL, Status: models.StatusActive, InactivePolicy: models.PolicyQueue,
			Secret: "probe-secret", Events: []models.SubscriberEvent{{Slug: "company/product/create/v1"}},
			CustomHeaders: models.Headers{"X-Probe": v},
		}
		verr := models.ValidateSubscriber(sub, devPolicy)
		if verr != nil && !strings.Contains(verr.Error(), "custom_headers.X-Probe") {
			t.Fatalf("value %q: unexpected validation error %v", v, verr)
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		resp := client.Send(context.Background(), webhook.Request{
			URL: srv.URL, Body: []byte(`{}`), Secrets: []string{"probe-secret"}, MessageID: "msg_1", EventID: "e",
			CustomHeaders: map[string]string{"X-Probe": v},
		})
		mu.Lock()
		unchanged := resp.OK() && len(got) == 1 && got[0] == v
		mu.Unlock()
		switch {
		case verr == nil && !unchanged:
			t.Errorf("value %q is accepted at save but not sent as saved (send: %s, received %q)", v, resp.Message(), got)
		case verr != nil && unchanged:
			t.Errorf("value %q is refused at save (%v) but would be sent unchanged", v, verr)
		}
		if verr == nil {
			accepted++
		}
	}
	if accepted < 100 {
		t.Fatalf("only %d of %d values accepted: the probe is not exercising valid values", accepted, len(values))
	}
}

// TestPublicReason checks what a partner is told about failed requests: the class and a
// short reason, never an address the host resolved to, a resolver's address, or bytes
// that another service sent back.
func TestPublicReason(t *testing.T) {
	// A port that refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String() + "/"
	ln.Close()

	// A service that answers with its own protocol's banner, as a database or an RPC
	// port would.
	banner := startTCP(t, func(c net.Conn) {
		_, _ = c.Write([]byte("\x00\x00\x18\x04SECRET-BANNER-7f3a postgres 15.4 internal\r\n\r\n"))
	})
	// A server that hangs up without answering.
	hangup := startTCP(t, func(net.Conn) {})
	// A plain-HTTP server reached over https.
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer plain.Close()
	// A TLS server with a certificate nobody trusts.
	untrusted := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer untrusted.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("upstream 10.1.2.3 down"))
	}))
	defer failing.Close()

	_, port, _ := net.SplitHostPort(strings.TrimPrefix(failing.URL, "http://"))
	dns := dnstest.Start(t, map[string]netip.Addr{
		"internal.test": netip.MustParseAddr("10.20.30.40"),
		"loop.test":     netip.MustParseAddr("127.0.0.1"),
	})
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dns)
	}}
	strict := webhook.NewClient(webhook.ClientOptions{Policy: models.NetworkPolicy{}, Resolver: resolver})
	dev := webhook.NewClient(webhook.ClientOptions{Policy: devPolicy, Resolver: resolver})

	cases := []struct {
		name   string
		client *webhook.Client
		url    string
		want   string
		class  string
	}{
		{"ConnectionRefused", dev, closedURL, "connection refused", models.ErrClassConnection},
		{"Banner", dev, banner, "the server's answer is not HTTP", models.ErrClassConnection},
		{"HangUp", dev, hangup, "the server closed the connection without an answer", models.ErrClassConnection},
		{"PlainHTTPOverTLS", dev, strings.Replace(plain.URL, "http://", "https://", 1), "TLS: the server did not answer with TLS", models.ErrClassConnection},
		{"UntrustedCertificate", dev, untrusted.URL, "TLS: the certificate is signed by an unknown authority", models.ErrClassConnection},
		{"HTTPCode", dev, failing.URL, "HTTP 502 Bad Gateway", models.ErrClassServer},
		{"ResolvesPrivate", strict, "http://internal.test:" + port + "/", "refused by policy: the host resolves to a private or link-local address", models.ErrClassRefused},
		{"ResolvesLoopback", strict, "http://loop.test:" + port + "/", "refused by policy: the host resolves to a loopback address", models.ErrClassRefused},
		{"NoSuchHost", strict, "http://missing.test/", "DNS: no such host", models.ErrClassConnection},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.client.Send(context.Background(), webhook.Request{
				URL: tc.url, Body: []byte(`{}`), Secrets: []string{"s3cret-value"}, MessageID: "msg_1", EventID: "e",
				Timeout: 5 * time.Second,
			})
			msg := resp.Message()
			if msg != tc.want || resp.ErrorClass != tc.class {
				t.Errorf("message %q class %q, want %q class %q (error: %v)", msg, resp.ErrorClass, tc.want, tc.class, resp.Err)
			}
			for _, secret := range []string{"SECRET-BANNER", "postgres", "10.20.30.40", "127.0.0.1", dns, "10.1.2.3"} {
				if strings.Contains(msg, secret) {
					t.Errorf("message %q reveals %q", msg, secret)
				}
			}
		})
	}
}

// startTCP serves every connection with handle, then closes it; it returns an http URL
// of the listener.
func startTCP(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				_, _ = c.Read(buf)
				handle(c)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}
