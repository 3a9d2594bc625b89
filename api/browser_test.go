package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custkpi/engine"
)

func send(t *testing.T, method, url, contentType, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body == "" {
		req.Body = http.NoBody
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		m = decode(t, b)
	}
	return resp, m
}

// Measured case "a cross-site text/plain POST executed an import (201)": a
// JSON body is read only as application/json; a browser's simple request
// (text/plain, a form) is refused with 415 before anything runs.
func TestCrossSiteTextPlainImportPOSTIsRefused(t *testing.T) {
	srv, eng := newTestServer(t)
	gen := eng.Generation()
	// The file must lie in an import folder (the test server's is the temp
	// directory).
	src, _ := os.ReadFile(filepath.Join("..", "engine", "testdata", "handbuilt", "orders.csv"))
	path := filepath.Join(t.TempDir(), "orders.csv")
	os.WriteFile(path, src, 0o644)
	body := `{"path": "` + path + `"}`
	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", ""} {
		resp, m := send(t, http.MethodPost, srv.URL+"/v1/datasets/orders", ct, body, "Origin", "https://evil.example")
		if resp.StatusCode != http.StatusUnsupportedMediaType || m["error"].(map[string]any)["code"] != "unsupported_media_type" {
			t.Errorf("Content-Type %q: %d %v", ct, resp.StatusCode, m)
		}
	}
	// A form POST with no body to a write is refused too.
	resp, m := send(t, http.MethodPost, srv.URL+"/v1/rulesets/value_tiers/evaluate", "application/x-www-form-urlencoded", "")
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form evaluate: %d %v", resp.StatusCode, m)
	}
	if eng.Generation() != gen {
		t.Fatalf("a refused request wrote: generation %d, was %d", eng.Generation(), gen)
	}
	// What is documented still works: JSON, and a rule set as YAML or text.
	if resp, m := send(t, http.MethodPost, srv.URL+"/v1/datasets/orders", "application/json; charset=utf-8", body); resp.StatusCode != http.StatusCreated {
		t.Errorf("JSON import: %d %v", resp.StatusCode, m)
	}
	doc := "name: big\nrules:\n  - tier: big\n    when: monetary > 100.0\ndefault: small\n"
	for _, ct := range []string{"application/yaml", "text/plain", "application/json"} {
		if resp, m := send(t, http.MethodPost, srv.URL+"/v1/rulesets/validate", ct, doc); resp.StatusCode != http.StatusOK {
			t.Errorf("validate as %s: %d %v", ct, resp.StatusCode, m)
		}
	}
	if resp, m := send(t, http.MethodPost, srv.URL+"/v1/rulesets/value_tiers/evaluate", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("evaluate without a body: %d %v", resp.StatusCode, m)
	}
	if resp, m := send(t, http.MethodPut, srv.URL+"/v1/targets/revenue", "text/plain", `{"target": 1}`); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain target: %d %v", resp.StatusCode, m)
	}
}

// CORS: none by default; an allowed origin gets preflights answered and
// the custkpi headers exposed; another origin gets no CORS header.
func TestCORSAllowList(t *testing.T) {
	_, eng := newTestServer(t)
	plain := httptest.NewServer(New(eng, Options{}).Handler())
	defer plain.Close()
	resp, _ := send(t, http.MethodGet, plain.URL+"/v1/kpis/revenue/values", "", "", "Origin", "https://bi.example.com")
	if h := resp.Header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("no origin configured, yet Access-Control-Allow-Origin %q", h)
	}

	srv := httptest.NewServer(New(eng, Options{CORSOrigins: []string{"https://bi.example.com"}}).Handler())
	defer srv.Close()
	resp, _ = send(t, http.MethodOptions, srv.URL+"/v1/datasets/orders", "", "", "Origin", "https://bi.example.com",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,authorization")
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "https://bi.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = send(t, http.MethodGet, srv.URL+"/v1/kpis/revenue/values", "", "", "Origin", "https://bi.example.com")
	exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"etag", "x-kpi-version", "x-kpi-default-version", "location"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("%s not exposed: %q", h, exposed)
		}
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://bi.example.com" {
		t.Errorf("allowed origin: %v", resp.Header)
	}
	resp, _ = send(t, http.MethodGet, srv.URL+"/v1/kpis/revenue/values", "", "", "Origin", "https://evil.example")
	if h := resp.Header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("another origin got Access-Control-Allow-Origin %q", h)
	}
}

// Measured case "the Host header is not checked (DNS rebinding)": a Host
// that is not allowed answers 421 with the error body, /readyz and
// /v1/health included; the loopback names answer with any port.
func TestHostHeaderDNSRebindingIsRefused(t *testing.T) {
	_, eng := newTestServer(t)
	srv := httptest.NewServer(New(eng, Options{AllowedHosts: DefaultAllowedHosts("10.1.2.3:8080")}).Handler())
	defer srv.Close()
	for _, path := range []string{"/readyz", "/v1/health", "/v1/kpis/revenue/values"} {
		for host, want := range map[string]int{
			"evil.example": 421, "evil.example:8080": 421, "10.1.2.3:9999": 421, "": 421,
			"localhost": 200, "LOCALHOST:1234": 200, "127.0.0.1:5555": 200, "[::1]:80": 200, "10.1.2.3:8080": 200,
		} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Host = host
			req.RemoteAddr = "127.0.0.1:40000" // a local client: protected mode admits it
			rec := httptest.NewRecorder()
			srv.Config.Handler.ServeHTTP(rec, req)
			if rec.Code != want {
				t.Errorf("%s with Host %q: %d, want %d", path, host, rec.Code, want)
			}
			if want == 421 && !strings.Contains(rec.Body.String(), `"code":"host_not_allowed"`) {
				t.Errorf("%s with Host %q: body %s", path, host, rec.Body)
			}
		}
	}
	if DefaultAllowedHosts("0.0.0.0:8080")[len(DefaultAllowedHosts("0.0.0.0:8080"))-1] != "[::1]" {
		t.Error("a wildcard listen address became an allowed host")
	}
}

// busyEngine's writes find the write lock taken until their deadline.
type busyEngine struct{ *engine.Engine }

func (busyEngine) Import(ctx context.Context, _ engine.ImportRequest) (*engine.ImportResult, error) {
	return nil, &engine.Error{Code: engine.CodeBusy, Message: "import: another write held the write lock until this request's deadline"}
}

// A write that waited for the lock until its deadline answers 503 busy
// with Retry-After (the engine's test holds a real write).
func TestBusyWriteAnswers503RetryAfter(t *testing.T) {
	_, eng := newTestServer(t)
	dir := t.TempDir()
	srv := httptest.NewServer(New(busyEngine{eng}, Options{ImportDirs: []string{dir}}).Handler())
	defer srv.Close()
	path := filepath.Join(dir, "x.csv")
	os.WriteFile(path, []byte("order_id\n"), 0o644)
	resp, m := send(t, http.MethodPost, srv.URL+"/v1/datasets/orders", "application/json", `{"path": "`+path+`"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || m["error"].(map[string]any)["code"] != "busy" {
		t.Errorf("%d %v %v", resp.StatusCode, resp.Header, m)
	}
}
