package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
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

// The shutdown tests run custkpi serve as a process (the test binary as
// main) and make a request slow without timing anything: an upload whose
// body the test holds back. SIGTERM arrives while it is in flight.

// lockedBuffer is a process's stderr, read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveProcess starts custkpi serve over db with the environment given
// (the listen address comes from CUSTKPI_ADDR, the log format from
// CUSTKPI_LOG_FORMAT: the settings' path in a real process) and waits for
// /readyz.
func serveProcess(t *testing.T, db string, env []string, args ...string) (*exec.Cmd, string, *lockedBuffer, chan error) {
	t.Helper()
	cmd := custkpiProcess(t, append([]string{"serve", "--db", db}, args...)...)
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v\n%s", err, stderr)
	}
	go io.Copy(io.Discard, stdout)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	base := strings.TrimSpace(strings.TrimPrefix(line, "custkpi API on "))
	waitReady(t, base)
	return cmd, base, stderr, exited
}

// noReuse makes each request on its own connection, as a new client would.
var noReuse = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// heldUpload posts orders.csv as a multipart upload, sending all but its
// last row; finish sends the rest. The answer arrives on the channel.
type heldUpload struct {
	pw     *io.PipeWriter
	mw     *multipart.Writer
	part   io.Writer
	rest   []byte
	answer chan uploadAnswer
}

type uploadAnswer struct {
	status int
	body   []byte
	err    error
}

func startHeldUpload(t *testing.T, base string) *heldUpload {
	t.Helper()
	csv, err := os.ReadFile(filepath.Join(handbuilt, "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.LastIndexByte(csv[:len(csv)-1], '\n') + 1
	pr, pw := io.Pipe()
	u := &heldUpload{pw: pw, mw: multipart.NewWriter(pw), rest: csv[cut:], answer: make(chan uploadAnswer, 1)}
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/datasets/orders", pr)
	req.Header.Set("Content-Type", u.mw.FormDataContentType())
	go func() {
		resp, err := noReuse.Do(req)
		if err != nil {
			u.answer <- uploadAnswer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		u.answer <- uploadAnswer{status: resp.StatusCode, body: b, err: err}
	}()
	if u.part, err = u.mw.CreateFormFile("file", "orders.csv"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.part.Write(csv[:cut]); err != nil {
		t.Fatal(err)
	}
	waitInFlight(t, base, 1)
	return u
}

func (u *heldUpload) finish(t *testing.T) {
	t.Helper()
	if _, err := u.part.Write(u.rest); err != nil {
		t.Fatal(err)
	}
	if err := u.mw.Close(); err != nil {
		t.Fatal(err)
	}
	u.pw.Close()
}

// waitInFlight polls /metrics until n requests besides the scrape are in
// flight: the upload's handler is running, reading the body.
func waitInFlight(t *testing.T, base string, n int) {
	t.Helper()
	want := fmt.Sprintf("custkpi_http_requests_in_flight %d\n", n+1)
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := noReuse.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never %d in flight:\n%s", n, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitShuttingDown polls a new request until the server refuses it with
// 503 shutting_down: the signal has been handled.
func waitShuttingDown(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := noReuse.Get(base + "/v1/health")
		if err != nil {
			t.Fatalf("a new request during the grace: %v (want 503, not a refused connection)", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			if errorCode(t, b) != "shutting_down" || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("503 during shutdown: %s %v", b, resp.Header)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still answering %d a minute after SIGTERM", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("not the JSON error body: %v: %s", err, b)
	}
	return e.Error.Code
}

func waitExit(t *testing.T, exited chan error, stderr *lockedBuffer) {
	t.Helper()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve exited with %v, want 0\n%s", err, stderr)
		}
	case <-time.After(time.Minute):
		t.Fatalf("serve did not exit\n%s", stderr)
	}
}

// SIGTERM while an upload is in flight: new requests get 503
// shutting_down, the upload finishes within the grace and is answered 201,
// and the process exits 0. Its logs are JSON lines, as CUSTKPI_LOG_FORMAT
// asked.
func TestShutdownLetsInFlightFinish(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	importFixture(t, db, "customers")
	cmd, base, stderr, exited := serveProcess(t, db, []string{"CUSTKPI_ADDR=127.0.0.1:0", "CUSTKPI_LOG_FORMAT=json"}, "--shutdown-grace", "10m")
	if strings.HasSuffix(base, ":8080") {
		t.Fatalf("CUSTKPI_ADDR was not used: %s", base)
	}
	up := startHeldUpload(t, base)
	cmd.Process.Signal(syscall.SIGTERM)
	waitShuttingDown(t, base)
	up.finish(t)
	a := <-up.answer
	if a.err != nil || a.status != http.StatusCreated || !bytes.Contains(a.body, []byte(`"rows":12`)) {
		t.Fatalf("the upload in flight: %d %v %s", a.status, a.err, a.body)
	}
	waitExit(t, exited, stderr)
	var sawShutdown bool
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
		sawShutdown = sawShutdown || strings.HasPrefix(rec["msg"].(string), "shutting down")
	}
	if !sawShutdown {
		t.Errorf("no shutdown logged:\n%s", stderr)
	}
}

// A request still running when the grace is over is cancelled and still
// answered, 503 shutting_down with the JSON body, not a reset connection;
// the process exits 0.
func TestShutdownCancelsAfterGrace(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shop.duckdb")
	importFixture(t, db, "customers")
	cmd, base, stderr, exited := serveProcess(t, db, nil, "--addr", "127.0.0.1:0", "--shutdown-grace", "1s")
	up := startHeldUpload(t, base)
	defer up.pw.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	var a uploadAnswer
	select {
	case a = <-up.answer: // the test never sends the rest: only the grace ends it
	case <-time.After(2 * time.Minute):
		// The client waits for its body to be read; closing it lets a
		// server that reset the connection show as an error, not a hang.
		up.pw.Close()
		a = <-up.answer
	}
	if a.err != nil || a.status != http.StatusServiceUnavailable || errorCode(t, a.body) != "shutting_down" {
		t.Fatalf("the upload cut short: %d %v %s", a.status, a.err, a.body)
	}
	waitExit(t, exited, stderr)
	if !strings.Contains(stderr.String(), "shutdown grace over") {
		t.Errorf("the cancellation was not logged:\n%s", stderr)
	}
}
