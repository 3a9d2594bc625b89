package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custkpi/engine"
)

// newSurveyServer is newTestServer with the hand-built surveys too (csi
// reads their score_* columns).
func newSurveyServer(t *testing.T) string {
	t.Helper()
	srv, eng := newTestServer(t)
	if _, err := eng.Import(context.Background(), engine.ImportRequest{Kind: "surveys", Path: filepath.Join("..", "engine", "testdata", "handbuilt", "surveys.csv")}); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

// Issue 9, measured: cycle_multiplier=NaN (also Inf), inactive_days=NaN and
// weights=score_a:1e308,... answered 200 with an empty body; a duplicated
// CSI weight column answered 500. Each is a 400 naming the parameter.
func TestMeasuredNonFiniteAndDuplicateParamsAre400(t *testing.T) {
	base := newSurveyServer(t)
	for _, c := range []struct{ kpi, query, param string }{
		{"suspected_churn_rate", "cycle_multiplier=NaN", "cycle_multiplier"},
		{"suspected_churn_rate", "cycle_multiplier=Inf", "cycle_multiplier"},
		{"suspected_churn_rate", "cycle_multiplier=-Inf", "cycle_multiplier"},
		{"suspected_churn_rate", "cycle_multiplier=infinity", "cycle_multiplier"},
		{"suspected_churn_rate", "cycle_multiplier=1e400", "cycle_multiplier"},
		{"churn_rate", "version=2&inactive_days=NaN", "inactive_days"},
		{"churn_rate", "version=2&inactive_days=" + url.QueryEscape("+Inf"), "inactive_days"},
		{"csi", "weights=score_product_quality:1e308,score_service:1e308", "weights"},
		{"csi", "weights=score_product_quality:1e308", "weights"},
		{"csi", "weights=score_product_quality:NaN", "weights"},
		{"csi", "weights=score_product_quality:0.5,score_product_quality:0.5", "weights"},
		{"csi", "weights=score_product_quality:0.5," + url.QueryEscape(" score_product_quality :0.5"), "weights"},
	} {
		status, _, body := get(t, base+"/v1/kpis/"+c.kpi+"/values?"+c.query)
		if status != 400 {
			t.Errorf("%s?%s: %d %q, want 400", c.kpi, c.query, status, body)
			continue
		}
		m := decode(t, body)
		e, _ := m["error"].(map[string]any)
		d, _ := e["details"].(map[string]any)
		if e["code"] != "invalid_parameter" || d["parameter"] != c.param {
			t.Errorf("%s?%s: %s, want invalid_parameter naming %s", c.kpi, c.query, body, c.param)
		}
	}
	// Finite, distinct weights still answer.
	if status, _, body := get(t, base+"/v1/kpis/csi/values?weights=score_product_quality:1e300,score_service:1"); status != 200 || len(body) == 0 {
		t.Errorf("finite weights: %d %q", status, body)
	}
}

// Weights the macro would read differently from Go (a hex float DuckDB
// cannot cast, a tab around a name) answer as Go read them.
func TestWeightsBoundAsGoReadThem(t *testing.T) {
	base := newSurveyServer(t)
	_, _, want := get(t, base+"/v1/kpis/csi/values?from=2023-12-01&to=2024-07-01&weights=score_product_quality:8,score_service:1")
	for _, w := range []string{"score_product_quality:0x1p3,score_service:1", "score_product_quality\t:8,score_service:1.0"} {
		status, _, body := get(t, base+"/v1/kpis/csi/values?from=2023-12-01&to=2024-07-01&weights="+url.QueryEscape(w))
		if status != 200 {
			t.Errorf("%q: %d %s", w, status, body)
			continue
		}
		gr, wr := decode(t, body)["rows"], decode(t, want)["rows"]
		if fmt.Sprint(gr) != fmt.Sprint(wr) {
			t.Errorf("%q: rows %v, want %v", w, gr, wr)
		}
	}
}

// Issue 9, measured: a file without rows (/etc/passwd read as orders)
// answered 201 with 0 rows and wiped the orders. It is a 400
// invalid_dataset naming the file, unless allow_empty says so.
func TestMeasuredEmptyFileRefusedUnlessAllowEmpty(t *testing.T) {
	srv, _ := newTestServer(t)
	const header = "order_id,customer_id,order_date,amount\n"
	status, body := postMultipart(t, srv.URL+"/v1/datasets/orders", "empty.csv", header, nil)
	e, _ := body["error"].(map[string]any)
	if status != 400 || e["code"] != "invalid_dataset" || !strings.Contains(fmt.Sprint(e["message"]), "empty.csv") {
		t.Fatalf("empty upload: %d %v", status, body)
	}
	if status, body = postMultipart(t, srv.URL+"/v1/datasets/orders", "empty.csv", header, map[string]string{"allow_empty": "maybe"}); status != 400 {
		t.Errorf("allow_empty=maybe: %d %v", status, body)
	}
	if status, _, b := get(t, srv.URL+"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01"); status != 200 || !strings.Contains(string(b), `"value":420`) {
		t.Errorf("revenue after refused empty imports: %d %s", status, b)
	}
	p := filepath.Join(t.TempDir(), "empty.csv")
	os.WriteFile(p, []byte(header), 0o644)
	resp, err := http.Post(srv.URL+"/v1/datasets/orders", "application/json", strings.NewReader(`{"path": "`+p+`", "allow_empty": true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("JSON allow_empty: %d", resp.StatusCode)
	}
	if status, body = postMultipart(t, srv.URL+"/v1/datasets/orders", "empty.csv", header, map[string]string{"allow_empty": "true"}); status != 201 || body["rows"] != 0.0 {
		t.Errorf("multipart allow_empty: %d %v", status, body)
	}
}
