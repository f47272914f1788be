package apiserver

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/models"
)

// adminFiles is the admin dashboard: plain HTML, CSS and JavaScript modules, served as
// they are (no build step). The pages hold no data: the browser fetches everything from
// the public REST API with the API key the user signs in with.
//
//go:embed admin
var adminFiles embed.FS

// adminAsset is one embedded file, ready to serve.
type adminAsset struct {
	body        []byte
	contentType string
	etag        string
}

// adminContentTypes are set explicitly: JavaScript modules are refused by browsers
// unless served as JavaScript, and the system's MIME tables vary.
var adminContentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
}

// adminCSP keeps the dashboard to its own scripts and styles and to the API's origin.
// Inline scripts and style attributes are refused, so injected markup cannot run code.
const adminCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// loadAdminAssets reads the embedded dashboard once, keyed by URL path below /admin/.
func loadAdminAssets() (map[string]adminAsset, error) {
	root, err := fs.Sub(adminFiles, "admin")
	if err != nil {
		return nil, err
	}
	assets := map[string]adminAsset{}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := adminContentTypes[path.Ext(name)]
		if !ok {
			return nil
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		assets[name] = adminAsset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return assets, err
}

// registerAdminRoutes serves the admin dashboard at /admin and its files below /admin/.
// The pages are open: they are the same for everyone and carry no data.
func (s *Server) registerAdminRoutes(r gin.IRouter) {
	assets, err := loadAdminAssets()
	if err != nil {
		// The files are compiled in: failing to read them is a build mistake.
		panic("apiserver: read the embedded admin dashboard: " + err.Error())
	}
	serve := func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("filepath"), "/")
		if name == "" {
			name = "index.html"
		}
		a, ok := assets[name]
		if !ok {
			s.writeError(c, models.Errorf(models.ENOTFOUND, "no admin file %s", name))
			return
		}
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", adminCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Revalidated each time, so that a new version shows at once; the ETag keeps
		// that cheap.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		if match := c.GetHeader("If-None-Match"); match != "" && match == a.etag {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, a.contentType, a.body)
	}
	r.GET("/admin", serve)
	r.HEAD("/admin", serve)
	r.GET("/admin/*filepath", serve)
	r.HEAD("/admin/*filepath", serve)
}
