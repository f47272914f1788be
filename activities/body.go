package activities

import (
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// keepBody decides what becomes of the body an attempt sent. A delivery's body is fixed
// at the first attempt of its series: when that attempt does not succeed, the body is
// stored with the delivery (in the attempt's own write) and every retry sends it again,
// so a receiver never sees different content under one webhook-id; when the series ends,
// the stored body is dropped. A first attempt that succeeds, the common case, stores
// nothing.
func keepBody(rec *store.AttemptRecord, d *models.Delivery, body []byte) {
	switch {
	case models.DeliveryFinal(rec.Status):
		rec.ClearRetryBody = d.RetryBody != nil
	case d.RetryBody == nil:
		rec.RetryBody = body
	}
}
