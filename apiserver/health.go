package apiserver

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// healthStore is what the health check needs of the store.
type healthStore interface {
	Ping(ctx context.Context) error
}

func (s *Server) registerHealthRoutes(r gin.IRouter) {
	r.GET("/healthz", s.handleHealthz)
	r.GET("/readyz", s.handleReadyz)
	if s.metrics != nil {
		r.GET("/metrics", gin.WrapH(s.metrics))
	}
}

// handleHealthz answers while the process serves requests.
func (s *Server) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// handleReadyz answers 200 when the database and the workflow engine both answer, 503
// naming the one that does not otherwise.
func (s *Server) handleReadyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{"database": "ok", "temporal": "ok"}
	ready := true
	if err := s.store.Ping(ctx); err != nil {
		checks["database"], ready = "unavailable", false
	}
	if err := s.engine.Ping(ctx); err != nil {
		checks["temporal"], ready = "unavailable", false
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"status": map[bool]string{true: "ready", false: "not ready"}[ready], "checks": checks})
}
