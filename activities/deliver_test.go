package activities_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/store/storetest"
	"github.com/hookflow/hookflow/transform"
	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/workflows"
)

var deliverPolicy = workflows.RetryPolicy{InitialInterval: 30 * time.Second, BackoffCoefficient: 2, MaximumInterval: 4 * time.Hour,
	MaximumAttempts: 3, Expiration: 48 * time.Hour}

// receiver is a webhook receiver on loopback that answers each request with the next
// status of its script (200 once the script is used up) and keeps what it received.
type receiver struct {
	*httptest.Server
	mu         sync.Mutex
	statuses   []int
	retryAfter string
	got        []http.Header
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		status := http.StatusOK
		if n := len(r.got); n < len(r.statuses) {
			status = r.statuses[n]
		}
		r.got = append(r.got, req.Header.Clone())
		if r.retryAfter != "" {
			w.Header().Set("Retry-After", r.retryAfter)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.got...)
}

// flakyStore is the real store, except that the calls named in failNext fail once each,
// as they would while the database is away: it stands in for an outage at an exact
// point of an attempt (cmd/hookflow's TestDatabaseOutage cuts a real database).
type flakyStore struct {
	*store.Store
	mu       sync.Mutex
	failNext map[string]bool
}

var errAway = &models.Error{Code: models.EUNAVAILABLE, Message: "the database is unavailable"}

func (s *flakyStore) fail(call string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext[call] {
		delete(s.failNext, call)
		return true
	}
	return false
}

func (s *flakyStore) LoadDeliveryJob(ctx context.Context, id int64) (*store.DeliveryJob, error) {
	if s.fail("LoadDeliveryJob") {
		return nil, errAway
	}
	return s.Store.LoadDeliveryJob(ctx, id)
}

func (s *flakyStore) RecordAttempt(ctx context.Context, rec store.AttemptRecord) error {
	if s.fail("RecordAttempt") {
		return errAway
	}
	return s.Store.RecordAttempt(ctx, rec)
}

var fixtureCompany atomic.Int64

// deliveryFixture is one planned delivery of an event to a subscriber of rc.
type deliveryFixture struct {
	store        *flakyStore
	acts         *activities.Activities
	env          *testsuite.TestActivityEnvironment
	deliveryID   int64
	eventRowID   int64
	subscriberID int64
}

func newDeliveryFixture(t *testing.T, db storetest.Database, rc *receiver) *deliveryFixture {
	t.Helper()
	return newDeliveryFixtureWith(t, db, rc, nil)
}

// newDeliveryFixtureWith is newDeliveryFixture with the subscriber changed by mutate
// before it is stored.
func newDeliveryFixtureWith(t *testing.T, db storetest.Database, rc *receiver, mutate func(*models.Subscriber)) *deliveryFixture {
	t.Helper()
	ctx := context.Background()
	s := storetest.MustOpen(t, db.URL)
	const slug = "company/product/create/v1"
	company := fixtureCompany.Add(1) // each fixture's own tenant, in a database the subtests share
	sub := &models.Subscriber{OrganizationID: "org", ExtensionID: "ext", CompanyID: company, Name: "receiver", WebhookURL: rc.URL + "/hook",
		Status: models.StatusActive, InactivePolicy: models.PolicyQueue, Secret: "s3cret-value",
		Events: []models.SubscriberEvent{{Slug: slug}}}
	if mutate != nil {
		mutate(sub)
	}
	storetest.MustInstall(t, s, sub.OrganizationID, sub.ExtensionID, sub.CompanyID)
	if err := s.CreateSubscriber(ctx, sub); err != nil {
		t.Fatal(err)
	}
	ev := &models.Event{CompanyID: company, EventID: "e1", Slug: slug, Payload: []byte(`{"a":1}`), AcceptedAt: time.Now()}
	if _, err := s.StoreEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	planned, _, err := s.PlanDeliveries(ctx, ev, 0, 10, func(id int64) string { return workflows.DeliveryWorkflowID(company, "e1", id, 0) })
	if err != nil || len(planned) != 1 {
		t.Fatalf("plan: %v %+v", err, planned)
	}
	fs := &flakyStore{Store: s, failNext: map[string]bool{}}
	acts, env := newDeliverEnv(t, fs, 0)
	return &deliveryFixture{store: fs, acts: acts, env: env, deliveryID: planned[0].DeliveryID, eventRowID: ev.ID, subscriberID: sub.ID}
}

// newDeliverEnv returns the activities on st (dbWait 0: the default bound) and an
// activity environment running their Deliver.
func newDeliverEnv(t *testing.T, st activities.Store, dbWait time.Duration) (*activities.Activities, *testsuite.TestActivityEnvironment) {
	t.Helper()
	acts, err := activities.New(activities.Deps{
		Store: st, Sender: webhook.NewClient(webhook.ClientOptions{Policy: models.NetworkPolicy{AllowLoopback: true}}),
		Transform: transform.NewEngine(transform.Limits{}), Retry: deliverPolicy, DBWait: dbWait,
	})
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts.Deliver)
	return acts, env
}

// deliver runs one try of the Deliver activity, as the series' activity would.
func (f *deliveryFixture) deliver(attemptsKnown int) (workflows.DeliverResult, error) {
	in := workflows.DeliverInput{DeliveryID: f.deliveryID, EventRowID: f.eventRowID, AttemptOffset: attemptsKnown,
		Series: &workflows.AttemptSeries{Retry: deliverPolicy, Deadline: time.Now().Add(deliverPolicy.Expiration)}}
	v, err := f.env.ExecuteActivity(f.acts.Deliver, in)
	var res workflows.DeliverResult
	if err == nil {
		err = v.Get(&res)
	}
	return res, err
}

