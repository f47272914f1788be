package apiserver

import (
	"context"

	"crypto/subtle"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
)

// authStore is what authentication needs of the store.
type authStore interface {
	Authenticate(ctx context.Context, key string) (models.Principal, error)
	ActiveAPIKeyHashes(ctx context.Context) ([]string, error)
}

const principalKey = "hookflow.principal"

// authenticate resolves the bearer token to a Principal: the admin token, or an API key.
// Missing or unknown credentials answer 401, and count against the client address's
// budget of failed authentications. An address that has used it up is answered 429
// for anything but a valid credential, until the budget refills: the admin token is
// compared in memory, and a key is looked up only if the snapshot of active keys knows
// it, so guessing keys costs no database lookups and locks nobody with a valid
// credential out (a guesser behind the same address as a real client, a NAT or a
// proxy, would otherwise deny that client the service).
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		addr := c.ClientIP()
		var lockedOut bool
		var wait time.Duration
		if s.authFailures != nil {
			lockedOut, wait = s.authFailures.empty(addr, s.now())
		}
		tooMany := func() {
			s.retryAfter(c, wait, "too many failed authentications from %s: each address may fail %d times/s with bursts of %d",
				addr, s.cfg.AuthFailureLimit, s.cfg.AuthFailureBurst)
		}
		refuse := func(challenge, msg string) {
			if lockedOut {
				tooMany()
				return
			}
			if s.authFailures != nil {
				s.authFailures.allow(addr, s.now())
			}
			c.Header("WWW-Authenticate", challenge)
			s.writeError(c, models.Errorf(models.EUNAUTHORIZED, "%s", msg))
		}
		token, ok := bearerToken(c.GetHeader("Authorization"))
		if !ok {
			refuse(`Bearer realm="hookflow"`, "missing credentials: send Authorization: Bearer <api key>")
			return
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) == 1 {
			c.Set(principalKey, models.Principal{Admin: true})
			c.Next()
			return
		}
		// No key holds anything but text (and the store's database would refuse the
		// lookup with an error rather than find nothing); a locked-out address gets a
		// lookup only for a key the snapshot knows.
		if !isText(token) || lockedOut && !s.knownKeys.contains(c.Request.Context(), token) {
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

// bearerToken reads the token of an Authorization header with the Bearer scheme, whose
// name is case-insensitive (RFC 9110 section 11.1), separated from the token by one or
// more spaces.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
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
