package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custkpi/engine"
)

// newTestServer runs the real engine, loaded with the engine's hand-built
// dataset, behind httptest.
func newTestServer(t *testing.T) (*httptest.Server, *engine.Engine) {
	t.Helper()
	ctx := context.Background()
	eng, err := engine.Open(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	for _, kind := range []string{"customers", "orders"} {
		if _, err := eng.Import(ctx, engine.ImportRequest{Kind: kind, Path: filepath.Join("..", "engine", "testdata", "handbuilt", kind+".csv")}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(New(eng, Options{ImportDirs: []string{os.TempDir()}}).Handler())
	t.Cleanup(srv.Close)
	return srv, eng
}

func get(t *testing.T, url string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return m
}

func TestKPIValuesJSONAndCSV(t *testing.T) {
	srv, _ := newTestServer(t)
	status, h, body := get(t, srv.URL+"/v1/kpis/churn_rate/values?from=2024-01-01&to=2024-04-01&by=region")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	m := decode(t, body)
	if m["kpi"] != "churn_rate" || m["version"] != 1.0 || m["from"] != "2024-01-01" || m["grain"] != "none" {
		t.Errorf("header fields %v", m)
	}
	if h.Get("X-KPI-Version") != "1" || h.Get("X-KPI-Default-Version") != "true" || h.Get("ETag") == "" {
		t.Errorf("headers %v", h)
	}
	// Hand-worked in engine/kpi_test.go: north 1 of 2 churned, south and east
	// have no customer active in the previous window.
	want := `[{"region":"east","value":null,"numerator":0,"denominator":0},{"region":"north","value":0.5,"numerator":1,"denominator":2},{"region":"south","value":null,"numerator":0,"denominator":0}]`
	var raw struct {
		Rows json.RawMessage `json:"rows"`
	}
	json.Unmarshal(body, &raw)
	if rows := raw.Rows; string(rows) != want {
		t.Errorf("rows %s\nwant %s", rows, want)
	}
	// The same request again with If-None-Match: not modified.
	if status, _, _ := get(t, srv.URL+"/v1/kpis/churn_rate/values?from=2024-01-01&to=2024-04-01&by=region", "If-None-Match", h.Get("ETag")); status != http.StatusNotModified {
		t.Errorf("conditional request: %d", status)
	}
	status, h, body = get(t, srv.URL+"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01&grain=month&format=csv")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", status, h.Get("Content-Type"))
	}
	if string(body) != "period,value\n2024-01-01,150\n2024-02-01,80\n2024-03-01,190\n" {
		t.Errorf("csv body %q", body)
	}
}

func TestBadRequestsName(t *testing.T) {
	srv, _ := newTestServer(t)
	empty, err := engine.Open(context.Background(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	emptySrv := httptest.NewServer(New(empty, Options{}).Handler())
	defer emptySrv.Close()
	cases := []struct {
		url, code, param string
		status           int
	}{
		{srv.URL + "/v1/kpis/nope/values", "unknown_kpi", "", 404},
		{srv.URL + "/v1/kpis/nope", "unknown_kpi", "", 404},
		{srv.URL + "/v1/kpis/revenue/values?from=2024-13-01&to=2025-01-01", "invalid_parameter", "from", 400},
		{srv.URL + "/v1/kpis/revenue/values?from=2024-01-01&to=yesterday", "invalid_parameter", "to", 400},
		{srv.URL + "/v1/kpis/revenue/values?from=2024-02-01&to=2024-01-01", "invalid_parameter", "from", 400},
		{srv.URL + "/v1/kpis/revenue/values?by=planet", "unknown_dimension", "by", 400},
		{srv.URL + "/v1/kpis/revenue/values?grain=fortnight", "invalid_parameter", "grain", 400},
		{srv.URL + "/v1/kpis/revenue/values?version=7", "unknown_version", "version", 404},
		{srv.URL + "/v1/kpis/revenue/values?version=x", "invalid_parameter", "version", 400},
		{srv.URL + "/v1/kpis/revenue/values?format=xml", "invalid_parameter", "format", 400},
		{srv.URL + "/v1/kpis/revenue/values?colour=red", "invalid_parameter", "colour", 400},
		{srv.URL + "/v1/customers?order_by=shoe_size", "invalid_parameter", "order_by", 400},
		{srv.URL + "/v1/customers?limit=many", "invalid_parameter", "limit", 400},
		{srv.URL + "/v1/customers/nobody", "not_found", "", 404},
		{srv.URL + "/v1/nothing-here", "not_found", "", 404},
		{emptySrv.URL + "/v1/kpis/revenue/values?from=2024-01-01&to=2024-02-01", "missing_dataset", "", 409},
		{emptySrv.URL + "/v1/kpis/revenue/values", "missing_dataset", "", 409},
	}
	for _, c := range cases {
		status, _, body := get(t, c.url)
		if status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.url, status, c.status, body)
			continue
		}
		e, _ := decode(t, body)["error"].(map[string]any)
		if e == nil || e["code"] != c.code || e["message"] == "" {
			t.Errorf("%s: body %s, want code %s", c.url, body, c.code)
			continue
		}
		if c.param != "" {
			d, _ := e["details"].(map[string]any)
			if d["parameter"] != c.param {
				t.Errorf("%s: details %v do not name %s", c.url, d, c.param)
			}
		}
	}
}

func TestCatalogAndCustomers(t *testing.T) {
	srv, _ := newTestServer(t)
	status, _, body := get(t, srv.URL+"/v1/kpis")
	if status != 200 {
		t.Fatal(status)
	}
	var list KPIList
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	names := map[string]KPIInfo{}
	for _, k := range list.KPIs {
		names[k.Name] = k
	}
	for _, n := range []string{"revenue", "orders", "active_customers", "avg_order_value", "purchase_frequency",
		"repeat_purchase_rate", "retention_rate", "churn_rate", "new_customers", "recency_days"} {
		if _, ok := names[n]; !ok {
			t.Errorf("catalog lacks %s", n)
		}
	}
	churn := names["churn_rate"]
	if churn.Unit != "ratio" || churn.Kind != "ratio" || churn.Direction != "lower_is_better" || len(churn.Requires) != 1 ||
		!contains(churn.Dimensions, "region") || !contains(churn.Dimensions, "age_band") {
		t.Errorf("churn_rate entry %+v", churn)
	}
	status, _, body = get(t, srv.URL+"/v1/kpis/churn_rate")
	var detail KPIDetail
	if err := json.Unmarshal(body, &detail); status != 200 || err != nil {
		t.Fatal(status, err)
	}
	if len(detail.VersionDetails) == 0 || !strings.Contains(detail.VersionDetails[0].SQL, "FROM orders") || detail.VersionDetails[0].Macro != "kpi_churn_rate_v1" {
		t.Errorf("detail %+v", detail.VersionDetails)
	}

	status, _, body = get(t, srv.URL+"/v1/customers?order_by=monetary&desc=true&limit=2")
	m := decode(t, body)
	rows, _ := m["rows"].([]any)
	if status != 200 || m["total"] != 6.0 || len(rows) != 2 || rows[0].(map[string]any)["customer_id"] != "c2" {
		t.Errorf("customers: %d %s", status, body)
	}
	status, _, body = get(t, srv.URL+"/v1/customers/c1")
	m = decode(t, body)
	f, _ := m["features"].(map[string]any)
	if status != 200 || f["monetary"] != 260.0 || len(m["recent_orders"].([]any)) != 4 {
		t.Errorf("customer c1: %d %s", status, body)
	}
}

func postMultipart(t *testing.T, url, filename, content string, fields map[string]string) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", filename)
	fw.Write([]byte(content))
	w.Close()
	resp, err := http.Post(url, w.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, decode(t, b)
}

func TestImportEndpoints(t *testing.T) {
	srv, _ := newTestServer(t)
	// CSAT 7: refused, naming file, column and row; surveys stay absent.
	status, body := postMultipart(t, srv.URL+"/v1/datasets/surveys", "surveys.csv",
		"response_id,customer_id,survey_date,csat\nr1,c1,2024-01-01,4\nr2,c2,2024-01-02,7\n", nil)
	e, _ := body["error"].(map[string]any)
	if status != 400 || e["code"] != "invalid_dataset" || !strings.Contains(e["message"].(string), "surveys.csv") ||
		e["details"].(map[string]any)["column"] != "csat" {
		t.Fatalf("bad upload: %d %v", status, body)
	}
	// A good upload with a mapping.
	status, body = postMultipart(t, srv.URL+"/v1/datasets/surveys", "surveys.csv",
		"id,customer_id,survey_date,csat\nr1,c1,2024-01-01,4\nr2,c2,2024-01-02,5\n", map[string]string{"mapping": "response_id=id"})
	if status != 201 || body["rows"] != 2.0 || body["kind"] != "surveys" {
		t.Fatalf("upload: %d %v", status, body)
	}
	// JSON body with a server-side path.
	dir := t.TempDir()
	p := filepath.Join(dir, "tickets.csv")
	os.WriteFile(p, []byte("ticket_id,customer_id,opened_at,category\nt1,c1,2024-01-03 10:00:00,complaint\n"), 0o644)
	resp, err := http.Post(srv.URL+"/v1/datasets/tickets", "application/json", strings.NewReader(`{"path": "`+p+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("json import: %d", resp.StatusCode)
	}
	resp, _ = http.Post(srv.URL+"/v1/datasets/planets", "application/json", strings.NewReader(`{"path": "x"}`))
	if resp.StatusCode != 404 {
		t.Errorf("unknown kind: %d", resp.StatusCode)
	}
	resp, _ = http.Post(srv.URL+"/v1/datasets/orders", "application/json", strings.NewReader(`{"paht": "x"}`))
	if resp.StatusCode != 400 {
		t.Errorf("bad body: %d", resp.StatusCode)
	}
	status, _, b := get(t, srv.URL+"/v1/datasets")
	var list DatasetList
	if err := json.Unmarshal(b, &list); status != 200 || err != nil {
		t.Fatal(status, err)
	}
	kinds := map[string]int64{}
	for _, d := range list.Datasets {
		kinds[d.Kind] = d.Rows
	}
	if kinds["customers"] != 6 || kinds["orders"] != 12 || kinds["surveys"] != 2 || kinds["tickets"] != 1 || len(list.History) < 5 {
		t.Errorf("datasets %v, history %d", kinds, len(list.History))
	}
}

// The error→status map is the contract of error.go: pin it.
func TestErrorStatusMap(t *testing.T) {
	cases := map[engine.Code]int{
		engine.CodeInvalidParameter: 400, engine.CodeUnknownDimension: 400, engine.CodeInvalidDataset: 400,
		engine.CodeInvalidRuleset: 400, engine.CodeInvalidModel: 400, engine.CodeUnknownKPI: 404,
		engine.CodeUnknownVersion: 404, engine.CodeUnknownKind: 404, engine.CodeNotFound: 404,
		engine.CodeMissingDataset: 409, engine.CodeMissingColumn: 409, engine.CodeTimeout: 504, engine.CodeCanceled: 499,
	}
	log := slog.New(slog.DiscardHandler)
	for code, want := range cases {
		status, body := errorResponse(&engine.Error{Code: code, Message: "m"}, log)
		if status != want || body.Error.Code != string(code) {
			t.Errorf("%s → %d %v, want %d", code, status, body, want)
		}
	}
	status, body := errorResponse(errors.New("disk on fire"), log)
	if status != 500 || body.Error.Code != "internal" || strings.Contains(body.Error.Message, "fire") {
		t.Errorf("internal error → %d %v", status, body)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Arrow and Parquet answers decode to the same table DuckDB would read.
func TestKPIValuesArrowAndParquet(t *testing.T) {
	srv, eng := newTestServer(t)
	dir := t.TempDir()
	for _, format := range []string{"parquet", "arrow"} {
		status, h, body := get(t, srv.URL+"/v1/kpis/avg_order_value/values?from=2024-01-01&to=2024-04-01&by=region&format="+format)
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/vnd.apache.") {
			t.Fatalf("%s: %d %s", format, status, h.Get("Content-Type"))
		}
		if format == "arrow" {
			if !bytes.Contains(body, []byte("region")) || len(body) < 200 {
				t.Errorf("arrow stream of %d bytes", len(body))
			}
			continue
		}
		p := filepath.Join(dir, "values.parquet")
		os.WriteFile(p, body, 0o644)
		var n int
		var north float64
		if err := eng.DB().QueryRow("SELECT count(*), max(value) FILTER (WHERE region = 'north') FROM read_parquet('"+p+"')").Scan(&n, &north); err != nil {
			t.Fatal(err)
		}
		if n != 3 || north != 53.33 { // 160/3 in cents
			t.Errorf("parquet: %d rows, north %v", n, north)
		}
		// DuckDB reads the counts back as integers, as it computed them.
		var numType, denType string
		if err := eng.DB().QueryRow("SELECT typeof(numerator), typeof(denominator) FROM read_parquet('"+p+"') LIMIT 1").Scan(&numType, &denType); err != nil || numType != "DOUBLE" || denType != "BIGINT" {
			t.Errorf("parquet types: numerator %s, denominator %s %v", numType, denType, err)
		}
	}
	status, _, _ := get(t, srv.URL+"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01", "Accept", "application/vnd.apache.parquet")
	if status != 200 {
		t.Errorf("Accept parquet: %d", status)
	}
}
