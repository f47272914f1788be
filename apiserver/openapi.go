package apiserver

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"

	"github.com/hookflow/hookflow/models"
)

// openapiYAML is the OpenAPI 3.1 document of the whole API, written by hand: every route
// registered in Gin must be in it (apiserver_test checks both ways, and validates real
// answers against its schemas).
//
//go:embed openapi.yaml
var openapiYAML []byte

// docsTemplate is the readable page of the document: vanilla JavaScript and CSS that
// render the document embedded in the page, so that it works without network access.
//
//go:embed docs.html
var docsTemplate string

// docsSpecMarker is replaced in docsTemplate by the document as JSON.
const docsSpecMarker = "/*OPENAPI_JSON*/"

// docsCSP lets the page run its own inline script and style and load nothing at all.
const docsCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
	"connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// openapiDocs converts the embedded document once per process: to JSON for
// GET /openapi.json, and into the page of GET /docs.
var openapiDocs = sync.OnceValues(func() (docs, error) {
	js, err := yamlToJSON(openapiYAML)
	if err != nil {
		return docs{}, fmt.Errorf("convert openapi.yaml to JSON: %w", err)
	}
	if !strings.Contains(docsTemplate, docsSpecMarker) {
		return docs{}, fmt.Errorf("docs.html lacks the marker %s", docsSpecMarker)
	}
	// The JSON is safe inside <script>: json.Marshal escapes <, > and & in strings, so
	// the document cannot close the element.
	page := strings.Replace(docsTemplate, docsSpecMarker, string(js), 1)
	return docs{json: js, page: []byte(page)}, nil
})

type docs struct {
	json []byte
	page []byte
}

// registerDocsRoutes serves the OpenAPI document and its readable page. Both are open,
// like /healthz: the document describes the API, it holds no data.
func (s *Server) registerDocsRoutes(r gin.IRouter) {
	d, err := openapiDocs()
	if err != nil {
		// Only a broken build gets here (the tests load the document); the API itself
		// still serves.
		s.log.Error("openapi document unavailable", "error", err)
		fail := func(c *gin.Context) { s.writeError(c, models.Internal(err, "the API document is unavailable")) }
		r.GET("/openapi.json", fail)
		r.GET("/docs", fail)
		return
	}
	r.GET("/openapi.json", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json; charset=utf-8", d.json)
	})
	r.GET("/docs", func(c *gin.Context) {
		c.Header("Content-Security-Policy", docsCSP)
		c.Header("X-Content-Type-Options", "nosniff")
		c.Data(http.StatusOK, "text/html; charset=utf-8", d.page)
	})
}

// RouteInfo is one route the server answers: an HTTP method and a Gin path pattern
// (":name" for a path parameter, "*name" for a wildcard).
type RouteInfo struct {
	Method string
	Path   string
}

// Routes lists the routes registered on the server, sorted by path then method. It
// exists so that tests can hold the OpenAPI document to what the router really serves.
func (s *Server) Routes() []RouteInfo {
	gr := s.router.Routes()
	out := make([]RouteInfo, len(gr))
	for i, r := range gr {
		out[i] = RouteInfo{Method: r.Method, Path: r.Path}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// yamlToJSON converts a YAML document to compact JSON, keeping the order of mapping keys
// (encoding/json would sort them, and the page shows fields in the document's order).
func yamlToJSON(src []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, &root); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: expected one document", n.Line)
		}
		return writeJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				return fmt.Errorf("line %d: mapping keys must be plain scalars", k.Line)
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k.Value)
			buf.WriteByte(':')
			if err := writeJSON(buf, v); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, v := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, v); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!timestamp":
			// A timestamp stays the text it was written as.
			writeString(buf, n.Value)
			return nil
		case "!!null":
			buf.WriteString("null")
			return nil
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
			buf.Write(b)
			return nil
		}
		return fmt.Errorf("line %d: unsupported scalar tag %s", n.Line, n.ShortTag())
	}
	return fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	buf.Write(b)
}
