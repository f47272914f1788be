package main_test

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	main "github.com/hookflow/hookflow/cmd/hookflow"
	"github.com/hookflow/hookflow/internal/dnstest"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// TestEgressGuard runs a stack with the production network policy and checks that
// deliveries cannot reach loopback or cloud-metadata addresses, whether named directly
// or through a host name that resolves to them.
func TestEgressGuard(t *testing.T) {
	rc := newReceiver(t, nil)
	port := strconv.Itoa(rc.Listener.Addr().(*net.TCPAddr).Port)
	dns := dnstest.Start(t, map[string]netip.Addr{
		"receiver.test": netip.MustParseAddr("127.0.0.1"),
		"metadata.test": netip.MustParseAddr("169.254.169.254"),
	})
	s := startStack(t, storetest.Databases(t)[0], func(c *main.Config) {
		c.Network = models.NetworkPolicy{} // production: no loopback, no private networks
		c.DNSServer = dns
	})

	for _, url := range []string{"http://127.0.0.1:" + port + "/hook", "http://[::1]:" + port + "/", "http://169.254.169.254/latest/meta-data/", "http://localhost:" + port + "/"} {
		var e errorEnvelope
		if code := s.call("POST", partnerBase+"/company/1/subscriber", subscriberBody(url, "egress-secret", "company/product/create/v1"), &e); code != 400 || !e.hasField("webhook_url") {
			t.Errorf("%s: got %d %+v, want 400 naming webhook_url", url, code, e)
		}
	}

	// Names pass validation (they are not addresses); the dial-time check stops them.
	for _, host := range []string{"receiver.test", "metadata.test"} {
		sub := s.createSubscriber("http://"+host+":"+port+"/hook", nil)
		s.send("egress-" + strings.TrimSuffix(host, ".test"))
		var d models.Delivery
		waitFor(t, 20*time.Second, host+"'s first attempt", func() bool {
			d = s.deliveries(sub)["egress-"+strings.TrimSuffix(host, ".test")]
			return d.Attempts >= 1
		})
		attempts, _ := s.Store().ListAttempts(context.Background(), d.ID)
		if len(attempts) == 0 || attempts[0].ErrorClass != models.ErrClassRefused || !strings.Contains(attempts[0].Error, "refused by policy") {
			t.Errorf("%s: attempts %+v, want a refused first attempt", host, attempts)
		}
		// The partner wrote a name; the address it resolves to is the deployment's.
		if len(attempts) > 0 && (strings.Contains(attempts[0].Error, "127.0.0.1") || strings.Contains(attempts[0].Error, "169.254")) {
			t.Errorf("%s: the attempt's error %q names the address the host resolves to", host, attempts[0].Error)
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d requests", n)
	}
}

// TestSecretRotation checks that after a secret change both secrets sign
// webhook-signature during the grace period, and x-fp-signature uses the new one.
func TestSecretRotation(t *testing.T) {
	s := startStack(t, storetest.Databases(t)[0], nil)
	rc := newReceiver(t, nil)
	const oldSecret, newSecret = "old-secret-value", "whsec_bmV3LXNlY3JldC1rZXktYnl0ZXM="
	sub := s.createSubscriber(rc.URL, func(b map[string]any) {
		b["auth_meta"] = map[string]any{"type": "hmac", "secret": oldSecret}
		b["custom_headers"] = map[string]any{"X-Partner-Token": "abc123"}
	})
	var updated map[string]any
	path := partnerBase + "/company/1/subscriber/" + itoa64(sub)
	if code := s.call("PUT", path, map[string]any{"auth_meta": map[string]any{"type": "hmac", "secret": newSecret}}, &updated); code != 200 {
		t.Fatalf("PUT: %d %v", code, updated)
	}
	if strings.Contains(updated["auth_meta"].(map[string]any)["secret"].(string), "c2VjcmV0") {
		t.Fatalf("PUT answer shows the secret: %v", updated["auth_meta"])
	}
	s.send("rot-1")
	waitFor(t, 20*time.Second, "the delivery", func() bool { return len(rc.requests()) == 1 })
	r := rc.requests()[0]
	if !verifyFP(newSecret, r.Body, r.Header.Get("x-fp-signature")) {
		t.Error("x-fp-signature is not signed with the new secret")
	}
	if !verifyStandard(newSecret, r.Header, r.Body) || !verifyStandard(oldSecret, r.Header, r.Body) {
		t.Errorf("webhook-signature %q does not verify with both secrets", r.Header.Get("webhook-signature"))
	}
	if got := r.Header.Get("X-Partner-Token"); got != "abc123" {
		t.Errorf("custom header = %q", got)
	}
	// Custom headers cannot override the signature headers.
	var e errorEnvelope
	if code := s.call("PUT", path, map[string]any{"custom_headers": map[string]any{"x-fp-signature": "forged"}}, &e); code != 400 || !e.hasField("custom_headers.x-fp-signature") {
		t.Fatalf("overriding x-fp-signature: %d %+v", code, e)
	}
}
