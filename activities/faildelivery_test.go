package activities_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/workflows"
)

// mailbox collects the messages a test SMTP server accepted.
type mailbox struct {
	mu    sync.Mutex
	mails []string
}

func (m *mailbox) add(s string) { m.mu.Lock(); m.mails = append(m.mails, s); m.mu.Unlock() }

func (m *mailbox) all() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.mails...)
}

// failUntilDone runs FailDelivery as Temporal's unlimited retry policy would: again after
// every failed try, here at most max times. It returns how many tries it took.
func failUntilDone(t *testing.T, acts *activities.Activities, in workflows.FailInput, max int) int {
	t.Helper()
	env := newActivityEnv(acts)
	for try := 1; try <= max; try++ {
		_, err := env.ExecuteActivity(acts.FailDelivery, in)
		if err == nil {
			return try
		}
		t.Logf("FailDelivery try %d: %v", try, err)
	}
	t.Fatalf("FailDelivery still failing after %d tries", max)
	return 0
}

// blockFixture is a subscriber with an e-mail address and one delivery that has failed
// for good.
type blockFixture struct {
	s     *store.Store
	sub   *models.Subscriber
	input workflows.FailInput
}

func newBlockFixture(t *testing.T, db storetest.Database) blockFixture {
	t.Helper()
	s := storetest.MustOpen(t, db.URL)
	const slug = "company/product/create/v1"
	sub := mustSubscriber(t, s, "org1", slug, "ops@example.com")
	id := mustDelivery(t, s, sub, slug, "e1")
	return blockFixture{s: s, sub: sub, input: workflows.FailInput{
		DeliveryID: id, SubscriberID: sub.ID, Reason: "retries exhausted: HTTP 500", Block: true,
	}}
}

// notifications returns the tenant's notifications, and checks that the subscriber is
// blocked.
func (f blockFixture) notifications(t *testing.T) []models.Notification {
	t.Helper()
	ctx := context.Background()
	sub, err := f.s.SubscriberByID(ctx, f.sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != models.StatusBlocked {
		t.Errorf("subscriber status %q, want blocked", sub.Status)
	}
	list, err := f.s.ListNotifications(ctx, models.Tenant{OrganizationID: f.sub.OrganizationID, ExtensionID: f.sub.ExtensionID}, 100)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// wantOneAlertSentOnce checks that the block raised exactly one notification, recorded as
// sent, and that the mail server got exactly one mail.
func (f blockFixture) wantOneAlertSentOnce(t *testing.T, box *mailbox) {
	t.Helper()
	list := f.notifications(t)
	if len(list) != 1 {
		t.Fatalf("%d notifications, want exactly 1: %+v", len(list), list)
	}
	if n := list[0]; n.SentAt == nil || n.Kind != models.NotifySubscriberBlocked || n.SubscriberID != f.sub.ID {
		t.Errorf("notification %d: kind %q, subscriber %d, sent_at %v, %d send attempts, error %q; want the subscriber_blocked alert of subscriber %d, sent",
			n.ID, n.Kind, n.SubscriberID, n.SentAt, n.SendAttempts, n.SendError, f.sub.ID)
	}
	mails := box.all()
	if len(mails) != 1 {
		t.Fatalf("the mail server got %d mails, want exactly 1", len(mails))
	}
	if !strings.Contains(mails[0], "To: ops@example.com") || !strings.Contains(mails[0], "retries exhausted: HTTP 500") {
		t.Errorf("mail %q; want the alert to ops@example.com with the reason", mails[0])
	}
}

// A mail server that refuses the alert once: the failed send fails the try, the retried
// FailDelivery (which no longer blocks anything) sends the same notification, and it is
// sent once. A later blocking failure of another delivery of the (already blocked)
// subscriber sends nothing more.
func TestFailDeliveryAlertSurvivesAFailedSend(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		f := newBlockFixture(t, db)
		var box mailbox
		var refused atomic.Int32
		addr := startSMTPServer(t, smtpServer{got: box.add, busy: func() bool { return refused.Add(1) == 1 }})
		acts := mustActivities(t, f.s, activities.SMTPNotifier{Addr: addr, From: "hookflow@example.com"}, nil)

		if tries := failUntilDone(t, acts, f.input, 10); tries != 2 {
			t.Errorf("FailDelivery took %d tries, want 2 (the refused send, then the one that went out)", tries)
		}
		f.wantOneAlertSentOnce(t, &box)

		other := f.input
		other.DeliveryID = mustDelivery(t, f.s, f.sub, "company/product/create/v1", "e2")
		failUntilDone(t, acts, other, 1)
		f.wantOneAlertSentOnce(t, &box)
	})
}

// crashOnce stands in for the worker dying after the block was committed and before the
// alert went out: its first Send panics, which ends the activity's try as a crash
// would, without the try reporting anything; later sends go to next. (A real process
// crash cannot be staged inside the test binary; the Notifier interface is the seam.)
type crashOnce struct {
	next    activities.Notifier
	crashed atomic.Bool
}

func (c *crashOnce) Send(ctx context.Context, n *models.Notification) error {
	if c.crashed.CompareAndSwap(false, true) {
		panic("worker died before the alert was mailed")
	}
	return c.next.Send(ctx, n)
}

func TestFailDeliveryAlertSurvivesACrashBeforeTheSend(t *testing.T) {
	t.Run("DiesInSend", func(t *testing.T) {
		storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
			f := newBlockFixture(t, db)
			var box mailbox
			addr := startSMTPServer(t, smtpServer{got: box.add})
			acts := mustActivities(t, f.s, &crashOnce{next: activities.SMTPNotifier{Addr: addr, From: "hookflow@example.com"}}, nil)

			if tries := failUntilDone(t, acts, f.input, 10); tries != 2 {
				t.Errorf("FailDelivery took %d tries, want 2 (the crashed one, then the one that sent)", tries)
			}
			f.wantOneAlertSentOnce(t, &box)
		})
	})
	// The state a try leaves when it dies right after the block's transaction: the
	// subscriber blocked, its alert stored, no send begun.
	t.Run("DiesAfterTheBlock", func(t *testing.T) {
		storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
			f := newBlockFixture(t, db)
			ctx := context.Background()
			if err := f.s.FinishDelivery(ctx, f.input.DeliveryID, models.DeliveryFailed, f.input.Reason, store.Run{}); err != nil {
				t.Fatal(err)
			}
			blocked, n, err := f.s.BlockSubscriberWithAlert(ctx, f.sub.ID, f.input.Reason, func(sub *models.Subscriber) *models.Notification {
				return &models.Notification{DeliveryID: f.input.DeliveryID, Kind: models.NotifySubscriberBlocked, Email: sub.EmailID,
					Subject: "Webhook is blocked", Message: "because " + f.input.Reason}
			})
			if err != nil || !blocked || n == nil {
				t.Fatalf("block = %v, %+v, %v", blocked, n, err)
			}
			var box mailbox
			addr := startSMTPServer(t, smtpServer{got: box.add})
			acts := mustActivities(t, f.s, activities.SMTPNotifier{Addr: addr, From: "hookflow@example.com"}, nil)

			if tries := failUntilDone(t, acts, f.input, 10); tries != 1 {
				t.Errorf("FailDelivery took %d tries, want 1", tries)
			}
			f.wantOneAlertSentOnce(t, &box)
		})
	})
}
