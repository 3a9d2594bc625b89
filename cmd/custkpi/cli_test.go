package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"custkpi/queries"
)

// runExit runs a command line as main does and returns its exit code and
// what it printed.
func runExit(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runMain(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// Exit codes: 0 ok, 1 the command failed, 2 the command line is wrong; the
// messages name flags, not the API's parameters.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.duckdb")
	importFixture(t, db, "customers", "orders")
	missing := filepath.Join(dir, "missing.duckdb")
	for _, c := range []struct {
		args []string
		code int
		says string // in stderr
	}{
		{[]string{"kpis", "--db", db}, 0, ""},
		{[]string{"check", "--db", db}, 0, ""},
		{[]string{"rules"}, 0, ""}, // a group alone prints its help
		{[]string{"bogus"}, 2, `unknown command "bogus" for "custkpi"`},
		{[]string{"rules", "evaluat"}, 2, `unknown command "evaluat" for "custkpi rules"; did you mean evaluate?`},
		{[]string{"kpi"}, 2, "accepts 1 arg(s), received 0; usage: custkpi kpi NAME"},
		{[]string{"import", "--db", db, "orders"}, 2, "accepts 2 arg(s), received 1"},
		{[]string{"kpi", "revenue", "--db", db, "--nope"}, 2, "unknown flag: --nope"},
		{[]string{"kpi", "revenue", "--db", db, "--format", "xml"}, 2, `invalid argument "xml" for "--format" flag: want table, csv, json or ndjson`},
		{[]string{"import", "--db", db, "orders", "x.parquet", "--format", "parquet"}, 2, "--file-format"},
		{[]string{"kpi", "revenue", "--db", db, "--version", "one"}, 2, `invalid argument "one" for "--version"`},
		{[]string{"kpi", "revenue", "--db", db, "--from", "2024-13-01"}, 2, `invalid --from: "2024-13-01" is not a date`},
		{[]string{"kpi", "revenue", "--db", db, "--grain", "fortnight"}, 2, `invalid --grain: "fortnight"`},
		{[]string{"kpi", "revenue", "--db", db, "--to", "2024-01-01"}, 2, "invalid --from: required when to is given"},
		{[]string{"kpi", "revenue", "--db", db, "--from", "2024-05-01", "--to", "2024-01-01"}, 2, `{"parameter":"--from"}`},
		{[]string{"kpi", "revenue", "--db", db, "--by", "planet"}, 2, `unknown dimension "planet"`},
		{[]string{"kpi", "revenue", "--db", db, "--version", "9"}, 2, "has no version 9"},
		{[]string{"kpi", "suspected_churn_rate", "--db", db, "--param", "cycle_multiplier=x"}, 2, `invalid --param cycle_multiplier: "x" is not a finite number`},
		{[]string{"kpi", "nope", "--db", db}, 2, "unknown KPI \"nope\"; `custkpi kpis` lists them"},
		{[]string{"import", "--db", db, "planets", "x.csv"}, 2, "planets"},
		{[]string{"rules", "evaluate", "spend", "--db", db, "--as-of", "soon"}, 2, `invalid --as-of: "soon" is not a date`},
		{[]string{"clv", "fit", "--db", db}, 2, `required flag(s) "calibration-end" not set`},
		{[]string{"clv", "fit", "--db", db, "--calibration-end", "2024-02-30"}, 2, "invalid --calibration-end"},
		{[]string{"rules", "list", "--db", db, "--server", "http://127.0.0.1:1"}, 2, "--server and --db both given"},
		{[]string{"check", "--server", "http://127.0.0.1:1"}, 2, "not through --server"},
		{[]string{"kpi", "revenue", "--db", missing}, 1, "custkpi demo --db " + missing},
		{[]string{"rules", "evaluate", "no_such_rules", "--db", db}, 1, "no_such_rules"},
		{[]string{"import", "--db", db, "orders", filepath.Join(dir, "none.csv")}, 1, "none.csv"},
		{[]string{"kpi", "csat_avg", "--db", db}, 1, "surveys"},
	} {
		code, _, stderr := runExit(c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("%v: exit %d, want %d; stderr %q should say %q", c.args, code, c.code, stderr, c.says)
		}
		if strings.Contains(stderr, `parameter "`) {
			t.Errorf("%v: the message names an API parameter: %s", c.args, stderr)
		}
	}
}

// The real process: its exit status is the code, and SIGINT during a
// command stops it with 130. The server the command waits on answers
// nothing until the client gives up, so the signal always comes while the
// command is running.
func TestProcessExitCodes(t *testing.T) {
	var exit *exec.ExitError
	if err := custkpiProcess(t, "kpi").Run(); !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("custkpi kpi: %v, want exit status 2", err)
	}

	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	cmd := custkpiProcess(t, "scorecard", "--server", srv.URL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-arrived:
	case err := <-done:
		t.Fatalf("scorecard ended before its request arrived: %v\n%s", err, stderr.String())
	}
	cmd.Process.Signal(os.Interrupt)
	err := <-done
	if !errors.As(err, &exit) || exit.ExitCode() != 130 || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("scorecard interrupted: %v, want exit status 130\n%s", err, stderr.String())
	}
}

