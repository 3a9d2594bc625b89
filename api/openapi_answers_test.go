package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// TestAnswersMatchDocument sends requests a client would send to a live
// server (real engine, hand-built data) and validates each request and its
// answer against the document with kin-openapi's openapi3filter: the
// status must be declared, and the body must match its schema (required
// fields present, null only where nullable, enums, formats).
func TestAnswersMatchDocument(t *testing.T) {
	srv, _ := newTestServer(t)
	doc := committedDoc(t)
	doc.Servers[0].URL = srv.URL + "/v1"
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	type call struct {
		method, path, contentType, body string
		status                          int
		invalid                         bool // the request breaks the document on purpose
	}
	calls := []call{
		{"GET", "/health", "", "", 200, false},
		{"GET", "/kpis", "", "", 200, false},
		{"GET", "/kpis/churn_rate", "", "", 200, false},
		{"GET", "/kpis/churn_rate/values?from=2024-01-01&to=2024-04-01&by=region", "", "", 200, false},
		{"GET", "/kpis/revenue/values?from=2024-01-01&to=2025-01-01&grain=quarter&by=segment", "", "", 200, false},
		{"GET", "/kpis/cohort_retention/values", "", "", 200, false},
		{"GET", "/kpis/revenue/values?format=csv", "", "", 200, false},
		{"GET", "/kpis/revenue/values?format=parquet", "", "", 200, false},
		{"GET", "/kpis/no_such_kpi/values", "", "", 404, false},
		{"GET", "/kpis/churn_rate/values?grain=fortnight", "", "", 400, true},
		{"GET", "/kpis/churn_rate/values?by=planet", "", "", 400, false},
		{"GET", "/kpis/revenue/variance?from=2024-04-01&to=2024-07-01&by=region", "", "", 200, false},
		{"GET", "/kpis/churn_rate/diff?from_version=1&to_version=2&from=2024-01-01&to=2024-04-01", "", "", 200, false},
		{"GET", "/kpis/csi/values", "", "", 409, false},
		{"PUT", "/targets/churn_rate", "application/json", `{"target": 0.3, "warn_within": 0.05}`, 201, false},  // created
		{"PUT", "/targets/churn_rate", "application/json", `{"target": 0.25, "warn_within": 0.05}`, 200, false}, // replaced
		{"PUT", "/targets/churn_rate", "text/plain", `{"target": 0.3}`, 415, true},
		{"GET", "/targets", "", "", 200, false},
		{"GET", "/targets/churn_rate", "", "", 200, false},
		{"GET", "/scorecard?from=2024-01-01&to=2025-01-01", "", "", 200, false},
		{"GET", "/customers?limit=3&order_by=monetary&desc=true", "", "", 200, false},
		{"GET", "/customers/c1", "", "", 200, false},
		{"GET", "/customers/nobody", "", "", 404, false},
		{"GET", "/datasets", "", "", 200, false},
		{"GET", "/rulesets", "", "", 200, false},
		{"GET", "/rulesets/value_tiers", "", "", 200, false},
		{"POST", "/rulesets/validate", "application/json", `{"name": "x", "rules": [{"tier": "big", "when": "monetary > 100.0"}], "default": "small"}`, 200, false},
		{"POST", "/rulesets/value_tiers/evaluate", "", "", 200, false},
		{"GET", "/rulesets/value_tiers/assignments?limit=2", "", "", 200, false},
		{"GET", "/models/clv", "", "", 404, false},
		{"GET", "/models/clv/p_alive_matrix", "", "", 404, false},
		{"POST", "/models/retention/fit", "application/json", `{"survivors": [1000, 869, 743, 653, 593, 551, 517, 491], "discount": 0.1}`, 200, false},
		{"POST", "/models/retention/fit", "application/json", `{"survivors": [100, 120, 90]}`, 400, false},
		{"POST", "/models/clv/compare", "application/json", `{"calibration_end": "2024-04-01", "holdout_end": "2024-06-30"}`, 400, false},
		{"GET", "/jobs", "", "", 200, false},
		{"GET", "/keys", "", "", 200, false},
		{"GET", "/audit?limit=5", "", "", 200, false},
		{"DELETE", "/targets/churn_rate", "", "", 200, false},
		{"POST", "/keys", "application/json", `{"name": "bi", "role": "reader"}`, 201, false},
		{"GET", "/kpis", "", "", 401, false}, // a key exists now
	}
	ctx := context.Background()
	for _, c := range calls {
		req, _ := http.NewRequest(c.method, srv.URL+"/v1"+c.path, strings.NewReader(c.body))
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: not in the document: %v", c.method, c.path, err)
			continue
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil && !c.invalid {
			t.Errorf("%s %s: the request breaks the document: %v", c.method, c.path, err)
		}
		req, _ = http.NewRequest(c.method, srv.URL+"/v1"+c.path, strings.NewReader(c.body))
		req.Header = in.Request.Header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d: %s", c.method, c.path, resp.StatusCode, c.status, body)
		}
		ropts := *opts
		ropts.ExcludeResponseBody = !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
			Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)), Options: &ropts}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s %s: the answer breaks the document: %v", c.method, c.path, err)
		}
	}
}
