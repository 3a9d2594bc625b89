package api

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"custkpi/api/client"
	"custkpi/internal/apidoc"
)

// TestGeneratedClient generates the Go client from the document a live
// server serves (oapi-codegen, the version go.mod pins as a tool), checks
// that the committed client (api/client) is exactly that, then uses it
// against the server: health, KPI values read as numbers, a KPI parameter
// passed, and errors decoded into the error type.
func TestGeneratedClient(t *testing.T) {
	srv, _ := newTestServer(t)
	_, served := loadServed(t, srv.URL+"/openapi.json")
	cfg, err := apidoc.ParseClientConfig(mustRead(t, filepath.Join("client", "oapi-codegen.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	code, err := apidoc.Client(served, cfg)
	if err != nil {
		t.Fatalf("generate the client from the served document: %v", err)
	}
	if !bytes.Equal(code, mustRead(t, filepath.Join("client", cfg.Output))) {
		t.Errorf("api/client/%s is not the client of the served document: run `go generate ./api`", cfg.Output)
	}

	ctx := context.Background()
	c, err := client.NewClientWithResponses(srv.URL + "/v1")
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.GetHealthWithResponse(ctx)
	if err != nil || h.StatusCode() != http.StatusOK || h.JSON200 == nil {
		t.Fatalf("health: %v %v", err, h.Status())
	}
	if h.JSON200.Status != "ok" || h.JSON200.Datasets["orders"].Rows == 0 {
		t.Errorf("health %+v", h.JSON200)
	}

	// Hand-worked in engine/kpi_test.go: in Q1 2024, north has 1 of its 2
	// customers active in the previous window churned; east has none (0/0).
	by := "region"
	v, err := c.GetKPIValuesWithResponse(ctx, "churn_rate", &client.GetKPIValuesParams{From: date(2024, 1, 1), To: date(2024, 4, 1), By: &by})
	if err != nil || v.StatusCode() != http.StatusOK || v.JSON200 == nil {
		t.Fatalf("values: %v %s %s", err, v.Status(), v.Body)
	}
	if v.HTTPResponse.Header.Get("X-KPI-Version") != "1" {
		t.Errorf("X-KPI-Version %q", v.HTTPResponse.Header.Get("X-KPI-Version"))
	}
	values, err := v.JSON200.AsKPIValues()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]client.KPIRow{}
	for _, r := range values.Rows {
		region, _ := r.Get("region")
		name, err := region.AsKPIRow0()
		if err != nil {
			t.Fatalf("region of %+v: %v", r, err)
		}
		rows[name] = r
	}
	north, east := rows["north"], rows["east"]
	if north.Value == nil || *north.Value != 0.5 || *north.Numerator != 1 || *north.Denominator != 2 {
		t.Errorf("north %+v", north)
	}
	if east.Value != nil || east.Denominator == nil || *east.Denominator != 0 {
		t.Errorf("east: value must be null over a zero denominator: %+v", east)
	}

	// A KPI parameter is a typed query parameter of the client.
	m := 3.0
	p, err := c.GetKPIValuesWithResponse(ctx, "suspected_churn_rate", &client.GetKPIValuesParams{CycleMultiplier: &m})
	if err != nil || p.JSON200 == nil {
		t.Fatalf("cycle_multiplier: %v %s %s", err, p.Status(), p.Body)
	}
	pv, _ := p.JSON200.AsKPIValues()
	if pv.Params == nil || (*pv.Params)["cycle_multiplier"] != 3.0 {
		t.Errorf("cycle_multiplier was not passed on: params %v", pv.Params)
	}

	// Errors decode into the error type, with the documented codes.
	u, err := c.GetKPIValuesWithResponse(ctx, "no_such_kpi", nil)
	if err != nil || u.StatusCode() != http.StatusNotFound || u.JSON404 == nil || u.JSON404.Error.Code != client.UnknownKpi {
		t.Errorf("unknown KPI: %v %s %s", err, u.Status(), u.Body)
	}
	grain := client.GetKPIValuesParamsGrain("fortnight")
	b, err := c.GetKPIValuesWithResponse(ctx, "churn_rate", &client.GetKPIValuesParams{Grain: &grain})
	if err != nil || b.StatusCode() != http.StatusBadRequest || b.JSON400 == nil || b.JSON400.Error.Code != client.InvalidParameter {
		t.Errorf("bad grain: %v %s %s", err, b.Status(), b.Body)
	} else if d := b.JSON400.Error.Details; d == nil || (*d)["parameter"] != "grain" {
		t.Errorf("bad grain: details %v", d)
	}
}

func date(y int, m time.Month, d int) *openapi_types.Date {
	return &openapi_types.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}