// readCSV parses a CSV answer into its header and rows.
func readCSV(t *testing.T, out string) ([]string, [][]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("not CSV: %v\n%s", err, out)
	}
	return recs[0], recs[1:]
}

// readNDJSON parses JSON lines, checking every object's keys come in the
// order cols gives.
func readNDJSON(t *testing.T, out string, cols []string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		last := -1
		for i, c := range cols {
			at := strings.Index(line, `"`+c+`":`)
			if at < 0 || at < last {
				t.Fatalf("line %q: key %s missing or out of order (column %d)", line, c, i)
			}
			last = at
		}
		rows = append(rows, m)
	}
	return rows
}

// custkpi kpis: every KPI of the catalog in every format; cac groups by
// acquisition_channel (alias channel); a matrix takes no grain.
func TestKPIsCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	importFixture(t, db, "customers")
	defs, err := queries.Load()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, d := range defs {
		names[d.Name] = true
	}
	out, err := runCLI("kpis", "--db", db, "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	header, rows := readCSV(t, out)
	wantCols := "name,version,versions,category,unit,kind,direction,grains,dimensions,params,requires,title,description"
	if strings.Join(header, ",") != wantCols || len(rows) != len(names) {
		t.Fatalf("header %v, %d rows for %d KPIs", header, len(rows), len(names))
	}
	byName := map[string][]string{}
	for _, r := range rows {
		byName[r[0]] = r
	}
	if r := byName["cac"]; r[8] != "acquisition_channel channel" || r[7] != "none day week month quarter year" || r[4] != "currency" {
		t.Errorf("cac row %v", r)
	}
	if r := byName["cohort_retention"]; r[7] != "none" {
		t.Errorf("cohort_retention grains %q, want none", r[7])
	}
	if r := byName["suspected_churn_rate"]; r[9] != "cycle_multiplier=2" {
		t.Errorf("suspected_churn_rate params %q", r[9])
	}
	table, err := runCLI("kpi", "list", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	// A summary, the column names, one line per KPI.
	if len(lines) != 2+len(names) || !strings.Contains(lines[1], "name") || !strings.Contains(lines[1], "grains") {
		t.Errorf("table has %d lines for %d KPIs:\n%s", len(lines), len(names), table)
	}
	js, err := runCLI("kpis", "--db", db, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		KPIs []struct {
			Name   string   `json:"name"`
			Grains []string `json:"grains"`
		} `json:"kpis"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || len(doc.KPIs) != len(names) {
		t.Errorf("json: %v, %d KPIs", err, len(doc.KPIs))
	}
	nd, err := runCLI("kpis", "--db", db, "--format", "ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if got := readNDJSON(t, nd, header); len(got) != len(names) {
		t.Errorf("ndjson: %d lines", len(got))
	}
}

// The other commands print a table (or a sentence) by default and their
// rows as CSV, JSON lines or one JSON document on request.
func TestCommandFormats(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.duckdb")
	importFixture(t, db, "customers")
	orders := filepath.Join(handbuilt, "orders.csv")
	run := func(args ...string) string {
		t.Helper()
		out, err := runCLI(args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}

	if out := run("import", "--db", db, "orders", orders); !strings.HasPrefix(out, "imported 12 orders rows from "+orders+" (replace); orders has 12 rows\n") {
		t.Errorf("import table:\n%s", out)
	}
	header, rows := readCSV(t, run("import", "--db", db, "orders", orders, "--format", "csv"))
	if strings.Join(header, ",") != "kind,mode,rows,total_rows,source,checksum,imported_at,columns,warnings" ||
		len(rows) != 1 || rows[0][0] != "orders" || rows[0][1] != "replace" || rows[0][2] != "12" || rows[0][3] != "12" ||
		rows[0][7] != "order_id customer_id order_date amount cost status" {
		t.Errorf("import csv %v %v", header, rows)
	}
	nd := readNDJSON(t, run("import", "--db", db, "orders", orders, "--format", "ndjson"), header)
	if len(nd) != 1 || nd[0]["total_rows"] != 12.0 {
		t.Errorf("import ndjson %v", nd)
	}

	rules := filepath.Join(dir, "spend.yaml")
	writeFile(t, rules, "name: spend\nrules:\n  - tier: big\n    when: monetary >= 250.0\ndefault: small\n")
	if out := run("rules", "save", "--db", db, rules, "--format", "json"); !strings.Contains(out, `"name": "spend"`) {
		t.Errorf("rules save json:\n%s", out)
	}
	// Monetary: c1 260 and c2 320 are big; c3 100, c4 70, c5 90, c6 0 small.
	out := run("rules", "evaluate", "--db", db, "spend")
	if !strings.HasPrefix(out, "evaluation ") || !strings.Contains(out, "6 customers (sql path)") {
		t.Errorf("evaluate table:\n%s", out)
	}
	header, rows = readCSV(t, run("rules", "evaluate", "--db", db, "spend", "--format", "csv"))
	if strings.Join(header, ",") != "tier,rule,customers,share,revenue_share" || len(rows) != 2 ||
		rows[0][0] != "big" || rows[0][2] != "2" || rows[1][0] != "small" || rows[1][2] != "4" {
		t.Errorf("evaluate csv %v %v", header, rows)
	}
	header, rows = readCSV(t, run("rules", "list", "--db", db, "--format", "csv"))
	if header[0] != "name" || len(rows) < 2 {
		t.Errorf("rules list csv %v %v", header, rows)
	}
	if out := run("rules", "list", "--db", db); !strings.Contains(strings.SplitN(out, "\n", 2)[0], "latest_version") {
		t.Errorf("rules list table:\n%s", out)
	}

	secret := strings.TrimSpace(run("keys", "create", "--db", db, "--name", "bi", "--scope", "region=north,east"))
	if !strings.HasPrefix(secret, "ck_") || strings.Contains(secret, "\n") {
		t.Errorf("keys create prints the secret alone: %q", secret)
	}
	var created struct{ ID, Key string }
	if err := json.Unmarshal([]byte(run("keys", "create", "--db", db, "--name", "ops", "--format", "json")), &created); err != nil || !strings.HasPrefix(created.Key, "ck_") {
		t.Errorf("keys create json: %+v %v", created, err)
	}
	header, rows = readCSV(t, run("keys", "list", "--db", db, "--format", "csv"))
	if strings.Join(header, ",") != "id,name,role,scope,created_at,revoked_at" || len(rows) != 2 || rows[0][3] != "region=north,east" {
		t.Errorf("keys list csv %v %v", header, rows)
	}
	if out := run("keys", "revoke", "--db", db, created.ID, "--format", "json"); !strings.Contains(out, `"revoked": "`+created.ID+`"`) {
		t.Errorf("keys revoke json:\n%s", out)
	}

	if out := run("check", "--db", db); !strings.Contains(out, "invariants hold") {
		t.Errorf("check table:\n%s", out)
	}
	header, rows = readCSV(t, run("check", "--db", db, "--format", "csv"))
	if strings.Join(header, ",") != "name,ok,rule,problem" || len(rows) == 0 || rows[0][1] != "true" {
		t.Errorf("check csv %v %v", header, rows)
	}

	// A KPI as JSON lines: one object per row, keys in column order.
	lines := readNDJSON(t, run("kpi", "revenue", "--db", db, "--from", "2024-01-01", "--to", "2024-04-01", "--by", "region", "--format", "ndjson"),
		[]string{"region", "value"})
	// east 90, north 160, south 170 (the last import replaced the orders).
	if len(lines) != 3 || lines[0]["region"] != "east" || lines[0]["value"] != 90.0 || lines[2]["value"] != 170.0 {
		t.Errorf("kpi ndjson %v", lines)
	}
}
