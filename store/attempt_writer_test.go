package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
)

// mustDeliveries stores an event for each id and plans its deliveries; it returns those to sub, returning the
// delivery ids in order.
func mustDeliveries(t *testing.T, s *store.Store, sub *models.Subscriber, slug string, eventIDs ...string) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for _, eid := range eventIDs {
		ev := &models.Event{CompanyID: 1, EventID: eid, Slug: slug, Payload: []byte(`{}`), AcceptedAt: time.Now()}
		if _, err := s.StoreEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		planned, _, err := s.PlanDeliveries(ctx, ev, 0, 10, func(int64) string { return "wf:" + eid })
		if err != nil {
			t.Fatalf("plan %s: %v", eid, err)
		}
		n := len(ids)
		for _, p := range planned {
			if p.SubscriberID == sub.ID {
				ids = append(ids, p.DeliveryID)
			}
		}
		if len(ids) != n+1 {
			t.Fatalf("plan %s: %+v, want one delivery to subscriber %d", eid, planned, sub.ID)
		}
	}
	return ids
}

func attemptRecord(sub *models.Subscriber, slug string, deliveryID int64, attempt, code int, status string) store.AttemptRecord {
	return store.AttemptRecord{Status: status, Attempt: models.Attempt{
		DeliveryID: deliveryID, OrganizationID: sub.OrganizationID, ExtensionID: sub.ExtensionID, CompanyID: 1,
		SubscriberID: sub.ID, EventSlug: slug, Attempt: attempt, AttemptedOn: time.Now().UTC(), ResponseCode: code, ResponseTimeMS: 2,
	}}
}

// A receiver's answer is whatever bytes it sends: NUL, invalid UTF-8, a character cut by
// the 4 KiB cap. Every store keeps it as readable text.
func TestAttemptResponseBodyAnyBytes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, nil)
		ids := mustDeliveries(t, s, sub, slug, "nul", "cap")

		nul := "ok\x00\xff\xfe{\"a\":\"é\"}\xc3"
		// A body filled to the cap whose last character is cut in two, after NULs that
		// grow when replaced.
		capped := strings.Repeat("\x00", 10) + strings.Repeat("a", models.MaxResponseBody-12) + "é"[:1] + "é"[:1]
		for i, body := range []string{nul, capped} {
			rec := attemptRecord(sub, slug, ids[i], 1, 200, models.DeliverySucceeded)
			rec.Attempt.ResponseBody = body
			rec.Attempt.Error = "receiver said \x00\xff"
			if err := s.RecordAttempt(ctx, rec); err != nil {
				t.Fatalf("record attempt with body %q: %v", body[:10], err)
			}
		}
		for i, want := range []string{"ok\uFFFD\uFFFD\uFFFD{\"a\":\"é\"}\uFFFD", ""} {
			attempts, err := s.ListAttempts(ctx, ids[i])
			if err != nil || len(attempts) != 1 {
				t.Fatalf("attempts of %d = %+v, %v", ids[i], attempts, err)
			}
			got := attempts[0].ResponseBody
			if !utf8.ValidString(got) || strings.ContainsRune(got, 0) || len(got) > models.MaxResponseBody {
				t.Fatalf("stored body %q: want valid UTF-8 without NUL, at most %d bytes", got, models.MaxResponseBody)
			}
			if want != "" && got != want {
				t.Fatalf("stored body = %q, want %q", got, want)
			}
			if want == "" && !strings.HasPrefix(got, strings.Repeat("\uFFFD", 10)+"aaa") {
				t.Fatalf("capped body starts %q, want the NULs replaced and the text kept", got[:40])
			}
			if e := attempts[0].Error; !utf8.ValidString(e) || strings.ContainsRune(e, 0) {
				t.Fatalf("stored error %q: want valid UTF-8 without NUL", e)
			}
			d, err := s.DeliveryByID(ctx, ids[i])
			if err != nil || d.Status != models.DeliverySucceeded {
				t.Fatalf("delivery = %+v, %v; want succeeded", d, err)
			}
		}
	})
}

// rejectCode makes the database refuse any attempt row with response code code: a row
// that cannot be written for a reason other than its body.
func rejectCode(t *testing.T, s *store.Store, code int) {
	t.Helper()
	c := strconv.Itoa(code)
	sql := "ALTER TABLE attempts ADD CONSTRAINT attempts_test_reject CHECK (response_code <> " + c + ")"
	if s.Dialect() == "sqlite" {
		sql = "CREATE TRIGGER attempts_test_reject BEFORE INSERT ON attempts WHEN NEW.response_code = " + c +
			" BEGIN SELECT RAISE(ABORT, 'attempt refused by the test'); END"
	}
	if err := store.ExecForTest(s, sql); err != nil {
		t.Fatalf("install the rejecting constraint: %v", err)
	}
}

// One row the database refuses fails only its own caller: the other attempts of its
// batch are committed and their callers succeed.
func TestAttemptBatchIsolatesABadRow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		ctx := context.Background()
		s := storetest.MustOpen(t, db.URL)
		const slug = "company/product/create/v1"
		sub := mustSubscriber(t, s, "org1", slug, nil)
		other := mustSubscriber(t, s, "org2", slug, nil)
		ids := mustDeliveries(t, s, sub, slug, "b1", "b2")
		otherIDs := mustDeliveries(t, s, other, slug, "b3")
		rejectCode(t, s, 599)

		errs := store.WriteAttemptBatch(s, []store.AttemptRecord{
			attemptRecord(sub, slug, ids[0], 1, 200, models.DeliverySucceeded),
			attemptRecord(sub, slug, ids[1], 1, 599, models.DeliveryRetrying),
			attemptRecord(other, slug, otherIDs[0], 1, 503, models.DeliveryRetrying),
		})
		if errs[0] != nil || errs[2] != nil {
			t.Fatalf("good rows' answers = %v, %v; want nil: one bad row must not fail others", errs[0], errs[2])
		}
		if errs[1] == nil {
			t.Fatal("the refused row's answer = nil, want its error")
		}
		for _, c := range []struct {
			id       int64
			status   string
			attempts int
		}{{ids[0], models.DeliverySucceeded, 1}, {ids[1], models.DeliveryPending, 0}, {otherIDs[0], models.DeliveryRetrying, 1}} {
			d, err := s.DeliveryByID(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			list, err := s.ListAttempts(ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != c.status || d.Attempts != c.attempts || len(list) != c.attempts {
				t.Errorf("delivery %d: status %q, %d attempts (%d rows); want %q, %d", c.id, d.Status, d.Attempts, len(list), c.status, c.attempts)
			}
		}
	})
}
