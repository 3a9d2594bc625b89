// Package docs holds custkpi's OpenAPI 3 document, generated from the swag
// annotations of package api by `go generate ./api` (see internal/apidoc),
// and serves it to Swagger UI.
package docs

import (
	_ "embed"

	"github.com/swaggo/swag"
)

// OpenAPIJSON is the document, served at /openapi.json.
//
//go:embed openapi.json
var OpenAPIJSON []byte

// OpenAPIYAML is the same document as YAML, served at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// doc registers the document with swag, so gin-swagger's /swagger/doc.json
// answers it too (the same OpenAPI 3 document, no Swagger 2.0 one).
type doc struct{}

func (doc) ReadDoc() string { return string(OpenAPIJSON) }

func init() {
	swag.Register(swag.Name, doc{})
}
