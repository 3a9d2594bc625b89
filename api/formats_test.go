package api

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// arrowTable reads an Arrow IPC stream: its schema and row count.
func arrowTable(t *testing.T, body []byte) (*arrow.Schema, int64) {
	t.Helper()
	r, err := ipc.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not an Arrow stream: %v", err)
	}
	defer r.Release()
	n := int64(0)
	for r.Next() {
		n += r.Record().NumRows()
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return r.Schema(), n
}

// parquetTable reads a Parquet file: its Arrow schema and row count.
func parquetTable(t *testing.T, body []byte) (*arrow.Schema, int64) {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not Parquet: %v", err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	return s, pf.NumRows()
}

// fieldTypes is name: type of a schema, for comparing and printing.
func fieldTypes(s *arrow.Schema) map[string]string {
	out := map[string]string{}
	for _, f := range s.Fields() {
		out[f.Name] = f.Type.String()
	}
	return out
}

// Arrow and Parquet answers have the types of DuckDB's result, the same on
// every page, for an empty answer, and in both formats: a KPI's period is
// date32 and its counts int64; a customer's dates date32 or timestamp and
// referred_by utf8 on a page where it is null as on one where it is not.
func TestNativeArrowAndParquetTypes(t *testing.T) {
	srv, _ := newTestServer(t)
	kpi := map[string]string{"period": "date32", "region": "utf8", "value": "float64", "numerator": "int64", "denominator": "int64"}
	customers := map[string]string{"customer_id": "utf8", "signup_date": "date32", "referred_by": "utf8", "age": "int64",
		"first_order_date": "timestamp[us]", "frequency": "int64", "monetary": "float64", "suspected_churn": "bool"}
	cases := []struct {
		url  string
		want map[string]string
		rows int64
	}{
		{"/v1/kpis/churn_rate/values?from=2024-01-01&to=2024-04-01&grain=month&by=region", kpi, -1},
		{"/v1/kpis/churn_rate/values?from=2020-01-01&to=2020-04-01&grain=month&by=region", kpi, 0},
		{"/v1/customers?limit=2", customers, 2},                      // c1, c2: referred_by null
		{"/v1/customers?limit=2&offset=2", customers, 2},             // c3 referred by c1
		{"/v1/customers?where=frequency%20%3E%201000", customers, 0}, // none
	}
	for _, c := range cases {
		for _, format := range []string{"arrow", "parquet"} {
			status, _, body := get(t, srv.URL+c.url+"&format="+format)
			if status != 200 {
				t.Fatalf("%s %s: %d %s", c.url, format, status, body)
			}
			read := arrowTable
			if format == "parquet" {
				read = parquetTable
			}
			schema, n := read(t, body)
			got := fieldTypes(schema)
			for col, want := range c.want {
				if got[col] != want {
					t.Errorf("%s %s: %s is %s, want %s", c.url, format, col, got[col], want)
				}
			}
			if c.rows >= 0 && n != c.rows {
				t.Errorf("%s %s: %d rows, want %d", c.url, format, n, c.rows)
			}
			if testing.Verbose() && (strings.Contains(c.url, "offset") || strings.Contains(c.url, "2024-01-01")) {
				t.Logf("%s %s schema:\n%s", c.url, format, schema)
			}
		}
	}
}

// format=ndjson answers one JSON object per row; shape=records a bare array
// of the same objects; both equal the envelope's rows, in every tabular
// endpoint.
func TestNDJSONAndRecords(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, u := range []string{"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01&grain=month", "/v1/customers?limit=3"} {
		_, _, body := get(t, srv.URL+u)
		var envelope struct {
			Rows []map[string]any `json:"rows"`
		}
		if err := json.Unmarshal(body, &envelope); err != nil || len(envelope.Rows) != 3 {
			t.Fatalf("%s: %v %s", u, err, body)
		}
		status, h, body := get(t, srv.URL+u+"&shape=records")
		var records []map[string]any
		if err := json.Unmarshal(body, &records); status != 200 || err != nil || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("%s records: %d %v %s", u, status, err, body)
		}
		status, h, body = get(t, srv.URL+u, "Accept", "application/x-ndjson")
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/x-ndjson") {
			t.Fatalf("%s ndjson: %d %s", u, status, h.Get("Content-Type"))
		}
		var lines []map[string]any
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s ndjson line %q: %v", u, sc.Text(), err)
			}
			lines = append(lines, m)
		}
		want := fmt.Sprint(envelope.Rows)
		if fmt.Sprint(records) != want || fmt.Sprint(lines) != want {
			t.Errorf("%s: records %v, ndjson %v, envelope %v", u, records, lines, envelope.Rows)
		}
	}
	if status, _, body := get(t, srv.URL+"/v1/customers?shape=table"); status != 400 || !bytes.Contains(body, []byte(`"parameter":"shape"`)) {
		t.Errorf("shape=table: %d %s", status, body)
	}
}

