package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custkpi/engine"
)

func do(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, decode(t, b)
}

// Targets round-trip through the API and drive the scorecard's status; the
// numbers are the hand-built data's (engine/analysis_test.go).
func TestTargetsScorecardVarianceEndpoints(t *testing.T) {
	srv, _ := newTestServer(t)
	status, body := do(t, "PUT", srv.URL+"/v1/targets/churn_rate", `{"target": 0.45, "warn_within": 0.05}`)
	if status != 201 || body["direction"] != "lower_is_better" {
		t.Fatalf("put: %d %v", status, body)
	}
	status, body = do(t, "PUT", srv.URL+"/v1/targets/churn_rate", `{"warn_within": 0.05}`)
	if status != 400 || body["error"].(map[string]any)["details"].(map[string]any)["parameter"] != "target" {
		t.Errorf("put without target: %d %v", status, body)
	}
	if status, _ = do(t, "PUT", srv.URL+"/v1/targets/nope", `{"target": 1}`); status != 404 {
		t.Errorf("put on unknown KPI: %d", status)
	}
	status, body = do(t, "GET", srv.URL+"/v1/targets", "")
	if ts, _ := body["targets"].([]any); status != 200 || len(ts) != 1 {
		t.Errorf("list: %d %v", status, body)
	}

	status, body = do(t, "GET", srv.URL+"/v1/scorecard?from=2024-01-01&to=2024-04-01", "")
	if status != 200 {
		t.Fatalf("scorecard: %d %v", status, body)
	}
	found := false
	for _, r := range body["rows"].([]any) {
		row := r.(map[string]any)
		if row["kpi"] == "churn_rate" {
			found = true
			if row["value"] != 0.5 || row["target"] != 0.45 || row["status"] != "warn" {
				t.Errorf("churn row %v", row)
			}
		}
		if row["kpi"] == "revenue" && (row["value"] != 420.0 || row["previous"] != 300.0 || row["status"] != nil) {
			t.Errorf("revenue row %v", row)
		}
	}
	if !found {
		t.Error("no churn_rate row")
	}

	status, body = do(t, "GET", srv.URL+"/v1/kpis/revenue/variance?from=2024-01-01&to=2024-04-01&by=region", "")
	if status != 200 || body["total_change"] != 120.0 || len(body["rows"].([]any)) != 3 {
		t.Errorf("variance: %d %v", status, body)
	}
	if status, _ = do(t, "GET", srv.URL+"/v1/kpis/revenue/variance?by=region&grain=month", ""); status != 400 {
		t.Errorf("variance with a grain: %d", status)
	}
	status, body = do(t, "GET", srv.URL+"/v1/kpis/revenue/diff?from_version=1&to_version=1&from=2024-01-01&to=2024-04-01&by=region", "")
	if rows, _ := body["rows"].([]any); status != 200 || len(rows) != 3 || rows[0].(map[string]any)["difference"] != 0.0 {
		t.Errorf("diff: %d %v", status, body)
	}
	if status, _ = do(t, "GET", srv.URL+"/v1/kpis/revenue/diff?from_version=1", ""); status != 400 {
		t.Errorf("diff without to_version: %d", status)
	}

	status, body = do(t, "DELETE", srv.URL+"/v1/targets/churn_rate", "")
	if status != 200 || body["deleted"] != 1.0 {
		t.Errorf("delete: %d %v", status, body)
	}
}

// A scope value with ';' (region "north;south") is stored, listed, scored
// and deleted by its percent-encoded by=; a raw ';' is refused rather than
// read as no scope, which deleted every target of the KPI.
func TestTargetScopeWithSemicolon(t *testing.T) {
	srv, eng := newTestServer(t)
	b, err := os.ReadFile(filepath.Join("..", "engine", "testdata", "handbuilt", "customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	customers := filepath.Join(t.TempDir(), "customers.csv")
	os.WriteFile(customers, []byte(strings.ReplaceAll(string(b), "north", "north;south")), 0o644)
	if _, err := eng.Import(context.Background(), engine.ImportRequest{Kind: "customers", Path: customers}); err != nil {
		t.Fatal(err)
	}
	if status, body := do(t, "PUT", srv.URL+"/v1/targets/revenue", `{"target": 100, "by": {"region": "north;south"}}`); status != 201 {
		t.Fatalf("put: %d %v", status, body)
	}
	if status, body := do(t, "PUT", srv.URL+"/v1/targets/revenue", `{"target": 400}`); status != 201 {
		t.Fatalf("put unscoped: %d %v", status, body)
	}
	status, body := do(t, "GET", srv.URL+"/v1/targets/revenue", "")
	if ts, _ := body["targets"].([]any); status != 200 || len(ts) != 2 ||
		fmt.Sprint(ts[1].(map[string]any)["by"]) != "map[region:north;south]" {
		t.Errorf("list: %d %v", status, body)
	}
	status, body = do(t, "GET", srv.URL+"/v1/scorecard?from=2024-01-01&to=2024-04-01", "")
	if status != 200 {
		t.Fatalf("scorecard: %d %v", status, body)
	}
	found := false
	for _, r := range body["rows"].([]any) {
		row := r.(map[string]any)
		if by, _ := row["by"].(map[string]any); row["kpi"] == "revenue" && by["region"] == "north;south" {
			found = true
			if row["value"] != 160.0 || row["target"] != 100.0 || row["status"] != "ok" {
				t.Errorf("north;south row %v", row)
			}
		}
	}
	if !found {
		t.Errorf("no revenue row for region north;south: %v", body["rows"])
	}

	if status, body = do(t, "DELETE", srv.URL+"/v1/targets/revenue?by=region:north;south", ""); status != 400 {
		t.Errorf("delete with a raw ';': %d %v", status, body)
	}
	if status, body = do(t, "DELETE", srv.URL+"/v1/targets/revenue?by=region:north%3Bsouth", ""); status != 200 || body["deleted"] != 1.0 {
		t.Errorf("delete north;south: %d %v", status, body)
	}
	status, body = do(t, "GET", srv.URL+"/v1/targets/revenue", "")
	if ts, _ := body["targets"].([]any); status != 200 || len(ts) != 1 || ts[0].(map[string]any)["by"] != nil {
		t.Errorf("after delete, the unscoped target alone: %d %v", status, body)
	}
}
