package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runCLIErr runs one command line in-process with stderr captured (a
// strings.Builder is no terminal: the plain-lines mode).
func runCLIErr(args ...string) (stdout, stderr string, err error) {
	cmd := newRootCommand()
	var out, errOut strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// Off a terminal, an import prints one line per phase on stderr, and a line
// with the count and rate of each phase that counted rows; stdout keeps
// only the result. --quiet prints nothing.
func TestImportProgressLines(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	stdout, stderr, err := runCLIErr("import", "--db", db, "customers", filepath.Join(handbuilt, "customers.csv"), "--format", "json")
	if err != nil {
		t.Fatalf("import customers: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	want := []string{
		`^custkpi: reading customers$`,
		`^custkpi: writing customers$`,
		`^custkpi: writing customers: \d+ rows in \S+ \(\d+ rows/(s|min)\)$`,
		`^custkpi: validating customers$`,
		`^custkpi: validating customers: \d+ rows in \S+ \(\d+ rows/(s|min)\)$`,
		`^custkpi: deriving$`,
		`^custkpi: indexing$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(want), stderr)
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("stderr line %d %q does not match %s", i+1, lines[i], re)
		}
	}
	// The counted rows are the file's.
	var res struct{ Rows int64 }
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not the JSON result alone: %v\n%s", err, stdout)
	}
	if !strings.Contains(lines[2], fmt.Sprintf(": %d rows in ", res.Rows)) {
		t.Errorf("validating line %q does not count the %d rows imported", lines[2], res.Rows)
	}

	stdout, stderr, err = runCLIErr("import", "--quiet", "--db", db, "orders", filepath.Join(handbuilt, "orders.csv"), "--format", "json")
	if err != nil {
		t.Fatalf("import orders --quiet: %v", err)
	}
	if stderr != "" {
		t.Errorf("--quiet printed on stderr:\n%s", stderr)
	}
	if !strings.Contains(stdout, `"kind": "orders"`) {
		t.Errorf("--quiet lost the result: %s", stdout)
	}
}

// recorder is an engine.Progress that writes down its calls.
type recorder struct{ calls []string }

func (r *recorder) Phase(name string) { r.calls = append(r.calls, "phase "+name) }
func (r *recorder) Total(n int64, unit string) {
	r.calls = append(r.calls, fmt.Sprintf("total %d %s", n, unit))
}
func (r *recorder) Add(n int64) { r.calls = append(r.calls, fmt.Sprintf("add %d", n)) }

// A polled job's snapshots replay as the calls the engine made: a new
// phase, its total, the counts done since the last poll; a phase seen
// again under the same name with fewer done is a new phase.
func TestJobFeed(t *testing.T) {
	var r recorder
	f := jobFeed{p: &r}
	for _, j := range []remoteJob{
		{State: "queued"},
		{State: "running", Phase: "reading orders"},
		{State: "running", Phase: "validating orders", Total: 10, Unit: "rows"},
		{State: "running", Phase: "validating orders", Done: 4, Total: 10, Unit: "rows"},
		{State: "running", Phase: "validating orders", Done: 10, Total: 10, Unit: "rows"},
		{State: "running", Phase: "validating orders", Done: 3, Total: 5, Unit: "rows"},
		{State: "succeeded", Phase: "deriving"},
	} {
		f.update(j)
	}
	want := []string{"phase reading orders", "phase validating orders", "total 10 rows", "add 4", "add 6",
		"phase validating orders", "total 5 rows", "add 3", "phase deriving"}
	if strings.Join(r.calls, "|") != strings.Join(want, "|") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(r.calls, "\n"), strings.Join(want, "\n"))
	}
}
