package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"custkpi/engine"
	"custkpi/metrics"
)

// newMetricsServer is newTestServer with the metrics wired as the binary
// wires them: the engine reports to the same set the API serves.
func newMetricsServer(t *testing.T, opts Options) (*httptest.Server, string) {
	t.Helper()
	ctx := context.Background()
	m := metrics.New(prometheus.NewRegistry())
	eng, err := engine.Open(ctx, engine.Options{Observer: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if _, err := eng.Import(ctx, engine.ImportRequest{Kind: "customers", Path: filepath.Join(handbuiltDir, "customers.csv")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(handbuiltDir, "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	orders := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(orders, b, 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Metrics, opts.ImportDirs = m, []string{dir}
	srv := httptest.NewServer(New(eng, opts).Handler())
	t.Cleanup(srv.Close)
	return srv, orders
}

var handbuiltDir = filepath.Join("..", "engine", "testdata", "handbuilt")

// scrape reads /metrics in the Prometheus text format.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	status, h, body := get(t, base+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	if ct := h.Get("Content-Type"); ct == "" || ct[:10] != "text/plain" {
		t.Errorf("/metrics Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not the text format: %v\n%s", err, body)
	}
	return fams
}

// sample is the value of the series of name with exactly these labels (a
// histogram's sample count); -1 when there is no such series.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func post(t *testing.T, url string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp.StatusCode, out.Bytes()
}

// After a known set of requests, each counter holds exactly what they
// did: requests by route template and status, the KPI cache's one miss
// and one hit, the import's rows (orders.csv has 12) and a refused one,
// a job's end, and DuckDB's memory.
func TestMetricsCountWhatHappened(t *testing.T) {
	srv, orders := newMetricsServer(t, Options{})
	get(t, srv.URL+"/v1/customers/nobody")
	get(t, srv.URL+"/v1/customers/nobody-else")
	get(t, srv.URL+"/no/such/path")
	if status, body := post(t, srv.URL+"/v1/datasets/orders", map[string]any{"path": orders}); status != http.StatusCreated {
		t.Fatalf("import: %d %s", status, body)
	}
	if status, body := post(t, srv.URL+"/v1/datasets/orders", map[string]any{"path": orders, "mapping": map[string]string{"amount": "no_such_column"}}); status != http.StatusBadRequest {
		t.Fatalf("refused import: %d %s", status, body)
	}
	const values = "/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01"
	for range 2 {
		if status, _, body := get(t, srv.URL+values); status != 200 {
			t.Fatalf("%d %s", status, body)
		}
	}
	pathJSON, _ := json.Marshal(map[string]any{"path": orders})
	_, location := postAsync(t, srv.URL+"/v1/datasets/orders", string(pathJSON))
	if job := waitJob(t, srv.URL, location); job["state"] != "succeeded" {
		t.Fatalf("async import: %v", job)
	}

	fams := scrape(t, srv.URL)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"custkpi_http_requests_total", map[string]string{"method": "GET", "route": "/v1/kpis/:name/values", "status": "200"}, 2},
		{"custkpi_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/v1/kpis/:name/values", "status": "200"}, 2},
		{"custkpi_http_requests_total", map[string]string{"method": "GET", "route": "/v1/customers/:id", "status": "404"}, 2},
		{"custkpi_http_requests_total", map[string]string{"method": "GET", "route": "unmatched", "status": "404"}, 1},
		{"custkpi_http_requests_total", map[string]string{"method": "POST", "route": "/v1/datasets/:kind", "status": "201"}, 1},
		{"custkpi_http_requests_total", map[string]string{"method": "POST", "route": "/v1/datasets/:kind", "status": "400"}, 1},
		{"custkpi_http_requests_total", map[string]string{"method": "POST", "route": "/v1/datasets/:kind", "status": "202"}, 1},
		// This scrape is the one request in flight.
		{"custkpi_http_requests_in_flight", nil, 1},
		{"custkpi_result_cache_misses_total", map[string]string{"kpi": "revenue"}, 1},
		{"custkpi_result_cache_hits_total", map[string]string{"kpi": "revenue"}, 1},
		{"custkpi_kpi_query_duration_seconds", map[string]string{"kpi": "revenue", "cache": "miss"}, 1},
		{"custkpi_kpi_query_duration_seconds", map[string]string{"kpi": "revenue", "cache": "hit"}, 1},
		// Two imports of 12 rows (one in a job); the refused one adds none.
		{"custkpi_import_rows_total", map[string]string{"kind": "orders"}, 24},
		{"custkpi_import_duration_seconds", map[string]string{"kind": "orders", "outcome": "ok"}, 2},
		{"custkpi_import_duration_seconds", map[string]string{"kind": "orders", "outcome": "refused"}, 1},
		{"custkpi_jobs_finished_total", map[string]string{"kind": "import", "state": "succeeded"}, 1},
		{"custkpi_jobs", map[string]string{"state": "running"}, 0},
		{"custkpi_jobs", map[string]string{"state": "queued"}, 0},
	} {
		if got := sample(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The raw paths never become labels.
	for _, m := range fams["custkpi_http_requests_total"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "route" && (l.GetValue() == "/v1/customers/nobody" || l.GetValue() == "/no/such/path") {
				t.Errorf("raw path as a route label: %v", m)
			}
		}
	}
	if mem := sample(fams, "custkpi_duckdb_memory_bytes", nil); mem <= 0 {
		t.Errorf("custkpi_duckdb_memory_bytes = %v, want > 0 (DuckDB holds the imported tables)", mem)
	}
	if sample(fams, "custkpi_duckdb_temporary_storage_bytes", nil) < 0 {
		t.Error("custkpi_duckdb_temporary_storage_bytes missing")
	}
	if f := fams["custkpi_build_info"]; f == nil || len(f.Metric) != 1 || f.Metric[0].Gauge.GetValue() != 1 {
		t.Errorf("custkpi_build_info: %v", f)
	}
}

// /metrics is open by default (API.md); MetricsNeedKey puts it behind a
// key like /v1, while /readyz stays open.
func TestMetricsKey(t *testing.T) {
	srv, _ := newMetricsServer(t, Options{MetricsNeedKey: true})
	// A loopback client of a database without keys is the local admin
	// (protected mode): it may scrape.
	if status, _, body := get(t, srv.URL+"/metrics"); status != http.StatusOK {
		t.Fatalf("local admin: %d %s", status, body)
	}
	if status, _, body := get(t, srv.URL+"/metrics", "Authorization", "Bearer wrong"); status != http.StatusUnauthorized {
		t.Errorf("wrong key: %d %s", status, body)
	}
	open, _ := newMetricsServer(t, Options{})
	if status, _, body := get(t, open.URL+"/metrics", "Authorization", "Bearer wrong"); status != http.StatusOK {
		t.Errorf("open /metrics with a wrong key: %d %s", status, body)
	}
}

// /v1/health names the build.
func TestHealthBuildInfo(t *testing.T) {
	srv, _ := newTestServer(t)
	_, _, body := get(t, srv.URL+"/v1/health")
	m := decode(t, body)
	for _, k := range []string{"version", "revision", "revision_time", "go_version", "duckdb_version"} {
		if _, ok := m[k]; !ok {
			t.Errorf("health has no %q: %s", k, body)
		}
	}
	if v, _ := m["go_version"].(string); len(v) < 4 || v[:2] != "go" {
		t.Errorf("go_version %q", m["go_version"])
	}
}
