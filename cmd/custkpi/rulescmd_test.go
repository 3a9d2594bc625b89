package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.duckdb")
	run := func(args ...string) (string, error) {
		cmd := newRootCommand()
		var out strings.Builder
		cmd.SetOut(&out)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	fixture := filepath.Join("..", "..", "engine", "testdata", "handbuilt")
	for _, k := range []string{"customers", "orders"} {
		if _, err := run("import", "--db", db, k, filepath.Join(fixture, k+".csv")); err != nil {
			t.Fatal(err)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: spend\nrules:\n  - tier: big\n    when: monetary >\ndefault: small\n"), 0o644)
	if _, err := run("rules", "check", "--db", db, bad); err == nil || !strings.Contains(err.Error(), "invalid_ruleset") || !strings.Contains(err.Error(), `"line":4`) {
		t.Errorf("check bad: %v", err)
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("name: spend\nrules:\n  - tier: big\n    when: monetary >= 250.0\ndefault: small\n"), 0o644)
	out, err := run("rules", "save", "--db", db, good)
	if err != nil || !strings.Contains(out, "saved spend version 1") {
		t.Fatalf("save: %q %v", out, err)
	}
	out, err = run("rules", "evaluate", "--db", db, "spend", "--format", "json")
	if err != nil || !strings.Contains(out, `"path": "sql"`) || !strings.Contains(out, `"customers": 2`) {
		t.Errorf("evaluate: %s %v", out, err)
	}
}
