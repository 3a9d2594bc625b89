package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"custkpi/engine"
	"custkpi/internal/apidoc"
)

// TestOpenAPIDocsUpToDate regenerates the OpenAPI document from the
// annotations, as `go generate ./api` does (same code, same pinned
// libraries), and fails when docs/ differs: the committed document must
// describe the code it ships with. (The client is checked against the
// served document by TestGeneratedClient.)
func TestOpenAPIDocsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("generating the OpenAPI document takes a few seconds")
	}
	jsonDoc, yamlDoc, err := apidoc.Generate("..")
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	for name, want := range map[string][]byte{"openapi.json": jsonDoc, "openapi.yaml": yamlDoc} {
		got, err := os.ReadFile(filepath.Join("..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("docs/%s is stale: run `go generate ./api` and commit docs/ and api/client/", name)
		}
	}
}

// loadServed fetches a document the server serves and validates it with
// kin-openapi, as a client would before generating code from it.
func loadServed(t *testing.T, url string) (*openapi3.T, []byte) {
	t.Helper()
	status, h, body := get(t, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, status, body)
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "application/") {
		t.Errorf("GET %s: Content-Type %q", url, h.Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(body)
	if err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("%s does not validate: %v", url, err)
	}
	return doc, body
}

// TestOpenAPIServed: /openapi.json and /openapi.yaml are one valid OpenAPI 3
// document, answered without a key once keys exist, and Swagger UI reads it.
func TestOpenAPIServed(t *testing.T) {
	srv, eng := newTestServer(t)
	if _, err := eng.CreateKey(context.Background(), "ops", engine.RoleAdmin, nil); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(t, srv.URL+"/v1/kpis"); status != http.StatusUnauthorized {
		t.Fatalf("the server should need a key now, got %d", status)
	}
	doc, body := loadServed(t, srv.URL+"/openapi.json")
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	yamlDoc, _ := loadServed(t, srv.URL+"/openapi.yaml")
	a, _ := json.Marshal(doc)
	b, _ := json.Marshal(yamlDoc)
	if !bytes.Equal(a, b) {
		t.Error("/openapi.yaml is not the document of /openapi.json")
	}
	if _, _, d := get(t, srv.URL+"/swagger/doc.json"); !bytes.Equal(d, body) {
		t.Error("/swagger/doc.json is not /openapi.json")
	}
	status, _, page := get(t, srv.URL+"/swagger/index.html")
	_, _, init := get(t, srv.URL+"/swagger/swagger-initializer.js")
	if status != http.StatusOK || !bytes.Contains(append(page, init...), []byte(`"/openapi.json"`)) {
		t.Errorf("Swagger UI does not point at /openapi.json: %d", status)
	}
	// Its script, from the embedded files copied on the first request.
	status, header, script := get(t, srv.URL+"/swagger/swagger-ui-bundle.js")
	if status != http.StatusOK || len(script) < 100_000 || !strings.Contains(header.Get("Content-Type"), "javascript") {
		t.Errorf("Swagger UI's script: %d, %d bytes, %q", status, len(script), header.Get("Content-Type"))
	}
}

// TestOpenAPIOperations: every route of the server is documented, with a
// unique operationId, and nothing documented is missing from the server.
func TestOpenAPIOperations(t *testing.T) {
	doc := committedDoc(t)
	documented := map[string]bool{}
	ids := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" /v1"+path] = true
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, path, op.OperationID)
			}
			ids[op.OperationID] = true
		}
	}
	s := New(nil, Options{})
	routed := map[string]bool{}
	for _, r := range s.gin.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/") {
			continue // /openapi.json, /swagger, /readyz, /metrics: not the API
		}
		key := r.Method + " " + regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
		routed[key] = true
		if !documented[key] {
			t.Errorf("%s is served but not documented: annotate its handler", key)
		}
	}
	for key := range documented {
		if !routed[key] {
			t.Errorf("%s is documented but not served", key)
		}
	}
}

func committedDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := apidoc.Load(mustRead(t, filepath.Join("..", "docs", "openapi.json")))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenAPIText: no description holds text Swagger UI would take for an
// HTML tag (tier:<ruleset> used to vanish), and no parameter carries both
// example and examples.
func TestOpenAPIText(t *testing.T) {
	var doc any
	if err := json.Unmarshal(mustRead(t, filepath.Join("..", "docs", "openapi.json")), &doc); err != nil {
		t.Fatal(err)
	}
	tag := regexp.MustCompile(`<[A-Za-z/!]`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "description" || k == "summary") && tag.MatchString(s) {
					t.Errorf("%s/%s reads as HTML in Swagger UI: %q", path, k, s)
				}
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(path+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("", doc)
}

// apiStatus is the status of the codes the api layer and the binary answer
// without going through statusOf.
var apiStatus = map[string]int{
	"invalid_body": 400, "too_large": 413, "unsupported_media_type": 415, "method_not_allowed": 405,
	"not_acceptable": 406, "host_not_allowed": 421, "not_ready": 503, "shutting_down": 503, "internal": 500,
}

func statusOfCode(code string) (int, bool) {
	if s, ok := statusOf[engine.Code(code)]; ok {
		return s, true
	}
	s, ok := apiStatus[code]
	return s, ok
}

// answeredCodes are the error codes the source can answer: the fault
// package's (through statusOf) and the literals of the api layer and the
// binary.
func answeredCodes(t *testing.T) map[string]bool {
	codes := map[string]bool{}
	for c := range statusOf {
		codes[string(c)] = true
	}
	lit := regexp.MustCompile(`(?:Code: *"|badRequest\("|"code": ?")([a-z_]+)"`)
	for _, dir := range []string{".", filepath.Join("..", "cmd", "custkpi")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			for _, m := range lit.FindAllStringSubmatch(string(mustRead(t, f)), -1) {
				codes[m[1]] = true
			}
		}
	}
	return codes
}

// TestErrorCodesDocumented: the error body's code enum lists every code the
// server can answer; every error response of every operation gives an
// example per code it lists, and each code belongs to that status.
func TestErrorCodesDocumented(t *testing.T) {
	doc := committedDoc(t)
	var enum []string
	for _, c := range doc.Components.Schemas["ErrorDetail"].Value.Properties["code"].Value.Enum {
		enum = append(enum, c.(string))
	}
	answered := answeredCodes(t)
	for c := range answered {
		if !slices.Contains(enum, c) {
			t.Errorf("code %s is answered but not in ErrorDetail's enums tag", c)
		}
	}
	for _, c := range enum {
		if !answered[c] {
			t.Errorf("code %s is in the enum but nothing answers it", c)
		}
		if _, ok := statusOfCode(c); !ok {
			t.Errorf("code %s has no status (statusOf, or apiStatus in this test)", c)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for key, r := range op.Responses.Map() {
				status, _ := strconv.Atoi(key)
				if status < 400 {
					continue
				}
				media := r.Value.Content.Get("application/json")
				if media == nil || len(media.Examples) == 0 || len(r.Value.Content) != 1 {
					t.Errorf("%s %s %d: want a JSON error body with examples, only", method, path, status)
					continue
				}
				for code, ex := range media.Examples {
					got := ex.Value.Value.(map[string]any)["error"].(map[string]any)["code"]
					if want, _ := statusOfCode(code); want != status || got != code {
						t.Errorf("%s %s %d: example %s (code %v) belongs to status %d", method, path, status, code, got, want)
					}
				}
			}
		}
	}
}

// TestKPIParamsDocumented: every parameter of every KPI version in the
// catalog is a declared query parameter of the operations that pass KPI
// parameters on, so a generated client can send it.
func TestKPIParamsDocumented(t *testing.T) {
	doc := committedDoc(t)
	_, eng := newTestServer(t)
	wantType := map[string]string{"double": "number", "varchar": "string", "weights": "string"}
	var names []string
	for _, k := range eng.Catalog().List() {
		for _, d := range k.Versions {
			for _, p := range d.Params {
				names = append(names, p.Name)
				for _, path := range []string{"/kpis/{name}/values", "/kpis/{name}/variance", "/kpis/{name}/diff"} {
					dp := doc.Paths.Value(path).Get.Parameters.GetByInAndName("query", p.Name)
					if dp == nil {
						t.Errorf("GET %s does not declare %s's parameter %s", path, k.Name, p.Name)
						continue
					}
					if !dp.Schema.Value.Type.Is(wantType[p.Type]) {
						t.Errorf("GET %s: %s is %v, want %s", path, p.Name, dp.Schema.Value.Type, wantType[p.Type])
					}
				}
			}
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("the catalog has no KPI parameter: the test checks nothing")
	}
	t.Logf("KPI parameters: %v", names)
}
