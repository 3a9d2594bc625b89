package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startServe runs `custkpi serve` in-process over db on a free port, waits
// until it is ready and returns its base URL; it stops when the test ends.
func startServe(t *testing.T, db string) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	serve := newRootCommand()
	serve.SetOut(pw)
	serve.SetErr(io.Discard)
	serve.SetArgs([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- serve.ExecuteContext(ctx); pw.Close() }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	})
	// The first line names the bound address (see printURLs).
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v", err)
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "custkpi API on "))
	waitReady(t, base)
	return base
}

// copyDatabase copies a closed database file (and its WAL, if any).
func copyDatabase(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", ".wal"} {
		b, err := os.ReadFile(from + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to+suffix, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Every data command prints the same bytes whether it opens the file or
// goes through a server over an identical copy of it: the same printers,
// fed from the API. Only what legitimately differs between two runs is
// normalised: elapsed times, import timestamps, and an import's source,
// which is the path as typed locally and the uploaded file's name on the
// server.
func TestServerMatchesLocal(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "local.duckdb")
	importFixture(t, local, "customers", "orders", "surveys")
	remote := filepath.Join(dir, "remote.duckdb")
	copyDatabase(t, local, remote)
	base := startServe(t, remote)

	good := filepath.Join(dir, "spend.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	orphans := filepath.Join(dir, "orphans.csv")
	writeFile(t, good, "name: spend\nrules:\n  - tier: big\n    when: monetary >= 250.0\ndefault: small\n")
	writeFile(t, bad, "name: spend\nrules:\n  - tier: big\n    when: monetary >\ndefault: small\n")
	orders, err := os.ReadFile(filepath.Join(handbuilt, "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(orders), "\n")
	writeFile(t, orphans, header+"\n"+orphanRow(t, header)+"\n")

	elapsed := regexp.MustCompile(`("elapsed_ms": )[0-9.e+-]+|(\), )\d+( ms\n)`)
	imported := regexp.MustCompile(`"imported_at": "[^"]*"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	normalise := func(s string) string {
		s = elapsed.ReplaceAllString(s, "${1}${2}N${3}")
		s = imported.ReplaceAllString(s, `T`)
		// The source as typed locally is a path; the server records the
		// uploaded file's name.
		s = strings.ReplaceAll(s, dir+string(filepath.Separator), "")
		return strings.ReplaceAll(s, handbuilt+string(filepath.Separator), "")
	}
	window := []string{"--from", "2024-01-01", "--to", "2024-04-01"}
	kpi := func(name string, more ...string) []string {
		return append(append([]string{"kpi", name}, window...), more...)
	}
	// Failing commands (fail) must fail alike; the others must succeed.
	fail := map[string]bool{"planet": true, bad: true, "no_such_rules": true, orphans: true, "tickets.csv": true,
		"cycle_multiplier=x": true, "2024-05-01": true}
	for _, args := range [][]string{
		kpi("revenue", "--grain", "month", "--by", "region"),
		kpi("revenue", "--grain", "month", "--by", "region", "--format", "csv"),
		kpi("revenue", "--grain", "month", "--by", "region", "--format", "json"),
		kpi("churn_rate", "--by", "region"),
		kpi("churn_rate", "--by", "region", "--format", "csv"),
		kpi("churn_rate", "--by", "region", "--format", "json"),
		kpi("csi", "--param", "weights=score_product_quality:0.4,score_service:0.6", "--format", "json"),
		// No group has rows: the columns still print.
		kpi("revenue", "--by", "region", "--where", "monetary > 1000000.0"),
		kpi("revenue", "--by", "planet"),
		{"scorecard", "--from", "2024-01-01", "--to", "2024-04-01"},
		{"scorecard", "--from", "2024-01-01", "--to", "2024-04-01", "--format", "csv"},
		{"scorecard", "--from", "2024-01-01", "--to", "2024-04-01", "--format", "json"},
		{"scorecard", "--from", "2024-01-01", "--to", "2024-04-01", "--format", "ndjson"},
		kpi("churn_rate", "--by", "region", "--format", "ndjson"),
		{"kpis"},
		{"kpis", "--format", "csv"},
		{"kpis", "--format", "json"},
		{"kpis", "--format", "ndjson"},
		{"kpi", "list", "--format", "csv"},
		// Errors name the flags, not the API's parameters.
		kpi("suspected_churn_rate", "--param", "cycle_multiplier=x"),
		{"kpi", "revenue", "--from", "2024-05-01", "--to", "2024-01-01"},
		{"rules", "list"},
		{"rules", "list", "--format", "csv"},
		{"rules", "list", "--format", "json"},
		{"rules", "list", "--format", "ndjson"},
		{"rules", "check", good, "--format", "json"},
		{"rules", "check", good},
		{"rules", "check", bad},
		{"rules", "save", good},
		{"rules", "evaluate", "spend"},
		{"rules", "evaluate", "spend", "--format", "csv"},
		{"rules", "evaluate", "spend", "--format", "json"},
		{"rules", "evaluate", "value_tiers", "--go"},
		{"rules", "evaluate", "no_such_rules"},
		{"import", "orders", filepath.Join(handbuilt, "orders.csv"), "--mode", "replace"},
		{"import", "orders", filepath.Join(handbuilt, "orders.csv"), "--format", "csv"},
		{"import", "orders", filepath.Join(handbuilt, "orders.csv"), "--format", "ndjson"},
		{"import", "orders", filepath.Join(handbuilt, "orders.csv"), "--format", "json"},
		{"import", "orders", orphans, "--mode", "append"},
		{"import", "surveys", filepath.Join(handbuilt, "tickets.csv")},
		kpi("revenue", "--grain", "month", "--by", "region"),
	} {
		lout, lerr := runCLI(append(args, "--db", local)...)
		rout, rerr := runCLI(append(args, "--server", base, "--quiet")...)
		if normalise(errText(lerr)) != normalise(errText(rerr)) {
			t.Errorf("%v: errors differ:\nlocal:  %v\nserver: %v", args, lerr, rerr)
		}
		wantFail := false
		for _, a := range args {
			wantFail = wantFail || fail[a] || fail[filepath.Base(a)]
		}
		if (lerr != nil) != wantFail {
			t.Errorf("%v: error %v, want failure: %v", args, lerr, wantFail)
		}
		if lerr == nil && lout == "" {
			t.Errorf("%v printed nothing", args)
		}
		if normalise(lout) != normalise(rout) {
			t.Errorf("%v: outputs differ:\nlocal:\n%s\nserver:\n%s", args, lout, rout)
		}
	}
}

// An import sent to a server shows its upload and the job's phases on
// stderr, like a local one; --quiet shows nothing.
func TestServerImportProgress(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	importFixture(t, db, "customers")
	base := startServe(t, db)
	stdout, stderr, err := runCLIErr("import", "--server", base, "orders", filepath.Join(handbuilt, "orders.csv"), "--format", "json")
	if err != nil {
		t.Fatalf("import over --server: %v\n%s", err, stderr)
	}
	if !strings.HasPrefix(stderr, "custkpi: uploading orders.csv\n") || !strings.Contains(stdout, `"kind": "orders"`) {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	_, stderr, err = runCLIErr("import", "--server", base, "--quiet", "orders", filepath.Join(handbuilt, "orders.csv"))
	if err != nil || stderr != "" {
		t.Errorf("--quiet import over --server: %v, stderr:\n%s", err, stderr)
	}
	// CUSTKPI_SERVER stands for --server; an explicit --db wins over it.
	t.Setenv(serverEnv, base)
	if out, err := runCLI("rules", "list"); err != nil || !strings.Contains(out, "value_tiers") {
		t.Errorf("rules list via %s: %v\n%s", serverEnv, err, out)
	}
	missing := filepath.Join(t.TempDir(), "missing.duckdb")
	if _, err := runCLI("rules", "list", "--db", missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("--db with %s set should open the file (and fail: it is missing): %v", serverEnv, err)
	}
	if _, err := runCLI("rules", "list", "--db", missing, "--server", base); err == nil || !strings.Contains(err.Error(), "both given") {
		t.Errorf("--db and --server together: %v", err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// orphanRow is an order for a customer that does not exist, in the
// fixture's column order.
func orphanRow(t *testing.T, header string) string {
	t.Helper()
	values := map[string]string{"order_id": "o999", "customer_id": "nobody", "order_date": "2024-02-02", "amount": "10", "status": "completed"}
	var cells []string
	for _, col := range strings.Split(header, ",") {
		cells = append(cells, values[strings.TrimSpace(col)])
	}
	return strings.Join(cells, ",")
}

// --key (or CUSTKPI_KEY) goes as a bearer token, and an API error prints
// its message and code like a local error.
func TestServerKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":"unauthenticated","message":"no valid API key","details":{"header":"Authorization"}}}`))
			return
		}
		w.Write([]byte(`{"rulesets":[{"name":"spend","version":1}]}`))
	}))
	defer srv.Close()
	if out, err := runCLI("rules", "list", "--server", srv.URL, "--key", "s3cret", "--format", "json"); err != nil || !strings.Contains(out, `"name": "spend"`) {
		t.Errorf("with --key: %v\n%s", err, out)
	}
	t.Setenv(keyEnv, "s3cret")
	if _, err := runCLI("rules", "list", "--server", srv.URL); err != nil {
		t.Errorf("with %s: %v", keyEnv, err)
	}
	_, err := runCLI("rules", "list", "--server", srv.URL, "--key", "wrong")
	if want := `no valid API key [unauthenticated] {"header":"Authorization"}`; err == nil || err.Error() != want {
		t.Errorf("wrong key: %v, want %s", err, want)
	}
}
