package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestRuleSetEndpoints(t *testing.T) {
	srv, _ := newTestServer(t)
	// A type error and an unknown variable, each with its rule, line and
	// column in the document.
	bad := "name: spend\nrules:\n  - tier: big\n    when: monetary > \"100\"\n  - tier: mid\n    when: monetery > 10.0\ndefault: small\n"
	status, body := do(t, "POST", srv.URL+"/v1/rulesets/validate", bad)
	e, _ := body["error"].(map[string]any)
	if status != 400 || e["code"] != "invalid_ruleset" {
		t.Fatalf("validate bad: %d %v", status, body)
	}
	errs, _ := e["details"].(map[string]any)["errors"].([]any)
	if len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	first, second := errs[0].(map[string]any), errs[1].(map[string]any)
	if first["rule"] != 1.0 || first["line"] != 4.0 || second["rule"] != 2.0 || second["line"] != 6.0 ||
		!strings.Contains(second["message"].(string), "monetary") {
		t.Errorf("errors %v", errs)
	}
	good := "name: spend\nrules:\n  - tier: big\n    when: monetary >= 250.0\ndefault: small\n"
	status, body = do(t, "POST", srv.URL+"/v1/rulesets/validate", good)
	if status != 200 || body["valid"] != true || body["path"] != "sql" {
		t.Errorf("validate good: %d %v", status, body)
	}
	status, body = do(t, "PUT", srv.URL+"/v1/rulesets/spend", good)
	if status != 201 || body["version"] != 1.0 || body["name"] != "spend" {
		t.Fatalf("put: %d %v", status, body)
	}
	if status, _ = do(t, "PUT", srv.URL+"/v1/rulesets/other", good); status != 400 {
		t.Errorf("put under another name: %d", status)
	}
	// Monetary as of 2024-04-11: c1 260, c2 320 are big; the other four small.
	status, body = do(t, "POST", srv.URL+"/v1/rulesets/spend/evaluate", "")
	if status != 200 || body["path"] != "sql" || body["customers"] != 6.0 {
		t.Fatalf("evaluate: %d %v", status, body)
	}
	tiers := map[string]float64{}
	for _, x := range body["tiers"].([]any) {
		tc := x.(map[string]any)
		tiers[tc["tier"].(string)] = tc["customers"].(float64)
	}
	if tiers["big"] != 2 || tiers["small"] != 4 {
		t.Errorf("tiers %v", tiers)
	}
	status, body = do(t, "GET", srv.URL+"/v1/rulesets/spend/assignments?tier=big", "")
	if status != 200 || body["total"] != 2.0 {
		t.Errorf("assignments: %d %v", status, body)
	}
	// Q1 2024 revenue by tier: big c1 160 (c2 had none in Q1); small c3 100 + c4 70 + c5 90.
	code, _, raw := get(t, srv.URL+"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01&by=tier:spend&format=csv")
	if code != 200 || string(raw) != "tier:spend,value\nbig,160\nsmall,260\n" {
		t.Errorf("revenue by tier: %d %q", code, raw)
	}
	code, _, raw = get(t, srv.URL+"/v1/kpis/revenue/values?from=2024-01-01&to=2024-04-01&format=csv&where="+strings.ReplaceAll("region == \"south\"", " ", "%20"))
	if code != 200 || string(raw) != "value\n170\n" {
		t.Errorf("revenue where south: %d %q", code, raw)
	}
	status, body = do(t, "GET", srv.URL+"/v1/kpis/revenue/values?where=monetary%20%3E%20%22x%22", "")
	if status != 400 || body["error"].(map[string]any)["details"].(map[string]any)["parameter"] != "where" {
		t.Errorf("bad where: %d %v", status, body)
	}
	status, body = do(t, "GET", srv.URL+"/v1/customers/c1", "")
	if ts, _ := body["tiers"].([]any); status != 200 || len(ts) != 1 || ts[0].(map[string]any)["tier"] != "big" {
		t.Errorf("customer tiers: %d %v", status, body["tiers"])
	}
	status, body = do(t, "GET", srv.URL+"/v1/rulesets/lifecycle/transitions?from_as_of=2024-02-01", "")
	if status != 200 || body["moved"] != 3.0 || body["stayed"] != 3.0 {
		t.Errorf("transitions: %d %v", status, body)
	}
	status, body = do(t, "GET", srv.URL+"/v1/rulesets", "")
	if rs, _ := body["rulesets"].([]any); status != http.StatusOK || len(rs) != 7 {
		t.Errorf("list: %d %v", status, body)
	}
	if status, _ = do(t, "GET", srv.URL+"/v1/rulesets/nope", ""); status != 404 {
		t.Errorf("unknown rule set: %d", status)
	}
}
