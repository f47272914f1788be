// Package activities holds the Temporal activities of Hookflow's workflows: preparing an
// event's deliveries, delivering one attempt (check, filter and reduce, sign, POST,
// record), recording a failed delivery with its block and alert, releasing a subscriber's
// queued deliveries, and bulk redelivery. They are methods on Activities, which holds
// every dependency; the worker builds one Activities and registers its methods. Each
// activity declares the store interface it uses; Store is their union.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/transform"
	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/workflows"
)

// Store is what the activities need of the database: the small interfaces that each
// activity declares beside it.
type Store interface {
	catalogueStore
	prepareStore
	eventStore
	deliveryStore
	flowStore
	notificationStore
	releaseStore
	bulkRetryStore
	abandonedStore
	purgeStore
}

// Temporal is what the activities need of the Temporal client: waking queued deliveries
// and starting redeliveries.
type Temporal interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
}

// Sender sends one signed webhook request; *webhook.Client implements it.
type Sender interface {
	Send(ctx context.Context, req webhook.Request) webhook.Response
}

// Activities holds the dependencies of every activity. Build it with New.
type Activities struct {
	store     Store
	sender    Sender
	transform *transform.Engine
	retry     workflows.RetryPolicy
	mode      string
	log       *slog.Logger
	now       func() time.Time
	events    *eventCache
	catalogue catalogue // the slugs PrepareDeliveries has seen in the catalogue
	dbWait    time.Duration

	temporal           Temporal
	notifier           Notifier
	metrics            *metrics.Metrics
	releaseConcurrency int
	retention          store.Retention
	purgeBatch         int
	purgeVacuum        bool
}

// Deps are the collaborators of Activities.
type Deps struct {
	Store     Store
	Sender    Sender
	Transform *transform.Engine
	// Retry is the deployment's delivery retry policy.
	Retry workflows.RetryPolicy
	// Mode is the delivery mode, workflows.ModeChild (the default) or ModeInlineFirst.
	Mode   string
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Temporal wakes queued deliveries and starts redeliveries (the worker's client).
	Temporal Temporal
	// Notifier sends alerts, such as a subscriber being blocked, to its e-mail address;
	// nil only stores and logs them.
	Notifier Notifier
	// Metrics records deliveries, attempts and latencies; nil records nothing.
	Metrics *metrics.Metrics
	// ReleaseConcurrency is how many queued deliveries of one subscriber are woken at a
	// time on re-activation; 1 (the default) keeps them strictly in order.
	ReleaseConcurrency int
	// DBWait bounds how long a delivery waits for the database before it sends: for a
	// connection of a pool that ran dry, or for a slow database. Past it the try is an
	// internal failure, logged and retried, never an attempt. 0 means DefaultDBWait.
	DBWait time.Duration
	// Retention is what the Purge activity applies; zero purges nothing.
	Retention store.Retention
	// PurgeBatch is how many rows each purge transaction looks at (DefaultPurgeBatch).
	PurgeBatch int
	// PurgeVacuum makes each purge run end with a VACUUM of the purged tables
	// (PostgreSQL), for databases whose autovacuum is off or lags.
	PurgeVacuum bool
}

// DefaultDBWait is Deps.DBWait's default: far above a healthy database's milliseconds,
// and well within the Deliver activity's time limit, so that the try ends as Hookflow's
// failure, logged with its stage, and not as a timed-out activity.
const DefaultDBWait = 15 * time.Second

// New checks deps and returns the activities.
func New(deps Deps) (*Activities, error) {
	switch {
	case deps.Store == nil:
		return nil, errors.New("activities: a store is required")
	case deps.Sender == nil:
		return nil, errors.New("activities: a sender is required")
	case deps.Transform == nil:
		return nil, errors.New("activities: a transform engine is required")
	case deps.Retry.MaximumAttempts < 1 || deps.Retry.InitialInterval <= 0:
		return nil, fmt.Errorf("activities: invalid retry policy %+v", deps.Retry)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	switch deps.Mode {
	case "":
		deps.Mode = workflows.ModeChild
	case workflows.ModeChild, workflows.ModeInlineFirst:
	default:
		return nil, fmt.Errorf("activities: unknown delivery mode %q", deps.Mode)
	}
	if deps.ReleaseConcurrency < 1 {
		deps.ReleaseConcurrency = 1
	}
	if deps.DBWait <= 0 {
		deps.DBWait = DefaultDBWait
	}
	if deps.PurgeBatch <= 0 {
		deps.PurgeBatch = DefaultPurgeBatch
	}
	return &Activities{
		store:     deps.Store,
		sender:    deps.Sender,
		transform: deps.Transform,
		retry:     deps.Retry,
		mode:      deps.Mode,
		log:       deps.Logger,
		now:       deps.Now,
		events:    newEventCache(64 << 20),
		dbWait:    deps.DBWait,

		temporal:           deps.Temporal,
		notifier:           deps.Notifier,
		metrics:            deps.Metrics,
		releaseConcurrency: deps.ReleaseConcurrency,
		retention:          deps.Retention,
		purgeBatch:         deps.PurgeBatch,
		purgeVacuum:        deps.PurgeVacuum,
	}, nil
}
