package webhook_test

import (
	"testing"

	"github.com/hookflow/hookflow/webhook"
)

// The Standard Webhooks specification's published test vector: any of its receiver
// libraries verifies what matches it.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestStandardSignatureVector(t *testing.T) {
	if got := webhook.StandardSignature(vectorSecret, vectorMsgID, vectorTimestamp, []byte(vectorBody)); got != vectorSignature {
		t.Fatalf("StandardSignature = %s, want the specification's %s", got, vectorSignature)
	}
	// A secret without the whsec_ prefix is used as its UTF-8 bytes (computed with
	// `openssl dgst -sha256 -hmac plain-secret -binary | base64` over "msg_1.1700000000.{}").
	if got, want := webhook.StandardSignature("plain-secret", "msg_1", 1700000000, []byte(`{}`)), "v1,p6NQsMzLWth/nlsTq5oslSVPNvyHmbQZrni4qovDPj4="; got != want {
		t.Fatalf("StandardSignature(plain secret) = %s, want %s", got, want)
	}
}

// TestFPSignatureVector: x-fp-signature is the lowercase hex HMAC-SHA256 of the body
// keyed with the secret, as Fynd's receivers check it (the expected value computed with
// `openssl dgst -sha256 -hmac fynd-extension-secret`).
func TestFPSignatureVector(t *testing.T) {
	body := []byte(`{"event":{"name":"product","type":"create"},"company_id":1}`)
	if got, want := webhook.FPSignature("fynd-extension-secret", body), "2e625941e7699dd3aabb51b15685a0d48ee4b6758def46b24a85bb510cf3848a"; got != want {
		t.Fatalf("FPSignature = %s, want %s", got, want)
	}
}

// TestSignDuringRotation: both secrets sign webhook-signature, newest first; the
// x-fp-signature uses the newest.
func TestSignDuringRotation(t *testing.T) {
	sigs := webhook.Sign([]string{vectorSecret, "plain-secret"}, vectorMsgID, vectorTimestamp, []byte(vectorBody))
	want := vectorSignature + " " + webhook.StandardSignature("plain-secret", vectorMsgID, vectorTimestamp, []byte(vectorBody))
	if sigs.Standard != want || sigs.Timestamp != vectorTimestamp {
		t.Fatalf("Standard = %q (timestamp %d), want %q", sigs.Standard, sigs.Timestamp, want)
	}
	if sigs.FP != webhook.FPSignature(vectorSecret, []byte(vectorBody)) {
		t.Fatalf("FP = %s, want the newest secret's", sigs.FP)
	}
}
