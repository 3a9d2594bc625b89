package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// asMainEnv makes the test binary run main instead of the tests, so a test
// can start custkpi as a child process without building it again.
const asMainEnv = "CUSTKPI_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// custkpiProcess is custkpi with args, as a child process.
func custkpiProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	return cmd
}

// Commands that only read refuse a missing database, say how to make one,
// and create no file.
func TestReadCommandsNeedDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "missing.duckdb")
	rules := filepath.Join(dir, "tiers.yaml")
	if err := os.WriteFile(rules, []byte("name: spend\nrules:\n  - tier: big\n    when: monetary >= 250.0\ndefault: small\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"kpi", "revenue"},
		{"scorecard"},
		{"rules", "evaluate", "value_tiers"},
		{"rules", "list"},
		{"rules", "check", rules},
	} {
		_, err := runCLI(append(args, "--db", db)...)
		if err == nil || !strings.Contains(err.Error(), db) || !strings.Contains(err.Error(), "custkpi demo") || !strings.Contains(err.Error(), "custkpi import") {
			t.Errorf("%v on a missing database: %v", args, err)
		}
		if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%v left %s behind", args, db)
		}
	}
	// The binary exits non-zero with the message.
	out, err := custkpiProcess(t, "kpi", "revenue", "--db", db).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "custkpi demo --db "+db) {
		t.Errorf("custkpi kpi on a missing database: %v\n%s", err, out)
	}
	// A command that writes still creates it.
	if out, err := runCLI("rules", "save", "--db", db, rules); err != nil || !strings.Contains(out, "saved spend version 1") {
		t.Errorf("rules save on a new database: %v %s", err, out)
	}
}
