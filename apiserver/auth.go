package apiserver

import (
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
)

const principalKey = "hookflow.principal"

// authenticate resolves the bearer token to a Principal: the admin token, or an API key.
// Missing or unknown credentials answer 401, and count against the client address's
// budget of failed authentications: an address that has used it up is answered 429,
// whatever it sends, until the budget refills, so guessing keys costs no database
// lookups.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		addr := c.ClientIP()
		if s.authFailures != nil {
			if empty, wait := s.authFailures.empty(addr, s.now()); empty {
				s.retryAfter(c, wait, "too many failed authentications from %s: each address may fail %d times/s with bursts of %d",
					addr, s.cfg.AuthFailureLimit, s.cfg.AuthFailureBurst)
				return
			}
		}
		refuse := func(challenge, msg string) {
			if s.authFailures != nil {
				s.authFailures.allow(addr, s.now())
			}
			c.Header("WWW-Authenticate", challenge)
			s.writeError(c, models.Errorf(models.EUNAUTHORIZED, "%s", msg))
		}
		h := c.GetHeader("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || token == "" {
			refuse(`Bearer realm="hookflow"`, "missing credentials: send Authorization: Bearer <api key>")
			return
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) == 1 {
			c.Set(principalKey, models.Principal{Admin: true})
			c.Next()
			return
		}
		if !isText(token) {
			// No key holds anything else, and the store's database would refuse the
			// lookup with an error rather than find nothing.
			refuse(`Bearer realm="hookflow", error="invalid_token"`, "invalid or revoked API key")
			return
		}
		p, err := s.store.Authenticate(c.Request.Context(), token)
		if err != nil {
			if models.ErrorCode(err) == models.ENOTFOUND || models.ErrorCode(err) == models.EUNAUTHORIZED {
				refuse(`Bearer realm="hookflow", error="invalid_token"`, "invalid or revoked API key")
				return
			}
			s.writeError(c, err)
			return
		}
		c.Set(principalKey, p)
		c.Next()
	}
}

func principal(c *gin.Context) models.Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(models.Principal)
	return pr
}

// requireTenant lets a request under /organization/{organization_id}/extension/{extension_id}
// through only if its principal may act there. Anything else answers 404, exactly as a
// missing resource would: another tenant's resources are never confirmed to exist.
func (s *Server) requireTenant() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).CanAccess(c.Param("organization_id"), c.Param("extension_id")) {
			s.writeError(c, models.Errorf(models.ENOTFOUND, "not found"))
			return
		}
		c.Next()
	}
}

// requireAdmin lets only the admin token through.
func (s *Server) requireAdmin() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).Admin {
			s.writeError(c, models.Errorf(models.EFORBIDDEN, "this endpoint needs the admin token"))
			return
		}
		c.Next()
	}
}

func tenant(c *gin.Context) models.Tenant {
	return models.Tenant{OrganizationID: c.Param("organization_id"), ExtensionID: c.Param("extension_id")}
}
