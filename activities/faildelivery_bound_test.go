package activities_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store/storetest"
)

// A mail server that cannot be reached must not hold the delivery's workflow forever:
// after activities.AlertSendTries refused sends FailDelivery succeeds, leaving the
// notification unsent with its last error and its count of tries.
func TestFailDeliveryGivesUpOnAnUnreachableMailServer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		f := newBlockFixture(t, db)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there: every connection is refused
		acts := mustActivities(t, f.s, activities.SMTPNotifier{Addr: addr, From: "hookflow@example.com"}, nil)

		if tries := failUntilDone(t, acts, f.input, 2*activities.AlertSendTries); tries != activities.AlertSendTries {
			t.Errorf("FailDelivery took %d tries, want %d", tries, activities.AlertSendTries)
		}
		list := f.notifications(t)
		if len(list) != 1 {
			t.Fatalf("%d notifications, want exactly 1: %+v", len(list), list)
		}
		n := list[0]
		if n.SentAt != nil || n.SendAttempts != activities.AlertSendTries || !strings.Contains(n.SendError, "connection refused") {
			t.Errorf("notification sent_at %v, %d send attempts, error %q; want unsent after %d attempts, the refusal recorded",
				n.SentAt, n.SendAttempts, n.SendError, activities.AlertSendTries)
		}
		d, err := f.s.DeliveryByID(context.Background(), f.input.DeliveryID)
		if err != nil || d.Status != models.DeliveryFailed {
			t.Errorf("delivery %+v, %v; want failed", d, err)
		}
		// A further try (a redo of the activity) does not mail it again.
		if tries := failUntilDone(t, acts, f.input, 1); tries != 1 {
			t.Errorf("a redo took %d tries, want 1", tries)
		}
		if again := f.notifications(t); again[0].SendAttempts != activities.AlertSendTries {
			t.Errorf("after a redo: %d send attempts, want %d (given up)", again[0].SendAttempts, activities.AlertSendTries)
		}
	})
}
