package activities_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// A retry job whose filters cannot be read fails for good, says which field is at
// fault, is marked failed, and redelivers nothing: read as "no filter", a corrupt row
// would redeliver every delivery of the tenant.
func TestBulkRetryUnreadableFilters(t *testing.T) {
	cases := []struct {
		name              string
		subscribers, slug string // stored as they are
		want              string
	}{
		{name: "SubscriberIDsInvalidJSON", subscribers: `[1,`, want: "subscriber_ids: invalid JSON"},
		{name: "EventSlugsInvalidJSON", slug: `["company/product/create/v1"`, want: "event_slugs: invalid JSON"},
		{name: "SubscriberIDsNotNumbers", subscribers: `["1"]`, want: "subscriber_ids: invalid JSON"},
		{name: "SubscriberIDsNull", subscribers: `null`, want: "subscriber_ids: must be a non-empty JSON array"},
		{name: "EventSlugsEmptyArray", slug: `[]`, want: "event_slugs: must be a non-empty JSON array"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
				ctx := context.Background()
				s := storetest.MustOpen(t, db.URL)
				const slug = "company/product/create/v1"
				sub := mustSubscriber(t, s, "org1", slug, "")
				var ids []int64
				for i := range 3 {
					id := mustDelivery(t, s, sub, slug, fmt.Sprintf("e%d", i))
					if err := s.FinishDelivery(ctx, id, models.DeliveryFailed, "retries exhausted", store.Run{}); err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
				}
				job := &models.RetryJob{OrganizationID: sub.OrganizationID, ExtensionID: sub.ExtensionID,
					StartDate: time.Now().Add(-time.Hour), EndDate: time.Now().Add(time.Hour), Status: models.DeliveryFailed,
					SubscriberIDs: models.JSON(c.subscribers), EventSlugs: models.JSON(c.slug), Total: 3}
				if err := s.CreateRetryJob(ctx, job); err != nil {
					t.Fatal(err)
				}

				// The activity must fail before it asks Temporal for anything.
				tc := &recordingTemporal{}
				acts := mustActivities(t, s, nil, tc)
				_, err := newActivityEnv(acts).ExecuteActivity(acts.BulkRetry, workflows.BulkRetryInput{JobID: job.ID})
				if calls := tc.Calls(); len(calls) > 0 {
					t.Errorf("Temporal was asked %q; want nothing asked of it", calls)
				}
				var appErr *temporal.ApplicationError
				if !errors.As(err, &appErr) {
					t.Fatalf("error %v (%T), want a Temporal application error", err, err)
				}
				wantMsg := fmt.Sprintf("retry job %d: %s", job.ID, c.want)
				if appErr.Type() != workflows.ErrPermanent || !appErr.NonRetryable() || !strings.HasPrefix(appErr.Message(), wantMsg) {
					t.Fatalf("error type %q, non-retryable %v, message %q; want non-retryable %q starting %q",
						appErr.Type(), appErr.NonRetryable(), appErr.Message(), workflows.ErrPermanent, wantMsg)
				}

				got, err := s.GetRetryJob(ctx, models.Tenant{}, job.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != models.RetryFailed || !strings.HasPrefix(got.Error, wantMsg) || got.Redelivered != 0 {
					t.Errorf("job state %q, error %q, redelivered %d; want failed, %q…, 0", got.State, got.Error, got.Redelivered, wantMsg)
				}
				for _, id := range ids {
					d, err := s.DeliveryByID(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					if d.Status != models.DeliveryFailed || d.Series != 0 || d.WorkflowID != "wf:"+d.EventID {
						t.Errorf("delivery %d: status %q, series %d, workflow %q; want it untouched (failed, 0, wf:%s)",
							id, d.Status, d.Series, d.WorkflowID, d.EventID)
					}
				}
			})
		})
	}
}
