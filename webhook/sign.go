package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
)

// Header names Hookflow sets on every request.
const (
	HeaderFPSignature      = "x-fp-signature"
	HeaderFPEventID        = "x-fp-event-id"
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// FPSignature returns Fynd's x-fp-signature: the lowercase hex HMAC-SHA256 of body keyed
// with the UTF-8 bytes of secret.
func FPSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// StandardKey returns the HMAC key of the Standard Webhooks scheme for secret: the
// base64-decoded part after "whsec_" when the secret has that prefix (and decodes), else
// the secret's UTF-8 bytes.
func StandardKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return key
		}
	}
	return []byte(secret)
}

// StandardSignature returns one Standard Webhooks signature, "v1,<base64 HMAC-SHA256 of
// id.timestamp.body>".
func StandardSignature(secret, msgID string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, StandardKey(secret))
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, timestamp, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Signatures holds the signature header values of one request.
type Signatures struct {
	FP        string // x-fp-signature, with the newest secret
	Standard  string // webhook-signature: one v1 signature per secret, space-separated
	Timestamp int64  // webhook-timestamp, epoch seconds
}

// Sign signs body for msgID at timestamp (epoch seconds) with each secret, newest first.
// During a secret rotation both secrets sign webhook-signature, so a receiver holding
// either verifies; x-fp-signature carries one value and uses the newest secret.
func Sign(secrets []string, msgID string, timestamp int64, body []byte) Signatures {
	sigs := Signatures{Timestamp: timestamp}
	parts := make([]string, 0, len(secrets))
	for i, s := range secrets {
		if i == 0 {
			sigs.FP = FPSignature(s, body)
		}
		parts = append(parts, StandardSignature(s, msgID, timestamp, body))
	}
	sigs.Standard = strings.Join(parts, " ")
	return sigs
}
