package apiserver

import "github.com/gin-gonic/gin"

// registerDocsRoutes serves the OpenAPI document and its readable page.
func (s *Server) registerDocsRoutes(r gin.IRouter) {}
