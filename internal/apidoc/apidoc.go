// Package apidoc builds custkpi's OpenAPI 3 document and its Go client.
//
// The swag annotations in package api stay the source of the document (the
// project's stack). swag v1.16.6 writes Swagger 2.0 only, and swag v2's
// OpenAPI 3.1 output is still a release candidate, so the document is made
// in three steps, all from libraries pinned in go.mod:
//
//  1. swag (github.com/swaggo/swag/gen) turns the annotations into Swagger
//     2.0, in a temporary folder: that form is never served or committed.
//  2. kin-openapi's openapi2conv converts it to OpenAPI 3.0.3.
//  3. finish() adds what 2.0 cannot say, driven by the annotations where
//     they can carry it: nullable fields (the x-nullable tag extension,
//     which the conversion maps), one schema per media type (CSV, Arrow,
//     Parquet and NDJSON bodies are not JSON), an example per error code
//     listed in each @Failure, the headers every answer carries, bearer
//     authentication, and typed KPI rows (fixed fields plus dimension
//     values, which Go struct tags cannot express).
//
// The result is validated with kin-openapi before it is written; `go
// generate ./api` writes docs/openapi.json, docs/openapi.yaml and the
// client (api/client), and api's tests fail when any of them is stale.
package apidoc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/swaggo/swag"
	"github.com/swaggo/swag/gen"
	"gopkg.in/yaml.v3"
)

// Generate builds the OpenAPI 3 document from the annotations of the
// repository at root, as JSON and as YAML.
func Generate(root string) (jsonDoc, yamlDoc []byte, err error) {
	v2, err := swagger2(root)
	if err != nil {
		return nil, nil, err
	}
	doc, err := convert(v2)
	if err != nil {
		return nil, nil, err
	}
	if err := finish(doc); err != nil {
		return nil, nil, err
	}
	jsonDoc, err = json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("encode openapi.json: %w", err)
	}
	jsonDoc = append(jsonDoc, '\n')
	// Validate what is written, read back as a client reads it.
	if _, err := Load(jsonDoc); err != nil {
		return nil, nil, err
	}
	yamlDoc, err = toYAML(jsonDoc)
	if err != nil {
		return nil, nil, err
	}
	return jsonDoc, yamlDoc, nil
}

// Load parses an OpenAPI 3 document and validates it (kin-openapi's
// doc.Validate, examples included).
func Load(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi document is not valid: %w", err)
	}
	return doc, nil
}

// swagger2 runs swag over the repository, as `swag init -g api/doc.go
// --parseInternal --requiredByDefault` would, and returns its swagger.json.
// requiredByDefault makes every field required unless its json tag says
// omitempty, which is exactly when encoding/json may leave it out.
func swagger2(root string) ([]byte, error) {
	out, err := os.MkdirTemp("", "custkpi-swag-*")
	if err != nil {
		return nil, fmt.Errorf("swag output folder: %w", err)
	}
	defer os.RemoveAll(out)
	err = gen.New().Build(&gen.Config{
		SearchDir:          root,
		MainAPIFile:        "api/doc.go",
		OutputDir:          out,
		OutputTypes:        []string{"json"},
		PropNamingStrategy: swag.CamelCase,
		ParseInternal:      true,
		ParseGoList:        true,
		RequiredByDefault:  true,
		LeftTemplateDelim:  "{{",
		RightTemplateDelim: "}}",
		PackageName:        "docs",
		CollectionFormat:   "csv",
		Debugger:           quiet{},
		ParseDepth:         100,
	})
	if err != nil {
		return nil, fmt.Errorf("swag: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "swagger.json"))
	if err != nil {
		return nil, fmt.Errorf("swag output: %w", err)
	}
	return b, nil
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// convert renames swag's package-qualified schema names (api.ErrorBody:
// a generated client would call it ApiErrorBody) and converts to 3.0.
func convert(v2 []byte) (*openapi3.T, error) {
	var raw map[string]any
	if err := json.Unmarshal(v2, &raw); err != nil {
		return nil, fmt.Errorf("read swagger 2.0: %w", err)
	}
	renameDefinitions(raw)
	bodies := splitBodies(raw)
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(b, &doc2); err != nil {
		return nil, fmt.Errorf("read swagger 2.0: %w", err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert to openapi 3: %w", err)
	}
	for _, b := range bodies {
		op := doc.Paths.Value(b.path).GetOperation(strings.ToUpper(b.method))
		if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
			return nil, fmt.Errorf("%s %s: no request body after conversion", b.method, b.path)
		}
		op.RequestBody.Value.Content["application/json"] = openapi3.NewMediaType().WithSchemaRef(
			openapi3.NewSchemaRef(strings.Replace(b.ref, "#/definitions/", "#/components/schemas/", 1), nil))
	}
	return doc, nil
}

// jsonBody is the JSON body of an operation that also takes a form.
type jsonBody struct{ path, method, ref string }

// splitBodies takes the body parameter out of the operations that declare
// form fields too (an import: a JSON body naming a server file, or a
// multipart upload). Swagger 2.0 cannot have both and the conversion
// refuses them; OpenAPI 3 gives each media type its own schema, which
// convert puts back.
func splitBodies(raw map[string]any) []jsonBody {
	var out []jsonBody
	paths, _ := raw["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method, o := range ops {
			op, _ := o.(map[string]any)
			params, _ := op["parameters"].([]any)
			var body map[string]any
			form := false
			for _, p := range params {
				pm, _ := p.(map[string]any)
				switch pm["in"] {
				case "body":
					body = pm
				case "formData":
					form = true
				}
			}
			if body == nil || !form {
				continue
			}
			schema, _ := body["schema"].(map[string]any)
			ref, _ := schema["$ref"].(string)
			out = append(out, jsonBody{path, method, ref})
			op["parameters"] = slices.DeleteFunc(params, func(p any) bool { return p.(map[string]any)["in"] == "body" })
		}
	}
	return out
}

// renameDefinitions drops the package from each definition's name where
// that leaves the name unique (else the package is kept, capitalised).
func renameDefinitions(raw map[string]any) {
	defs, _ := raw["definitions"].(map[string]any)
	short := map[string]int{}
	for name := range defs {
		short[shortName(name)]++
	}
	names := map[string]string{}
	for name, def := range defs {
		n := shortName(name)
		if short[n] > 1 {
			pkg, rest, _ := strings.Cut(name, ".")
			n = strings.ToUpper(pkg[:1]) + pkg[1:] + rest
		}
		names[name] = n
		delete(defs, name)
		defs[n] = def
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if ref, ok := x.(string); ok && k == "$ref" {
					if n, ok := names[strings.TrimPrefix(ref, "#/definitions/")]; ok {
						v[k] = "#/definitions/" + n
					}
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(raw)
}

func shortName(name string) string {
	if i := strings.LastIndex(name, "."); i >= 0 {
		return name[i+1:]
	}
	return name
}

// toYAML writes the JSON document as block-style YAML, keys in the same
// order.
func toYAML(jsonDoc []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(jsonDoc, &n); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	var block func(*yaml.Node)
	block = func(n *yaml.Node) {
		n.Style &^= yaml.FlowStyle
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			n.Style &^= yaml.DoubleQuotedStyle
		}
		for _, c := range n.Content {
			block(c)
		}
	}
	block(&n)
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return []byte(b.String()), nil
}
