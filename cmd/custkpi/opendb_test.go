package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// asMainEnv makes the test binary run main instead of the tests, so a test
// can start custkpi as a child process without building it again.
const asMainEnv = "CUSTKPI_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	// The tests choose between the file and a server themselves, and set
	// their own settings; a developer's own server or settings must not
	// reach them.
	for _, name := range settings {
		os.Unsetenv(envName(name))
	}
	os.Unsetenv(configEnv)
	code := m.Run()
	if binPath != "" { // the binary buildBinary made for this run
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
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

// While `custkpi serve` holds the database, a CLI command on it says which
// process holds it and what to do, instead of DuckDB's raw lock error.
func TestLockedDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	importFixture(t, db, "customers", "orders")

	serve := custkpiProcess(t, "serve", "--db", db, "--addr", "127.0.0.1:0")
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	serve.Stderr = &stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcess(t, serve) })
	// The first line names the bound address (see serveAPI).
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v\n%s", err, stderr.String())
	}
	base := strings.TrimSpace(strings.TrimPrefix(line, "custkpi API on "))
	waitReady(t, base)

	pid := fmt.Sprintf("(PID %d", serve.Process.Pid)
	for _, args := range [][]string{
		{"kpi", "revenue", "--db", db},
		{"import", "--db", db, "orders", filepath.Join(handbuilt, "orders.csv")},
	} {
		_, err := runCLI(args...)
		if err == nil || !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), "in use by another custkpi process") ||
			!strings.Contains(err.Error(), "custkpi serve") || !strings.Contains(err.Error(), "--server URL") ||
			!strings.Contains(err.Error(), "CUSTKPI_SERVER") {
			t.Errorf("%v while serve (pid %d) holds the database: %v", args, serve.Process.Pid, err)
		}
	}
	// As the message says: the same command through the server works.
	if out, err := runCLI("kpi", "revenue", "--from", "2024-01-01", "--to", "2024-04-01", "--server", base); err != nil || !strings.Contains(out, "420") {
		t.Errorf("kpi revenue --server %s: %v\n%s", base, err, out)
	}
	// check needs the file itself: it is not told to use --server.
	if _, err := runCLI("check", "--db", db); err == nil || strings.Contains(err.Error(), "--server") {
		t.Errorf("check on the locked database: %v", err)
	}
}

// stopProcess interrupts a child (serve drains and closes the database) and
// kills it if it does not exit in time.
func stopProcess(t *testing.T, cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Errorf("pid %d did not stop on SIGINT; killing it", cmd.Process.Pid)
		cmd.Process.Kill()
		<-done
	}
}

// Protected mode: serve without a key refuses a non-loopback address unless
// --insecure; with a key it serves, and the key works.
func TestServeRefusesTheNetworkWithoutKeys(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	if _, err := runCLI("import", "--db", db, "customers", filepath.Join(handbuilt, "customers.csv")); err != nil {
		t.Fatal(err)
	}
	_, err := runCLI("serve", "--db", db, "--addr", "0.0.0.0:0")
	if err == nil || !strings.Contains(err.Error(), "without an API key") || !strings.Contains(err.Error(), "keys create") {
		t.Fatalf("serve on 0.0.0.0 without keys: %v", err)
	}
	key, err := runCLI("keys", "create", "--db", db, "--name", "ops", "--role", "admin", "--scope", "region=north, east")
	if err != nil || !strings.HasPrefix(strings.TrimSpace(key), "ck_") {
		t.Fatalf("keys create: %q %v", key, err)
	}
	list, err := runCLI("keys", "list", "--db", db, "--format", "json")
	if err != nil || !strings.Contains(list, `"role": "admin"`) || !strings.Contains(list, `"east"`) || strings.Contains(list, strings.TrimSpace(key)) {
		t.Fatalf("keys list: %s %v", list, err)
	}
}
