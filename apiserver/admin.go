package apiserver

import "github.com/gin-gonic/gin"

// registerAdminRoutes serves the admin dashboard.
func (s *Server) registerAdminRoutes(r gin.IRouter) {}
