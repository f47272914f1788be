// Package apiserver is Hookflow's REST API: event ingestion, the partner webhook API
// (subscribers, filters and reducers, reports, redelivery), the event catalogue, API keys,
// health and the OpenAPI document. Handlers speak in domain terms to narrow interfaces
// of the store and the workflow engine.
package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/producer"
	"github.com/hookflow/hookflow/transform"
	"github.com/hookflow/hookflow/webhook"
	"github.com/hookflow/hookflow/workflows"
)

// Paths shared by several routes.
const (
	partnerBase  = "/service/partner/webhook/v1.0/organization/:organization_id/extension/:extension_id"
	platformBase = "/service/platform/webhook/v1.0"
	commonBase   = "/service/common/webhook/v1.0"
	adminBase    = "/service/admin/webhook/v1.0"
)

// Store is what the API needs of the database: the small interfaces that each group of
// routes declares beside it.
type Store interface {
	healthStore
	eventStore
	subscriberStore
	authStore
	apiKeyStore
	redeliveryStore
	abandonedStore
	deliveryStore
	reportStore
	installationStore
}

// Sender sends one signed webhook request; *webhook.Client implements it.
type Sender interface {
	Send(ctx context.Context, req webhook.Request) webhook.Response
}

// Engine is what the API needs of the workflow engine.
type Engine interface {
	// StartEvent starts an event's workflow; see producer.Start.
	StartEvent(ctx context.Context, in workflows.EventInput) (producer.Result, error)
	// Ping checks that the engine answers.
	Ping(ctx context.Context) error
	// ReleaseSubscriber wakes the queued deliveries of a subscriber, oldest first.
	ReleaseSubscriber(ctx context.Context, subscriberID int64) error
	// Redeliver starts the workflow of a redelivery begun in the store.
	Redeliver(ctx context.Context, d *models.Delivery) (workflowID, runID string, err error)
	// StartBulkRetry starts the workflow of a bulk redelivery job.
	StartBulkRetry(ctx context.Context, jobID int64) (workflowID string, err error)
	// DescribeDelivery reads the live state of a delivery's workflow.
	DescribeDelivery(ctx context.Context, workflowID, runID string) (*LiveState, error)
}

// Config holds the API's settings.
type Config struct {
	// AdminToken reaches every endpoint. Required.
	AdminToken string
	// Network decides which webhook URLs are accepted.
	Network models.NetworkPolicy
	// TemporalUIURL and Namespace build links into Temporal UI; no link without a URL.
	TemporalUIURL string
	Namespace     string
	// RateLimit is how many requests per second each caller (an API key, or the admin
	// token) may make to the authenticated endpoints, in bursts of up to RateBurst; a
	// request over it answers 429 with Retry-After. 0 means no limit. DefaultRateLimit
	// and DefaultRateBurst suit a deployment.
	RateLimit int
	RateBurst int
	// AuthFailureLimit is how many failed authentications per second each client
	// address may make, in bursts of up to AuthFailureBurst; past it, every request from
	// that address answers 429 until the budget refills. 0 means no limit.
	// DefaultAuthFailureLimit and DefaultAuthFailureBurst suit a deployment.
	AuthFailureLimit int
	AuthFailureBurst int
	// TrustedProxies are the addresses or CIDR ranges of the proxies in front of the API
	// whose X-Forwarded-For names the client address. None: the client address is the
	// connection's peer.
	TrustedProxies []string
	// Admission bounds the work ingestion accepts ahead of delivery; the zero value
	// bounds nothing. DefaultCompanyBacklog and DefaultTotalBacklog suit a deployment.
	Admission Admission
	// Retention is what the purge keeps (see store.Retention); GET …/me reports it so
	// that the dashboard can say how far back data goes. Zero: not reported.
	Retention Retention
}

// Retention is how long Hookflow keeps deliveries (with their attempts and events),
// payloads and response bodies, and report rollups.
type Retention struct {
	Records, Payloads, Reports time.Duration
}

