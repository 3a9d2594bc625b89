package queries

import (
	"strings"
	"testing"
	"testing/fstest"
)

// Every embedded file parses, names match files, name@version is unique,
// and each KPI has exactly one default version.
func TestEmbeddedCatalog(t *testing.T) {
	defs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]int{}
	for _, d := range defs {
		if d.Default {
			defaults[d.Name]++
		}
		if d.Kind == Ratio && (d.Numerator == "" || d.Denominator == "") {
			t.Errorf("%s: ratio without numerator/denominator", d.File)
		}
	}
	for name, n := range defaults {
		if n != 1 {
			t.Errorf("%s has %d default versions", name, n)
		}
	}
	// KPIS.md's catalog, all of it.
	for _, name := range []string{"revenue", "orders", "active_customers", "avg_order_value", "purchase_frequency",
		"gross_profit", "profit_margin", "customer_profitability", "top20_revenue_share", "historic_clv",
		"acquired_customers", "cac", "referral_rate", "new_customers", "new_customer_growth",
		"repeat_purchase_rate", "retention_rate", "churn_rate", "recency_days", "suspected_churn_rate",
		"csat_avg", "csat_satisfied_share", "nps", "csi", "complaint_rate", "return_rate", "on_time_delivery_rate",
		"first_response_hours_p50", "first_response_hours_p90", "resolution_rate", "avg_resolution_hours",
		"contract_renewal_rate", "email_open_rate", "email_click_rate", "email_click_to_open",
		"social_engagement_rate", "cohort_retention"} {
		if _, ok := defaults[name]; !ok {
			t.Errorf("the catalog lacks %s", name)
		}
	}
}

func TestParseRefusesBadHeaders(t *testing.T) {
	header := "-- name: x\n-- version: 1\n-- title: X\n-- category: sales\n-- unit: count\n-- description: d\n-- requires: orders\n"
	ok := header + "-- kind: additive\n-- value: count(*)\n"
	cases := []struct{ file, src, want string }{
		{"sales/x.v1.sql", header + "-- kind: additive\nSELECT 1", "needs value"},
		{"sales/y.v1.sql", ok + "SELECT 1", "does not match the file name"},
		{"loyalty/x.v1.sql", ok + "SELECT 1", "does not match the directory"},
		{"sales/x.v2.sql", ok + "SELECT 1", "does not match the file name"},
		{"sales/x.sql", ok + "SELECT 1", "<name>.v<N>.sql"},
		{"sales/x.v1.sql", header + "-- kind: sideways\n-- value: count(*)\nSELECT 1", "kind must be"},
		{"sales/x.v1.sql", header + "-- kind: ratio\n-- value: count(*)\nSELECT 1", "kind ratio needs"},
		{"sales/x.v1.sql", ok + "-- colour: red\nSELECT 1", "unknown header key"},
		{"sales/x.v1.sql", ok + "-- param: k float 2\nSELECT 1", "param must be"},
		{"sales/x.v1.sql", ok + "-- direction: up\nSELECT 1", "direction must be"},
		{"sales/x.v1.sql", ok, "no SQL body"},
	}
	for _, c := range cases {
		if _, err := Parse(c.file, c.src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", c.file, err, c.want)
		}
	}
	if _, err := Parse("sales/x.v1.sql", ok+"SELECT 1"); err != nil {
		t.Errorf("a good file: %v", err)
	}
	dup := fstest.MapFS{
		"sales/x.v1.sql": {Data: []byte(ok + "SELECT 1")},
		"sales/x.v2.sql": {Data: []byte(strings.Replace(ok, "version: 1", "version: 2", 1) + "SELECT 1")},
	}
	if _, err := LoadFS(dup); err == nil || !strings.Contains(err.Error(), "none marked default") {
		t.Errorf("two versions without a default: %v", err)
	}
}
