package api

import (
	"context"
	"math"
	"net/http/httptest"
	"strings"
	"testing"

	"custkpi/engine"
)

// nonFiniteEngine answers what a database holding NaN or ±Inf (or a sum
// that overflowed) would: non-finite values in a KPI's rows, a customer
// page and a variance.
type nonFiniteEngine struct{ Engine }

// No keys: the test client is the local admin.
func (nonFiniteEngine) HasKeys() bool                                   { return false }
func (nonFiniteEngine) Audit(context.Context, engine.AuditRecord) error { return nil }
func (nonFiniteEngine) Generation() int64                               { return 1 }

func (nonFiniteEngine) Run(ctx context.Context, q engine.Query) (*engine.Result, error) {
	return &engine.Result{KPI: q.KPI, Version: 1, From: "2024-01-01", To: "2024-02-01", Grain: "none", By: []string{"region"},
		Columns: []string{"region", "value"}, Types: []string{"VARCHAR", "DOUBLE"}, Rows: [][]any{{"north", math.NaN()}, {"south", math.Inf(1)}, {"east", 2.5}}}, nil
}

func (nonFiniteEngine) Customers(ctx context.Context, q engine.CustomerQuery) (*engine.CustomerPage, error) {
	return &engine.CustomerPage{Total: 2, Columns: []string{"customer_id", "monetary"}, Types: []string{"VARCHAR", "DOUBLE"},
		Rows: []map[string]any{{"customer_id": "c1", "monetary": math.Inf(-1)}, {"customer_id": "c2", "monetary": 3.0}}}, nil
}

func (nonFiniteEngine) Variance(ctx context.Context, q engine.Query) (*engine.Variance, error) {
	nan := math.NaN()
	return &engine.Variance{KPI: q.KPI, By: q.By, Value: &nan, Rows: []map[string]any{}}, nil
}

// Issue 9, measured: NaN results answered 200 with an empty body. A
// non-finite number is null in JSON, an empty cell in CSV; a body that
// cannot be encoded is a logged 500 with the JSON error body.
func TestMeasuredNonFiniteResultsNeverAnEmpty200(t *testing.T) {
	srv := httptest.NewServer(New(nonFiniteEngine{}, Options{}).Handler())
	defer srv.Close()
	status, _, body := get(t, srv.URL+"/v1/kpis/revenue/values?by=region")
	want := `"rows":[{"region":"north","value":null},{"region":"south","value":null},{"region":"east","value":2.5}]`
	if status != 200 || !strings.Contains(string(body), want) {
		t.Errorf("JSON: %d %s, want rows %s", status, body, want)
	}
	status, _, body = get(t, srv.URL+"/v1/kpis/revenue/values?by=region&format=csv")
	if status != 200 || string(body) != "region,value\nnorth,\nsouth,\neast,2.5\n" {
		t.Errorf("CSV: %d %q", status, body)
	}
	for _, f := range []string{"arrow", "parquet"} {
		if status, _, body = get(t, srv.URL+"/v1/kpis/revenue/values?by=region&format="+f); status != 200 || len(body) == 0 {
			t.Errorf("%s: %d, %d bytes", f, status, len(body))
		}
	}
	status, _, body = get(t, srv.URL+"/v1/customers")
	if status != 200 || !strings.Contains(string(body), `{"customer_id":"c1","monetary":null}`) {
		t.Errorf("customers: %d %s", status, body)
	}
	status, _, body = get(t, srv.URL+"/v1/customers?format=csv")
	if status != 200 || string(body) != "customer_id,monetary\nc1,\nc2,3\n" {
		t.Errorf("customers CSV: %d %q", status, body)
	}
	// A value no encoder can write: 500 with the error body, never an
	// empty 200.
	status, _, body = get(t, srv.URL+"/v1/kpis/revenue/variance?by=region")
	if status != 500 || decode(t, body)["error"] == nil {
		t.Errorf("variance: %d %q, want 500 with an error body", status, body)
	}
}