// Deps are the API's collaborators.
type Deps struct {
	Store  Store
	Engine Engine
	Sender Sender
	// Transform compiles and runs filters and reducers (the same engine as delivery).
	Transform *transform.Engine
	// Metrics serves GET /metrics (Prometheus); nil answers 404 there.
	Metrics http.Handler
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	cfg       Config
	store     Store
	engine    Engine
	sender    Sender
	transform *transform.Engine
	metrics   http.Handler
	log       *slog.Logger
	now       func() time.Time
	router    *gin.Engine
	limiter   *rateLimiter // nil: no rate limit
	admission *admission
	// authFailures counts failed authentications per client address; nil: no limit.
	authFailures *rateLimiter
	// knownKeys lets a locked-out address authenticate with a valid key.
	knownKeys *knownKeys

	catalogue catalogueCache
}

// New checks its arguments and builds the router.
func New(cfg Config, deps Deps) (*Server, error) {
	switch {
	case cfg.AdminToken == "":
		return nil, errors.New("apiserver: an admin token is required")
	case len(cfg.AdminToken) < 16:
		return nil, errors.New("apiserver: the admin token must be at least 16 characters")
	case cfg.RateLimit < 0:
		return nil, errors.New("apiserver: the rate limit must not be negative (0 means no limit)")
	case cfg.RateLimit > 0 && cfg.RateBurst < 1:
		return nil, errors.New("apiserver: the rate limit's burst must be at least 1")
	case cfg.AuthFailureLimit < 0:
		return nil, errors.New("apiserver: the failed-authentication limit must not be negative (0 means no limit)")
	case cfg.AuthFailureLimit > 0 && cfg.AuthFailureBurst < 1:
		return nil, errors.New("apiserver: the failed-authentication limit's burst must be at least 1")
	case cfg.Admission.CompanyBacklog < 0 || cfg.Admission.TotalBacklog < 0:
		return nil, errors.New("apiserver: the admission bounds must not be negative (0 means no bound)")
	case deps.Store == nil:
		return nil, errors.New("apiserver: a store is required")
	case deps.Engine == nil:
		return nil, errors.New("apiserver: a workflow engine is required")
	case deps.Sender == nil:
		return nil, errors.New("apiserver: a webhook sender is required")
	case deps.Transform == nil:
		return nil, errors.New("apiserver: a transform engine is required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, store: deps.Store, engine: deps.Engine, sender: deps.Sender, transform: deps.Transform, metrics: deps.Metrics, log: deps.Logger, now: deps.Now, router: gin.New(),
		limiter: newRateLimiter(cfg.RateLimit, cfg.RateBurst), authFailures: newRateLimiter(cfg.AuthFailureLimit, cfg.AuthFailureBurst)}
	s.admission = &admission{cfg: cfg.Admission}
	s.knownKeys = &knownKeys{load: s.store.ActiveAPIKeyHashes, now: s.now}
	if err := s.router.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("apiserver: trusted proxies: %w", err)
	}
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) routes() {
	r := s.router
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	r.Use(s.recoverJSON(), s.logRequests())
	r.NoRoute(func(c *gin.Context) {
		s.writeError(c, models.Errorf(models.ENOTFOUND, "no route for %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Message: "method " + c.Request.Method + " is not allowed here", Errors: []models.FieldError{}})
	})

	s.registerHealthRoutes(r)
	s.registerDocsRoutes(r)
	s.registerAdminRoutes(r)

	authed := r.Group("", s.authenticate(), s.rateLimit(), s.requireText())
	s.registerCatalogueRoutes(authed.Group(commonBase))
	s.registerEventRoutes(authed.Group(platformBase))
	s.registerInstallationRoutes(authed.Group(platformBase, s.requirePlatform()))
	s.registerAPIKeyRoutes(authed.Group(adminBase, s.requireAdmin()))

	partner := authed.Group(partnerBase, s.requireTenant())
	s.registerSubscriberRoutes(partner)
	s.registerTransformRoutes(partner)
	s.registerRedeliveryRoutes(partner)
	s.registerReportRoutes(partner)
	s.registerDeliveryRoutes(partner)
	s.registerPartnerInstallationRoutes(partner)
}
