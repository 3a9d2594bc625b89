package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"custkpi/engine"
)

// fuzzTargets are the endpoints FuzzKPIValues drives: every KPI's values
// (the hand-built fixture has the data of most) and the customers list.
var fuzzTargets = []string{"/v1/customers"}

// FuzzKPIValues sends any query string to GET /v1/kpis/{name}/values and
// GET /v1/customers through the real handler over the hand-built fixture,
// and demands what issue 9 does: no 5xx (bad input is never a 500) and
// never a 200 with an empty body. The seeds are the measured cases; they
// run in every `go test`.
func FuzzKPIValues(f *testing.F) {
	ctx := context.Background()
	eng, err := engine.Open(ctx, engine.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { eng.Close() })
	for _, kind := range []string{"customers", "orders", "surveys", "tickets", "events", "acquisition_spend", "contracts"} {
		if _, err := eng.Import(ctx, engine.ImportRequest{Kind: kind, Path: filepath.Join("..", "engine", "testdata", "handbuilt", kind+".csv")}); err != nil {
			f.Fatal(err)
		}
	}
	targets := append([]string{}, fuzzTargets...)
	for _, k := range eng.Catalog().List() {
		targets = append(targets, "/v1/kpis/"+k.Name+"/values")
	}
	h := New(eng, Options{}).Handler()

	for _, seed := range []struct {
		target uint8
		query  string
	}{
		{kpiIndex(targets, "suspected_churn_rate"), "cycle_multiplier=NaN"},
		{kpiIndex(targets, "suspected_churn_rate"), "cycle_multiplier=Inf"},
		{kpiIndex(targets, "suspected_churn_rate"), "cycle_multiplier=-infinity&grain=month&by=region"},
		{kpiIndex(targets, "churn_rate"), "version=2&inactive_days=NaN"},
		{kpiIndex(targets, "csi"), "weights=score_product_quality:1e308,score_service:1e308"},
		{kpiIndex(targets, "csi"), "weights=score_product_quality:0.5,score_product_quality:0.5"},
		{kpiIndex(targets, "csi"), "weights=score_product_quality:0x1p3,score_service:1&format=csv"},
		{kpiIndex(targets, "revenue"), "from=2024-01-01&to=2024-04-01&grain=month&by=region,segment&format=arrow"},
		{kpiIndex(targets, "revenue"), "where=region.matches(%22(%3F%3Cx%3En)%22)"},
		{kpiIndex(targets, "revenue"), "where=region.matches(%22%5Cp%7BCn%7D%22)&format=parquet"},
		{kpiIndex(targets, "revenue"), "grain=day&from=1900-01-01&to=2199-12-31"},
		{kpiIndex(targets, "revenue"), "from=0001-01-01&to=9999-12-31&by=tier:value_tiers"},
		{kpiIndex(targets, "cohort_retention"), "grain=week&version=99999999999999999999"},
		{0, "where=monetary%20%3E%201e308&order_by=monetary&desc=true&limit=-1&offset=-5"},
		{0, "order_by=recency_days&limit=99999999999999999999&format=csv"},
		{0, "where=int(monetary)%20%3E%201&desc=maybe"},
	} {
		f.Add(seed.target, seed.query)
	}
	f.Fuzz(func(t *testing.T, target uint8, query string) {
		path := targets[int(target)%len(targets)]
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path, req.URL.RawQuery = path, query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("GET %s?%s: %d %s", path, query, rec.Code, rec.Body.Bytes())
		case rec.Code == http.StatusOK && rec.Body.Len() == 0:
			t.Fatalf("GET %s?%s: 200 with an empty body", path, query)
		case rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), `"error"`):
			t.Fatalf("GET %s?%s: %d without the error body: %q", path, query, rec.Code, rec.Body.Bytes())
		}
	})
}

// kpiIndex is the seed's target index of a KPI's values.
func kpiIndex(targets []string, kpi string) uint8 {
	for i, t := range targets {
		if t == "/v1/kpis/"+kpi+"/values" {
			return uint8(i)
		}
	}
	return 0
}
