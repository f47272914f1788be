package apiserver

import (
	"context"

	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
)

// apiKeyStore is what the API key routes need of the store.
type apiKeyStore interface {
	CreateAPIKey(ctx context.Context, k *models.APIKey) (string, error)
	ListAPIKeys(ctx context.Context, org string) ([]models.APIKey, error)
	RevokeAPIKey(ctx context.Context, id int64) error
}

func (s *Server) registerAPIKeyRoutes(r gin.IRouter) {
	r.POST("/api_keys", s.handleAPIKeyCreate)
	r.GET("/api_keys", s.handleAPIKeyList)
	r.DELETE("/api_keys/:key_id", s.handleAPIKeyRevoke)
}

type apiKeyRequest struct {
	OrganizationID string  `json:"organization_id"`
	ExtensionID    string  `json:"extension_id"`
	Name           string  `json:"name"`
	Scope          string  `json:"scope"`
	CompanyIDs     []int64 `json:"company_ids"`
}

type apiKeyResponse struct {
	ID             int64      `json:"id"`
	Key            string     `json:"key"`
	OrganizationID string     `json:"organization_id"`
	ExtensionID    string     `json:"extension_id"`
	Name           string     `json:"name"`
	Scope          string     `json:"scope"`
	CompanyIDs     []int64    `json:"company_ids"`
	CreatedAt      time.Time  `json:"created_at"`
	RevokedAt      *time.Time `json:"revoked_at"`
}

func newAPIKeyResponse(k *models.APIKey, key string) apiKeyResponse {
	if key == "" {
		key = k.MaskedKey()
	}
	return apiKeyResponse{ID: k.ID, Key: key, OrganizationID: k.OrganizationID, ExtensionID: k.ExtensionID,
		Name: k.Name, Scope: k.Scope, CompanyIDs: k.Companies(), CreatedAt: k.CreatedAt.UTC(), RevokedAt: utcOrNil(k.RevokedAt)}
}

// utcOrNil returns t in UTC: the database driver may hand times back in the process's
// zone, and the API shows every time in UTC.
func utcOrNil(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// handleAPIKeyCreate creates an API key; the key is in this answer only.
func (s *Server) handleAPIKeyCreate(c *gin.Context) {
	var req apiKeyRequest
	if err := decodeJSON(c, maxDefaultBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	if req.Scope == "" {
		req.Scope = models.ScopePartner
		if len(req.CompanyIDs) > 0 {
			req.Scope = models.ScopeCompany
		}
	}
	k := &models.APIKey{OrganizationID: req.OrganizationID, ExtensionID: req.ExtensionID, Name: req.Name, Scope: req.Scope,
		CompanyIDs: models.CompanyIDList(req.CompanyIDs)}
	key, err := s.store.CreateAPIKey(c.Request.Context(), k)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.knownKeys.invalidate()
	s.log.InfoContext(c.Request.Context(), "api key created", "key_id", k.ID, "organization_id", k.OrganizationID, "scope", k.Scope)
	c.JSON(http.StatusCreated, newAPIKeyResponse(k, key))
}

// handleAPIKeyList lists API keys, masked, optionally of one organization.
func (s *Server) handleAPIKeyList(c *gin.Context) {
	keys, err := s.store.ListAPIKeys(c.Request.Context(), c.Query("organization_id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	items := make([]apiKeyResponse, len(keys))
	for i := range keys {
		items[i] = newAPIKeyResponse(&keys[i], "")
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// handleAPIKeyRevoke revokes an API key.
func (s *Server) handleAPIKeyRevoke(c *gin.Context) {
	id, err := pathID(c, "key_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.store.RevokeAPIKey(c.Request.Context(), id); err != nil {
		s.writeError(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "api key revoked", "key_id", id)
	c.JSON(http.StatusOK, gin.H{"success": true, "message": "API key " + strconv.FormatInt(id, 10) + " revoked"})
}

type meResponse struct {
	Admin          bool    `json:"admin"`
	OrganizationID string  `json:"organization_id"`
	ExtensionID    string  `json:"extension_id"`
	Scope          string  `json:"scope"`
	CompanyIDs     []int64 `json:"company_ids,omitempty"`
	// Retention says how far back data goes (seconds), for the dashboard.
	Retention *retentionInfo `json:"retention,omitempty"`
}

type retentionInfo struct {
	RecordsSeconds  int64 `json:"records_seconds"`
	PayloadsSeconds int64 `json:"payloads_seconds"`
	ReportsSeconds  int64 `json:"reports_seconds"`
}

// handleMe tells who the credentials belong to, for the dashboard's header.
func (s *Server) handleMe(c *gin.Context) {
	p := principal(c)
	scope := p.Scope
	if p.Admin {
		scope = "admin"
	}
	out := meResponse{Admin: p.Admin, OrganizationID: p.OrganizationID, ExtensionID: p.ExtensionID, Scope: scope, CompanyIDs: p.CompanyIDs}
	if r := s.cfg.Retention; r != (Retention{}) {
		out.Retention = &retentionInfo{RecordsSeconds: int64(r.Records.Seconds()), PayloadsSeconds: int64(r.Payloads.Seconds()), ReportsSeconds: int64(r.Reports.Seconds())}
	}
	c.JSON(http.StatusOK, out)
}
