package apiserver

import (
	"context"

	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
	"github.com/hookflow/hookflow/store"
)

// installationStore is what the installation routes need of the store.
type installationStore interface {
	CreateInstallation(ctx context.Context, in *models.Installation) error
	ListInstallations(ctx context.Context, f store.InstallationFilter) ([]models.Installation, error)
	DeleteInstallation(ctx context.Context, id int64) (*models.Installation, []int64, error)
}

// registerInstallationRoutes serves the platform's installations: which companies have
// installed which extensions. Only the admin token and platform keys reach them.
func (s *Server) registerInstallationRoutes(r gin.IRouter) {
	r.POST("/installation", s.handleInstallationCreate)
	r.GET("/installation", s.handleInstallationList)
	r.DELETE("/installation/:installation_id", s.handleInstallationDelete)
}

// registerPartnerInstallationRoutes lets a partner see where its extension is installed.
func (s *Server) registerPartnerInstallationRoutes(r gin.IRouter) {
	r.GET("/installation", s.handlePartnerInstallationList)
}

// requirePlatform lets only the admin token and platform keys through.
func (s *Server) requirePlatform() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).Platform() {
			s.writeError(c, models.Errorf(models.EFORBIDDEN, "installations are managed by the platform: this endpoint needs the admin token or an API key with scope platform"))
			return
		}
		c.Next()
	}
}

type installationRequest struct {
	OrganizationID string   `json:"organization_id"`
	ExtensionID    string   `json:"extension_id"`
	CompanyID      int64    `json:"company_id"`
	ApplicationID  []string `json:"application_id"`
}

type installationResponse struct {
	ID             int64     `json:"id"`
	CompanyID      int64     `json:"company_id"`
	OrganizationID string    `json:"organization_id"`
	ExtensionID    string    `json:"extension_id"`
	ApplicationID  []string  `json:"application_id"`
	Criteria       string    `json:"criteria"`
	CreatedAt      time.Time `json:"created_at"`
}

func newInstallationResponse(in *models.Installation) installationResponse {
	apps := []string(in.ApplicationIDs)
	criteria := models.CriteriaSpecific
	if apps == nil {
		apps, criteria = []string{}, models.CriteriaAll
	}
	return installationResponse{ID: in.ID, CompanyID: in.CompanyID, OrganizationID: in.OrganizationID, ExtensionID: in.ExtensionID,
		ApplicationID: apps, Criteria: criteria, CreatedAt: in.CreatedAt.UTC()}
}

// handleInstallationCreate records that a company installed an extension: from then on
// the extension's subscribers of that company receive its events.
func (s *Server) handleInstallationCreate(c *gin.Context) {
	var req installationRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	in := &models.Installation{CompanyID: req.CompanyID, OrganizationID: req.OrganizationID, ExtensionID: req.ExtensionID,
		ApplicationIDs: models.IDList(req.ApplicationID)}
	if err := s.store.CreateInstallation(c.Request.Context(), in); err != nil {
		s.writeError(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "extension installed", "installation_id", in.ID, "company_id", in.CompanyID,
		"organization_id", in.OrganizationID, "extension_id", in.ExtensionID)
	c.JSON(http.StatusCreated, newInstallationResponse(in))
}

// handleInstallationList lists installations, optionally of one company, organization or
// extension.
func (s *Server) handleInstallationList(c *gin.Context) {
	s.listInstallations(c, store.InstallationFilter{OrganizationID: c.Query("organization_id"), ExtensionID: c.Query("extension_id")})
}

// handlePartnerInstallationList lists the companies that have installed the path's
// extension, optionally one company's.
func (s *Server) handlePartnerInstallationList(c *gin.Context) {
	t := tenant(c)
	s.listInstallations(c, store.InstallationFilter{OrganizationID: t.OrganizationID, ExtensionID: t.ExtensionID})
}

// listInstallations answers the installations f selects, narrowed to one company by the
// optional company_id query parameter.
func (s *Server) listInstallations(c *gin.Context, f store.InstallationFilter) {
	if v := c.Query("company_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.writeError(c, models.Invalid("company_id", "must be a positive integer"))
			return
		}
		f.CompanyID = id
	}
	list, err := s.store.ListInstallations(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	items := make([]installationResponse, len(list))
	for i := range list {
		items[i] = newInstallationResponse(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// handleInstallationDelete uninstalls an extension from a company. Deliveries of the
// extension's subscribers for that company that have not gone out are discarded: queued
// ones now (their subscribers are released, and each woken delivery discards itself),
// retrying ones at their next attempt.
func (s *Server) handleInstallationDelete(c *gin.Context) {
	id, err := pathID(c, "installation_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	in, queued, err := s.store.DeleteInstallation(ctx, id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.log.InfoContext(ctx, "extension uninstalled", "installation_id", in.ID, "company_id", in.CompanyID,
		"organization_id", in.OrganizationID, "extension_id", in.ExtensionID, "subscribers_with_queue", len(queued))
	for _, sub := range queued {
		if err := s.engine.ReleaseSubscriber(ctx, sub); err != nil {
			// The uninstall holds; these deliveries stay queued until the subscriber is
			// next released (any status change releases it) and are discarded then.
			s.log.WarnContext(ctx, "release queued deliveries after uninstall", "subscriber_id", sub, "error", err)
		}
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "message": "extension " + in.ExtensionID + " of organization " + in.OrganizationID +
		" uninstalled from company " + strconv.FormatInt(in.CompanyID, 10)})
}
