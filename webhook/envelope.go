// Package webhook builds, signs and sends Hookflow's webhook requests: the Fynd-shaped
// envelope, the x-fp-signature and Standard Webhooks signatures, and an HTTP client that
// refuses forbidden destinations at dial time, never follows redirects and reads
// responses only up to a cap. The delivery activities and the API's "test connection"
// both send through it, so a ping is exactly what a delivery is.
package webhook

import (
	"strconv"

	"github.com/hookflow/hookflow/payload"
)

// EventMeta is the "event" part of the envelope and the fields beside it.
type EventMeta struct {
	ID               string // the producer's event id
	Category         string
	Name             string
	Type             string
	Version          string
	CreatedTimestamp int64 // epoch milliseconds when the event was accepted
	TraceID          string
	CompanyID        int64
	ApplicationID    string // omitted from the envelope when empty
}

// AppendBody appends the envelope to dst:
//
//	{"event":{"id","name","type","category","version","created_timestamp","trace_id":[…]},
//	 "company_id":…,"application_id":…,"contains":[…],"payload":…}
//
// payloadJSON must be the canonical encoding of the payload object (package payload) and
// contains its top-level keys; the result is then exactly what JSON.stringify prints for
// JSON.parse of it, which receivers that verify over that expression require.
func AppendBody(dst []byte, m EventMeta, contains []string, payloadJSON []byte) []byte {
	dst = append(dst, `{"event":{"id":`...)
	dst = payload.Append(dst, m.ID)
	dst = append(dst, `,"name":`...)
	dst = payload.Append(dst, m.Name)
	dst = append(dst, `,"type":`...)
	dst = payload.Append(dst, m.Type)
	dst = append(dst, `,"category":`...)
	dst = payload.Append(dst, m.Category)
	dst = append(dst, `,"version":`...)
	dst = payload.Append(dst, m.Version)
	dst = append(dst, `,"created_timestamp":`...)
	dst = strconv.AppendInt(dst, m.CreatedTimestamp, 10)
	dst = append(dst, `,"trace_id":[`...)
	if m.TraceID != "" {
		dst = payload.Append(dst, m.TraceID)
	}
	dst = append(dst, `]},"company_id":`...)
	dst = strconv.AppendInt(dst, m.CompanyID, 10)
	if m.ApplicationID != "" {
		dst = append(dst, `,"application_id":`...)
		dst = payload.Append(dst, m.ApplicationID)
	}
	dst = append(dst, `,"contains":[`...)
	for i, k := range contains {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = payload.Append(dst, k)
	}
	dst = append(dst, `],"payload":`...)
	dst = append(dst, payloadJSON...)
	return append(dst, '}')
}

// MessageID returns the webhook-id of the message that ref names: "msg_" and ref.
func MessageID(ref string) string { return "msg_" + ref }

// DeliveryMessageID returns the webhook-id of a delivery: the same for every attempt and
// every redelivery of it, so that receivers can drop duplicates.
func DeliveryMessageID(deliveryID int64) string {
	return MessageID(strconv.FormatInt(deliveryID, 10))
}
