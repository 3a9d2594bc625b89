package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash tests run the real binary on a database of 120,000 demo
// customers (about a million orders), kill it with SIGKILL at named points of
// a write (CUSTKPI_CRASH_AT) and at a random moment, restart it, and demand:
// the answers are exactly the old generation's or the new one's (the new one
// whenever the write had committed), and `custkpi check` finds every
// invariant whole.

const crashCustomers = "120000"

// crashFixture is built once: the binary, a base database (seed 1), the
// Parquet files of a second dataset (seed 2) to import over it, and the
// answers before and after that import, from a run without a crash.
type crashFixture struct {
	bin, base, newOrders, newSurveys string
	oldRevenue                       float64
	newRevenue                       float64
}

// revenueURL is every order's revenue: the whole dataset in one number.
const revenueURL = "/v1/kpis/revenue/values?from=1990-01-01&to=2100-01-01"

func newCrashFixture(t *testing.T) *crashFixture {
	t.Helper()
	dir := t.TempDir()
	f := &crashFixture{bin: buildBinary(t), base: filepath.Join(dir, "base.duckdb")}
	run(t, f.bin, nil, "demo", "--db", f.base, "--customers", crashCustomers, "--seed", "1", "--no-serve")
	seed2 := filepath.Join(dir, "seed2")
	ref := filepath.Join(dir, "ref.duckdb")
	run(t, f.bin, nil, "demo", "--db", ref, "--customers", crashCustomers, "--seed", "2", "--no-serve", "--keep", "--dir", seed2)
	f.newOrders = filepath.Join(seed2, "orders.parquet")
	f.newSurveys = filepath.Join(seed2, "surveys.parquet")

	// The reference answers: old from the base, new from a copy with the
	// seed-2 orders imported without a crash.
	srv := startServer(t, f.bin, copyDB(t, f.base), "")
	f.oldRevenue = srv.revenue(t)
	srv.post(t, "/v1/datasets/orders", map[string]any{"path": f.newOrders}, http.StatusCreated)
	f.newRevenue = srv.revenue(t)
	srv.stop(t)
	if sameSum(f.oldRevenue, f.newRevenue) || f.oldRevenue == 0 {
		t.Fatalf("the two datasets must differ: %v %v", f.oldRevenue, f.newRevenue)
	}
	return f
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests build the binary and import a million orders")
	}
	f := newCrashFixture(t)

	t.Run("import", func(t *testing.T) {
		for _, c := range []struct {
			point     string
			committed bool
		}{
			{"staged", false},   // the orders are swapped in, inside the transaction
			{"derive", false},   // before the features are rebuilt
			{"deriving", false}, // 100 ms into the feature rebuild
			{"commit", false},   // everything written, not committed
			{"committed", true}, // committed, the client has no answer yet
		} {
			t.Run(c.point, func(t *testing.T) {
				db := copyDB(t, f.base)
				srv := startServer(t, f.bin, db, c.point)
				srv.postDies(t, "/v1/datasets/orders", map[string]any{"path": f.newOrders})
				want := f.oldRevenue
				if c.committed {
					want = f.newRevenue
				}
				f.restartAndCheck(t, db, func(s *server) {
					if got := s.revenue(t); !sameSum(got, want) {
						t.Errorf("revenue after a crash at %s: %v, want %v (old %v, new %v)", c.point, got, want, f.oldRevenue, f.newRevenue)
					}
				})
			})
		}
	})

	t.Run("import_killed_at_random", func(t *testing.T) {
		db := copyDB(t, f.base)
		srv := startServer(t, f.bin, db, "")
		go srv.postRaw("/v1/datasets/orders", map[string]any{"path": f.newOrders})
		time.Sleep(time.Duration(300+rand.IntN(2500)) * time.Millisecond)
		srv.kill(t)
		f.restartAndCheck(t, db, func(s *server) {
			if got := s.revenue(t); !sameSum(got, f.oldRevenue) && !sameSum(got, f.newRevenue) {
				t.Errorf("revenue after a kill during import: %v, neither old %v nor new %v", got, f.oldRevenue, f.newRevenue)
			}
		})
	})

	// Killed when the surveys' fast tables are half rebuilt, after the
	// import committed: the restart rebuilds what the stamp says is
	// behind, the surveys' tables, and answers as a run without a crash.
	t.Run("fast_tables_half_rebuilt", func(t *testing.T) {
		ref := startServer(t, f.bin, copyDB(t, f.base), "")
		old := ref.nps(t)
		ref.post(t, "/v1/datasets/surveys", map[string]any{"path": f.newSurveys}, http.StatusCreated)
		want := ref.nps(t)
		ref.stop(t)
		if old == want {
			t.Fatalf("the two datasets' NPS must differ: %v", old)
		}
		db := copyDB(t, f.base)
		srv := startServer(t, f.bin, db, "indexing")
		srv.postDies(t, "/v1/datasets/surveys", map[string]any{"path": f.newSurveys})
		f.restartAndCheck(t, db, func(s *server) {
			if got := s.nps(t); got != want {
				t.Errorf("NPS after a crash while the fast tables were rebuilt: %v, want %v (before the import %v)", got, want, old)
			}
		})
	})

	t.Run("clv_fit", func(t *testing.T) {
		fit := map[string]any{"calibration_end": "2024-06-30", "unit": "week"}
		for _, c := range []struct {
			point     string
			committed bool
		}{{"derive", false}, {"commit", false}, {"committed", true}} {
			t.Run(c.point, func(t *testing.T) {
				db := copyDB(t, f.base)
				srv := startServer(t, f.bin, db, c.point)
				srv.postDies(t, "/v1/models/clv/fit", fit)
				f.restartAndCheck(t, db, func(s *server) {
					status := s.get(t, "/v1/models/clv", nil)
					if want := map[bool]int{true: 200, false: 404}[c.committed]; status != want {
						t.Errorf("GET /v1/models/clv after a crash at %s: %d, want %d", c.point, status, want)
					}
				})
			})
		}
	})

	t.Run("evaluation", func(t *testing.T) {
		for _, c := range []struct {
			point     string
			committed bool
		}{{"staged", false}, {"commit", false}, {"committed", true}} {
			t.Run(c.point, func(t *testing.T) {
				db := copyDB(t, f.base)
				srv := startServer(t, f.bin, db, c.point)
				srv.postDies(t, "/v1/rulesets/value_tiers/evaluate", nil)
				f.restartAndCheck(t, db, func(s *server) {
					status := s.get(t, "/v1/kpis/revenue/values?by=tier:value_tiers", nil)
					if want := map[bool]int{true: 200, false: 400}[c.committed]; status != want {
						t.Errorf("revenue by tier after a crash at %s: %d, want %d", c.point, status, want)
					}
				})
			})
		}
	})
}