func (f *deliveryFixture) attempts(t *testing.T) []int {
	t.Helper()
	as, err := f.store.ListAttempts(context.Background(), f.deliveryID)
	if err != nil {
		t.Fatal(err)
	}
	var n []int
	for _, a := range as {
		n = append(n, a.Attempt)
	}
	return n
}

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("error %v (%T), want an application error", err, err)
	}
	return appErr
}

func TestDeliverAttempts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db storetest.Database) {
		t.Run("Succeeds", func(t *testing.T) {
			rc := newReceiver(t)
			f := newDeliveryFixture(t, db, rc)
			res, err := f.deliver(0)
			if err != nil || res.Outcome != workflows.OutcomeSucceeded || res.Attempt != 1 || res.StatusCode != 200 {
				t.Fatalf("Deliver = %+v, %v; want succeeded at attempt 1", res, err)
			}
			got := rc.requests()
			if len(got) != 1 || got[0].Get("webhook-id") != webhook.DeliveryMessageID(f.deliveryID) {
				t.Fatalf("receiver got %d requests (%v), want one with webhook-id %s", len(got), got, webhook.DeliveryMessageID(f.deliveryID))
			}
			// Done before: a redo sends nothing.
			if res, err := f.deliver(1); err != nil || res.Outcome != workflows.OutcomeSucceeded || len(rc.requests()) != 1 {
				t.Fatalf("redo = %+v, %v with %d requests; want succeeded, nothing sent", res, err, len(rc.requests()))
			}
		})

		t.Run("FailureFollowsThePolicy", func(t *testing.T) {
			// 500, not 503 or 429: those push back, and the next try waits its turn
			// (TestDeliverFlow).
			rc := newReceiver(t, 500, 500, 500)
			f := newDeliveryFixture(t, db, rc)
			for n := 1; n <= 2; n++ {
				_, err := f.deliver(n - 1)
				appErr := appError(t, err)
				var attempt int
				if appErr.Type() != workflows.ErrAttemptFailed || appErr.NonRetryable() || appErr.Details(&attempt) != nil || attempt != n {
					t.Fatalf("attempt %d: %v (type %s, non-retryable %v, attempt %d)", n, err, appErr.Type(), appErr.NonRetryable(), attempt)
				}
				if got, want := appErr.NextRetryDelay(), deliverPolicy.DelayAfter(n); got != want {
					t.Fatalf("attempt %d: next retry in %v, want the policy's %v", n, got, want)
				}
			}
			_, err := f.deliver(2)
			if appErr := appError(t, err); appErr.Type() != workflows.ErrAttemptFailed || !appErr.NonRetryable() {
				t.Fatalf("last attempt: %v, want a non-retryable AttemptFailed", err)
			}
			if got := f.attempts(t); len(got) != 3 || got[2] != 3 {
				t.Fatalf("recorded attempts %v, want [1 2 3]", got)
			}
		})

		t.Run("RetryAfterHeldToThePolicy", func(t *testing.T) {
			rc := newReceiver(t, 429)
			rc.retryAfter = strconv.Itoa(7 * 24 * 3600)
			f := newDeliveryFixture(t, db, rc)
			_, err := f.deliver(0)
			if got := appError(t, err).NextRetryDelay(); got != deliverPolicy.MaximumInterval {
				t.Fatalf("next retry in %v after a Retry-After of 7 days, want the policy's longest wait %v", got, deliverPolicy.MaximumInterval)
			}
		})

		// Hookflow's own failures, before the POST or after it, make no attempt: the next
		// try makes the same attempt, under the same number.
		for _, call := range []string{"LoadDeliveryJob", "RecordAttempt"} {
			t.Run("InternalFailureIn"+call, func(t *testing.T) {
				rc := newReceiver(t, 503, 503)
				f := newDeliveryFixture(t, db, rc)
				f.store.failNext[call] = true
				_, err := f.deliver(0)
				appErr := appError(t, err)
				if appErr.Type() != workflows.ErrInternal || appErr.NonRetryable() || appErr.NextRetryDelay() > 2*time.Second {
					t.Fatalf("%v (type %s, next retry in %v), want an internal failure retried within seconds", err, appErr.Type(), appErr.NextRetryDelay())
				}
				if got := f.attempts(t); len(got) != 0 {
					t.Fatalf("recorded attempts %v after an internal failure, want none", got)
				}
				// Even told by a workflow that counted the failed try as an attempt.
				_, err = f.deliver(1)
				var attempt int
				if appErr := appError(t, err); appErr.Type() != workflows.ErrAttemptFailed || appErr.Details(&attempt) != nil || attempt != 1 {
					t.Fatalf("next try: %v (attempt %d), want attempt 1 failing on the 503", err, attempt)
				}
				if got := f.attempts(t); len(got) != 1 || got[0] != 1 {
					t.Fatalf("recorded attempts %v, want [1]", got)
				}
				for _, h := range rc.requests() {
					if h.Get("webhook-id") != webhook.DeliveryMessageID(f.deliveryID) {
						t.Fatalf("a try sent webhook-id %q, want %q", h.Get("webhook-id"), webhook.DeliveryMessageID(f.deliveryID))
					}
				}
			})
		}
	})
}