// An Accept header that admits nothing an endpoint answers is a 406 with
// the JSON error body naming what is offered; a tabular endpoint offers
// its five formats, every other endpoint JSON.
func TestNotAcceptable(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, c := range []struct {
		url, accept string
		want        int
	}{
		{"/v1/kpis/revenue/values", "application/xml", 406},
		{"/v1/kpis/revenue/values", "text/csv;q=0, application/json;q=0", 406},
		{"/v1/kpis/revenue/values?format=csv", "application/xml", 200}, // format= wins
		{"/v1/customers", "image/*", 406},
		{"/v1/customers/export", "application/xml", 406},
		{"/v1/kpis", "text/csv", 406},
		{"/v1/kpis", "application/*", 200},
		{"/v1/kpis", "", 200},
		{"/v1/kpis", "*/*", 200},
		{"/v1/kpis", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 200},
	} {
		status, h, body := get(t, srv.URL+c.url, "Accept", c.accept)
		if status != c.want {
			t.Errorf("%s Accept %q: %d, want %d (%.100s)", c.url, c.accept, status, c.want, body)
			continue
		}
		if status == 406 && (!strings.HasPrefix(h.Get("Content-Type"), "application/json") || errCode(decode(t, body)) != "not_acceptable") {
			t.Errorf("%s Accept %q: 406 body %s", c.url, c.accept, body)
		}
	}
}

// Money reads the same in every format: JSON, CSV and Parquet all say
// 53.33 for north's average order value (160/3), never 53.333333333333336.
func TestMoneyInEveryFormat(t *testing.T) {
	srv, _ := newTestServer(t)
	u := srv.URL + "/v1/kpis/avg_order_value/values?from=2024-01-01&to=2024-04-01&by=region"
	_, _, body := get(t, u+"&format=json")
	if !bytes.Contains(body, []byte(`"region":"north","value":53.33,"numerator":160,"denominator":3`)) {
		t.Errorf("json %s", body)
	}
	_, _, body = get(t, u+"&format=csv")
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 4 || strings.Join(recs[2], ",") != "north,53.33,160,3" {
		t.Errorf("csv %q %v", body, err)
	}
}

// The export answers every customer in one response in each format, with
// the page's types; a scoped key's export holds its customers only.
func TestCustomersExport(t *testing.T) {
	srv, _ := newTestServer(t)
	u := srv.URL + "/v1/customers/export"
	status, h, body := get(t, u+"?format=arrow")
	if status != 200 || h.Get("Content-Type") != mediaArrow {
		t.Fatalf("arrow: %d %s %s", status, h.Get("Content-Type"), body)
	}
	schema, n := arrowTable(t, body)
	if n != 6 || fieldTypes(schema)["signup_date"] != "date32" || fieldTypes(schema)["referred_by"] != "utf8" {
		t.Errorf("arrow export: %d rows, %v", n, schema)
	}
	_, _, body = get(t, u+"?format=parquet&where=region%20%3D%3D%20%22south%22")
	if schema, n := parquetTable(t, body); n != 2 || fieldTypes(schema)["frequency"] != "int64" {
		t.Errorf("parquet export, south: %d rows, %v", n, schema)
	}
	_, h, body = get(t, u+"?format=csv")
	if recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll(); err != nil || len(recs) != 7 || h.Get("Content-Disposition") != `inline; filename="customers.csv"` {
		t.Errorf("csv export: %d lines %v %s", len(recs), err, h.Get("Content-Disposition"))
	}
	_, _, body = get(t, u+"?format=ndjson")
	if lines := strings.Count(string(body), "\n"); lines != 6 {
		t.Errorf("ndjson export: %d lines", lines)
	}
	_, h, body = get(t, u) // no Accept: JSON, a bare array
	var rows []map[string]any
	if err := json.Unmarshal(body, &rows); err != nil || len(rows) != 6 || rows[0]["customer_id"] != "c1" {
		t.Errorf("json export: %v %.200s", err, body)
	}
	if status, _, body := get(t, u+"?where=nonsense%20%3E"); status != 400 {
		t.Errorf("bad where: %d %s", status, body)
	}
	// HEAD: the GET's headers and no body (the handler stops the export
	// once the headers are out).
	req, _ := http.NewRequest(http.MethodHead, u+"?format=csv", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	headBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(headBody) != 0 || resp.Header.Get("Content-Disposition") != `inline; filename="customers.csv"` ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("HEAD export: %d %q %v", resp.StatusCode, headBody, resp.Header)
	}

	adminKey := ""
	status, m := call(t, "POST", srv.URL+"/v1/keys", adminKey, `{"name": "ops", "role": "admin"}`)
	if status != 201 {
		t.Fatalf("admin key: %d %v", status, m)
	}
	adminKey = m["key"].(string)
	_, m = call(t, "POST", srv.URL+"/v1/keys", adminKey, `{"name": "north", "role": "reader", "scope": {"region": ["north"]}}`)
	north := m["key"].(string)
	status, _, body = get(t, u+"?format=ndjson", "Authorization", "Bearer "+north)
	if status != 200 || strings.Count(string(body), "\n") != 2 || strings.Contains(string(body), `"south"`) {
		t.Errorf("north export: %d %s", status, body)
	}
	if status, _, _ := get(t, u); status != http.StatusUnauthorized {
		t.Errorf("export without a key once keys exist: %d", status)
	}
}
