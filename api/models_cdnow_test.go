package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"custkpi/engine"
	"custkpi/engine/clv"
	"custkpi/internal/shareddata"
)

// newCDNOWServer serves the CDNOW sample (customers and orders) with the
// real engine.
func newCDNOWServer(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	eng, err := engine.Open(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	dir := shareddata.CDNOWFiles(t, eng.DB())
	for _, kind := range []string{"customers", "orders"} {
		if _, err := eng.Import(ctx, engine.ImportRequest{Kind: kind, Path: filepath.Join(dir, kind+".parquet")}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(New(eng, Options{ImportDirs: []string{os.TempDir()}}).Handler())
	t.Cleanup(srv.Close)
	return srv
}

// callChecked sends a request, checks its status and validates the answer
// against the committed OpenAPI document; it returns the body.
func callChecked(t *testing.T, srv *httptest.Server, method, path, body string, status int) []byte {
	t.Helper()
	doc := committedDoc(t)
	doc.Servers[0].URL = srv.URL + "/v1"
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, srv.URL+"/v1"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: not in the document: %v", method, path, err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(b)), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: the answer breaks the document: %v", method, path, err)
	}
	return b
}

func TestModelEndpointsCDNOW(t *testing.T) {
	srv := newCDNOWServer(t)
	var fit struct {
		Model     string         `json:"model"`
		ParetoNBD *clv.ParetoNBD `json:"pareto_nbd"`
		BGNBD     *clv.BGNBD     `json:"bgnbd"`
	}
	b := callChecked(t, srv, "POST", "/models/clv/fit", `{"calibration_end": "1997-09-30", "holdout_end": "1998-06-30", "model": "pareto_nbd"}`, 200)
	if err := json.Unmarshal(b, &fit); err != nil {
		t.Fatal(err)
	}
	if fit.Model != "pareto_nbd+gamma_gamma" || fit.BGNBD != nil || fit.ParetoNBD == nil || math.Abs(fit.ParetoNBD.Beta-11.669) > 0.0005 {
		t.Fatalf("fit %s", b)
	}
	// The matrix cell of customer 1516's pattern is its P(alive).
	var m clv.AliveMatrix
	b = callChecked(t, srv, "GET", "/models/clv/p_alive_matrix?max_frequency=30&steps=31&T=31", "", 200)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Model != "pareto_nbd" || len(m.Cells) != 31*32 {
		t.Fatalf("matrix of %d cells: %.300s", len(m.Cells), b)
	}
	c := m.Cells[26*32+30] // x = 26, t_x = 30
	if c.Frequency != 26 || c.Recency != 30 || math.Abs(c.PAlive-fit.ParetoNBD.PAlive(26, 30, 31)) > 1e-12 {
		t.Errorf("cell %+v", c)
	}
	callChecked(t, srv, "GET", "/models/clv/p_alive_matrix?steps=5000", "", 400)
	var cmp clv.Comparison
	b = callChecked(t, srv, "POST", "/models/clv/compare", `{"calibration_end": "1997-09-30", "holdout_end": "1998-06-30"}`, 200)
	if err := json.Unmarshal(b, &cmp); err != nil {
		t.Fatal(err)
	}
	if len(cmp.Models) != 4 || cmp.Models[0].Rank != 1 || len(cmp.Tracking) != 78 {
		t.Errorf("comparison %.400s", b)
	}
	callChecked(t, srv, "POST", "/models/clv/compare", `{"calibration_end": "1997-09-30", "holdout_end": "1998-06-30", "models": ["weibull"]}`, 400)
	callChecked(t, srv, "POST", "/models/clv/fit", `{"calibration_end": "1997-09-30", "model": "bgbb", "period_days": 28, "periods": 9}`, 200)
	b = callChecked(t, srv, "GET", "/models/clv/p_alive_matrix", "", 200)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// x, t_x in 0..9 with t_x >= x >= 1, or both 0: 1 + 45 cells.
	if m.Model != "bgbb" || len(m.Cells) != 46 {
		t.Errorf("bgbb matrix of %d cells", len(m.Cells))
	}
	callChecked(t, srv, "POST", "/models/retention/fit", `{"source": "contracts"}`, 409)
}
