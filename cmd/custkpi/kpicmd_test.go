package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The CLI prints the same numbers as the API: here the hand-built data's
// churn by region (engine/kpi_test.go has the working).
func TestKPICommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	run := func(args ...string) string {
		t.Helper()
		cmd := newRootCommand()
		var out strings.Builder
		cmd.SetOut(&out)
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	fixture := filepath.Join("..", "..", "engine", "testdata", "handbuilt")
	run("import", "--db", db, "customers", filepath.Join(fixture, "customers.csv"))
	run("import", "--db", db, "orders", filepath.Join(fixture, "orders.csv"))
	csv := run("kpi", "churn_rate", "--db", db, "--from", "2024-01-01", "--to", "2024-04-01", "--by", "region", "--format", "csv")
	want := "region,value,numerator,denominator\neast,,0,0\nnorth,0.5,1,2\nsouth,,0,0\n"
	if csv != want {
		t.Errorf("csv:\n%s\nwant:\n%s", csv, want)
	}
	table := run("kpi", "revenue", "--db", db, "--from", "2024-01-01", "--to", "2024-04-01", "--grain", "month")
	if !strings.Contains(table, "2024-02-01     80") {
		t.Errorf("table:\n%s", table)
	}
	js := run("kpi", "revenue", "--db", db, "--from", "2024-01-01", "--to", "2024-04-01", "--format", "json")
	if !strings.Contains(js, `"value": 420`) {
		t.Errorf("json:\n%s", js)
	}
	cmd := newRootCommand()
	cmd.SetArgs([]string{"kpi", "revenue", "--db", db, "--by", "planet"})
	cmd.SetOut(&strings.Builder{})
	if err := cmd.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "unknown dimension") {
		t.Errorf("bad dimension: %v", err)
	}
}