// sameSum compares two sums of the same million amounts: DuckDB adds in
// parallel, in no fixed order, so the last digits of a double differ from
// run to run. The two datasets differ by percents.
func sameSum(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Abs(b) }

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// buildBinary builds the custkpi binary once for the tests of a run.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "custkpi-bin-*")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "custkpi")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// restartAndCheck starts the server again without crash points, waits for
// /readyz, runs probe, stops it, and runs `custkpi check` on the database.
func (f *crashFixture) restartAndCheck(t *testing.T, db string, probe func(*server)) {
	t.Helper()
	srv := startServer(t, f.bin, db, "")
	probe(srv)
	srv.stop(t)
	out := run(t, f.bin, nil, "check", "--db", db)
	if !strings.Contains(out, "invariants hold") {
		t.Errorf("check after restart:\n%s", out)
	}
}

// server is a running `custkpi serve` process.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

func startServer(t *testing.T, bin, db, crashAt string) *server {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--import-dir", os.TempDir())
	return startCmd(t, cmd, crashAt)
}

// startCmd starts a serve command and waits for /readyz.
func startCmd(t *testing.T, cmd *exec.Cmd, crashAt string) *server {
	t.Helper()
	cmd.Env = append(os.Environ(), "CUSTKPI_CRASH_AT="+crashAt)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("serve printed nothing: %v\n%s", err, stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	s.base = strings.TrimSpace(strings.TrimPrefix(line, "custkpi API on "))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if s.get(t, "/readyz", nil) == http.StatusOK {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 2 minutes\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get answers the status, decoding a JSON body into out when given.
func (s *server) get(t *testing.T, path string, out any) int {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

func (s *server) revenue(t *testing.T) float64 {
	t.Helper()
	var body struct {
		Rows []struct{ Value float64 } `json:"rows"`
	}
	if status := s.get(t, revenueURL, &body); status != 200 || len(body.Rows) != 1 {
		t.Fatalf("revenue: %d %+v", status, body)
	}
	return body.Rows[0].Value
}

// nps is the NPS of every survey, and says that the fast path answered.
func (s *server) nps(t *testing.T) float64 {
	t.Helper()
	resp, err := http.Get(s.base + "/v1/kpis/nps/values?from=1990-01-01&to=2100-01-01")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Rows []struct{ Value float64 } `json:"rows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || len(body.Rows) != 1 {
		t.Fatalf("nps: %d %+v %v", resp.StatusCode, body, err)
	}
	if timing := resp.Header.Get("Server-Timing"); !strings.Contains(timing, `desc="fast"`) {
		t.Fatalf("nps answered by %q, want the fast path", timing)
	}
	return body.Rows[0].Value
}

func (s *server) postRaw(path string, body any) (*http.Response, error) {
	b, _ := json.Marshal(body)
	return http.Post(s.base+path, "application/json", bytes.NewReader(b))
}

func (s *server) post(t *testing.T, path string, body any, want int) {
	t.Helper()
	resp, err := s.postRaw(path, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
}

// postDies posts to a server armed to crash: the request gets no answer and
// the process dies of SIGKILL.
func (s *server) postDies(t *testing.T, path string, body any) {
	t.Helper()
	resp, err := s.postRaw(path, body)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("POST %s answered %d %s; the server should have died", path, resp.StatusCode, b)
	}
	s.waitKilled(t)
}

func (s *server) kill(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.waitKilled(t)
}

func (s *server) waitKilled(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatal("the server did not die")
	}
	if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the server ended with %v, not SIGKILL", s.cmd.ProcessState)
	}
}

// stop ends the server the way an operator does (SIGTERM) and waits.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the server did not stop")
	}
}

// run runs the binary to completion and answers its standard output.
func run(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("custkpi %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// copyDB copies a closed database file (a clean close leaves no WAL) into
// the test's own directory.
func copyDB(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src + ".wal"); err == nil {
		t.Fatalf("%s has a WAL left", src)
	}
	dst := filepath.Join(t.TempDir(), fmt.Sprintf("crash-%d.duckdb", rand.Int()))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
