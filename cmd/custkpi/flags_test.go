package main

import (
	"context"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// handbuilt is the engine's hand-built fixture (engine/testdata/handbuilt).
var handbuilt = filepath.Join("..", "..", "engine", "testdata", "handbuilt")

// runCLI runs one custkpi command line in-process and returns what it printed.
func runCLI(args ...string) (string, error) {
	cmd := newRootCommand()
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard) // progress lines; the tests read results and errors
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// importFixture imports kinds of the hand-built fixture into db.
func importFixture(t *testing.T, db string, kinds ...string) {
	t.Helper()
	for _, k := range kinds {
		if out, err := runCLI("import", "--db", db, k, filepath.Join(handbuilt, k+".csv")); err != nil {
			t.Fatalf("import %s: %v\n%s", k, err, out)
		}
	}
}

// A --param value holding commas reaches the engine whole: csi's weights
// (engine/catalog_kpis_test.go has the working: 0.4·2.6/4 + 0.6·2.8/4 = 0.68).
func TestParamValueKeepsCommas(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	importFixture(t, db, "customers", "orders", "surveys")
	out, err := runCLI("kpi", "csi", "--db", db, "--from", "2024-01-01", "--to", "2024-04-01", "--format", "csv",
		"--param", "weights=score_product_quality:0.4,score_service:0.6")
	if err != nil {
		t.Fatalf("kpi csi with weights: %v", err)
	}
	wantRow(t, out, 68, 0.68, 1)
	// Repeatable, with spaces around name and value.
	out, err = runCLI("kpi", "csi", "--db", db, "--from", "2024-01-01", "--to", "2024-04-01", "--format", "csv",
		"--param", " weights = score_product_quality:1 ")
	if err != nil {
		t.Fatalf("csi with quality only: %v", err)
	}
	wantRow(t, out, 65, 0.65, 1)
	if _, err := runCLI("kpi", "csi", "--db", db, "--param", "weights"); err == nil || !strings.Contains(err.Error(), `--param "weights": want name=value`) {
		t.Errorf("--param without '=': %v", err)
	}
}

// wantRow checks a one-row value,numerator,denominator CSV answer.
func wantRow(t *testing.T, out string, want ...float64) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 || strings.Join(recs[0], ",") != "value,numerator,denominator" {
		t.Fatalf("answer %q (%v)", out, err)
	}
	for i, w := range want {
		if got, err := strconv.ParseFloat(recs[1][i], 64); err != nil || math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %s, want %g", recs[0][i], recs[1][i], w)
		}
	}
}

// Spaces around --by items and around --map keys and values are ignored.
func TestByAndMapAreTrimmed(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.duckdb")
	importFixture(t, db, "customers")
	// orders.csv with its own column names for order_date and amount.
	b, err := os.ReadFile(filepath.Join(handbuilt, "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, body, _ := strings.Cut(string(b), "\n")
	header = strings.NewReplacer("order_date", "created_at", "amount", "total").Replace(header)
	orders := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(orders, []byte(header+"\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI("import", "--db", db, "orders", orders, "--map", "order_date = created_at", "--map", " amount= total , "); err != nil {
		t.Fatalf("import with spaced --map: %v\n%s", err, out)
	}
	out, err := runCLI("kpi", "revenue", "--db", db, "--from", "2024-01-01", "--to", "2024-04-01", "--by", " region, segment ", "--format", "csv")
	if err != nil {
		t.Fatalf("kpi with spaced --by: %v", err)
	}
	// c1 50+80+30; c3 40+60 and c4 70; c5 90 (o5 returned, o9 cancelled).
	want := "region,segment,value\neast,b2c,90\nnorth,b2c,160\nsouth,b2c,170\n"
	if out != want {
		t.Errorf("revenue by region, segment:\n%s\nwant:\n%s", out, want)
	}
}
