package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"custkpi/internal/shareddata"
)

// readmePath is the README whose commands TestReadmeCommands runs.
var readmePath = filepath.Join("..", "..", "README.md")

// readmeLine is one command of a fenced sh block, continuation lines joined.
type readmeLine struct {
	n    int // line number in the README
	text string
}

// readmeBlocks returns the README's fenced sh blocks, each a list of its
// commands (blank and comment-only lines left out).
func readmeBlocks(t *testing.T) [][]readmeLine {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]readmeLine
	var cur []readmeLine
	in, cont := false, false
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```sh":
			in, cur = true, nil
		case in && trimmed == "```":
			in = false
			blocks = append(blocks, cur)
		case in && cont:
			cur[len(cur)-1].text += "\n" + line
		case in && trimmed != "" && !strings.HasPrefix(trimmed, "#"):
			cur = append(cur, readmeLine{n: i + 1, text: line})
		}
		if in && len(cur) > 0 {
			cont = strings.HasSuffix(line, `\`)
		}
	}
	if in {
		t.Fatal("README.md: a ```sh block is not closed")
	}
	return blocks
}

// TestReadmeCommands runs every command of the README's sh blocks as
// written, with the binary built from this tree on the PATH as custkpi,
// from a copy of the repository root's entries, each block against a fresh
// demo database (shop.duckdb, `custkpi demo --no-serve`). A line that
// fails fails the test, naming its README line and what it printed.
//
//   - `curl` and `--server`/CUSTKPI_SERVER lines go to a running server:
//     the block's own `custkpi serve` or `custkpi demo` line when it has
//     one, otherwise `custkpi serve --db shop.duckdb`. The only rewrite:
//     the server listens on a free port, and 127.0.0.1:8080 and
//     localhost:8080 in the lines name it (tests share the machine).
//     curl runs with --fail-with-body (-f on an old curl), so an HTTP error
//     fails the line.
//   - A line that opens the file stops the server first (DuckDB lets one
//     process hold a file); the server must then exit 0 (a clean drain).
//   - Shell variables a line sets (KEY=$(custkpi keys create ...)) reach the
//     later lines of its block.
//   - `go run ./cmd/custkpi` runs the built binary; other `go` lines (build,
//     test, benchmarks) are the developer's and are not run: the test has
//     built the binary, and `go test ./...` would run this test again.
func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the README's examples")
	}
	bin := buildBinary(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(binDir, "custkpi")); err != nil {
		t.Fatal(err)
	}
	haveCurl := installCurl(t, binDir)
	demoDB := filepath.Join(t.TempDir(), "demo.duckdb")
	run(t, bin, nil, "demo", "--no-serve", "--db", demoDB, "-q")
	baseline := shellVariables(t)
	var ran, curls int // a README without runnable lines must not pass
	for _, block := range readmeBlocks(t) {
		if len(block) == 0 {
			continue
		}
		t.Run(fmt.Sprintf("line%d", block[0].n), func(t *testing.T) {
			r := &readmeRun{t: t, root: root, dir: t.TempDir(), binDir: binDir, baseline: baseline, haveCurl: haveCurl}
			r.setUp(demoDB)
			defer r.stopServer()
			for _, l := range block {
				r.do(l)
			}
			ran, curls = ran+r.ran, curls+r.curls
		})
	}
	if ran < 20 || haveCurl && curls < 10 {
		t.Errorf("ran %d README lines, %d of them curl: fewer than the README holds; is its parsing broken?", ran, curls)
	}
}

// installCurl puts a curl on the PATH that fails on an HTTP error, and
// says whether there is a curl at all.
func installCurl(t *testing.T, binDir string) bool {
	t.Helper()
	curl, err := exec.LookPath("curl")
	if err != nil {
		if shareddata.InCI() {
			t.Fatalf("CI runs the README's curl lines and needs curl: %v", err)
		}
		t.Logf("no curl (%v): the README's curl lines are not run", err)
		return false
	}
	fail := "--fail-with-body"
	if exec.Command(curl, fail, "--version").Run() != nil {
		fail = "-f" // curl before 7.76
	}
	script := fmt.Sprintf("#!/bin/sh\nexec %q %s -sS \"$@\"\n", curl, fail)
	if err := os.WriteFile(filepath.Join(binDir, "curl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return true
}

// shellVariables are the variables bash has on its own; the others a line
// sets are carried to the next lines.
func shellVariables(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("bash", "-c", "compgen -v").Output()
	if err != nil {
		t.Fatalf("the README's commands run in bash: %v", err)
	}
	return " " + strings.Join(strings.Fields(string(out)), " ") + " rc "
}

// readmeRun runs one block.
type readmeRun struct {
	t        *testing.T
	root     string // the repository
	dir      string // the block's working directory
	binDir   string
	baseline string
	haveCurl bool
	srv      *exec.Cmd
	srvDone  chan error
	srvOut   *bytes.Buffer
	addr     string // host:port of the running server
	ran      int    // lines run
	curls    int    // curl lines run
}

// setUp links the repository's entries into the block's directory and
// copies the demo database there as shop.duckdb.
func (r *readmeRun) setUp(demoDB string) {
	entries, err := os.ReadDir(r.root)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			if err := os.Symlink(filepath.Join(r.root, e.Name()), filepath.Join(r.dir, e.Name())); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	b, err := os.ReadFile(demoDB)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "shop.duckdb"), b, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

var (
	goRun       = regexp.MustCompile(`^\s*go run \./cmd/custkpi\b`)
	goLine      = regexp.MustCompile(`^\s*go\s`)
	addrFlag    = regexp.MustCompile(`--addr[= ]\S+`)
	defaultAddr = regexp.MustCompile(`\b(127\.0\.0\.1|localhost):8080\b`)
	envAssign   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=\S*$`)
)

// do runs one README line.
func (r *readmeRun) do(l readmeLine) {
	line := goRun.ReplaceAllString(l.text, "custkpi")
	switch {
	case goLine.MatchString(line):
		r.t.Logf("README.md:%d not run (a go command): %s", l.n, line)
	case isServerLine(line):
		r.stopServer()
		r.startServer(l, line)
	case strings.Contains(line, "curl ") && !r.haveCurl:
		r.t.Logf("README.md:%d not run (no curl): %s", l.n, line)
	case strings.Contains(line, "curl ") || strings.Contains(line, "--server") || strings.Contains(line, serverEnv+"="):
		if r.srv == nil {
			r.startServer(l, "custkpi serve --db shop.duckdb")
		}
		r.runLine(l, defaultAddr.ReplaceAllString(line, r.addr))
	default:
		r.stopServer()
		r.runLine(l, line)
	}
}

// isServerLine tells a line that serves until stopped: serve, or demo
// without --no-serve.
func isServerLine(line string) bool {
	f := strings.Fields(strings.SplitN(line, "#", 2)[0])
	for len(f) > 0 && envAssign.MatchString(f[0]) {
		f = f[1:]
	}
	if len(f) < 2 || f[0] != "custkpi" {
		return false
	}
	return f[1] == "serve" || f[1] == "demo" && !strings.Contains(line, "--no-serve")
}

// script is line as a bash script that sees the variables of the lines
// before it and saves those it sets for the lines after it.
func (r *readmeRun) script(line string) string {
	return "set -eo pipefail\n[ -f .readme-vars ] && . ./.readme-vars\n" + line + "\n" +
		`for v in $(compgen -v); do case "` + r.baseline + `" in *" $v "*) ;; *) declare -p "$v";; esac; done > .readme-vars` + "\n"
}

func (r *readmeRun) command(script string) *exec.Cmd {
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "PATH="+r.binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "TMPDIR="+r.dir)
	return cmd
}

func (r *readmeRun) runLine(l readmeLine, line string) {
	r.t.Helper()
	cmd := r.command(r.script(line))
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("README.md:%d fails: %v\n$ %s\n%s", l.n, err, line, out)
	}
	r.t.Logf("README.md:%d ok: %s", l.n, line)
	r.ran++
	if strings.Contains(line, "curl ") {
		r.curls++
	}
}

// startServer starts a serve or demo line on a free port and waits until
// it is ready.
func (r *readmeRun) startServer(l readmeLine, line string) {
	r.t.Helper()
	const free = "--addr 127.0.0.1:0"
	if addrFlag.MatchString(line) {
		line = addrFlag.ReplaceAllString(line, free)
	} else {
		line = regexp.MustCompile(`custkpi (serve|demo)`).ReplaceAllString(line, "custkpi $1 "+free)
	}
	// exec: the shell becomes the server, so a signal reaches it (through
	// env when the line sets variables for it: exec takes no assignments).
	if f := strings.Fields(line); len(f) > 0 && envAssign.MatchString(f[0]) {
		line = "env " + line
	}
	cmd := r.command("[ -f .readme-vars ] && . ./.readme-vars\nexec " + line)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	r.srvOut = &bytes.Buffer{}
	cmd.Stderr = r.srvOut
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.srv, r.srvDone = cmd, make(chan error, 1)
	// The server names its address on a line of its own; demo prints its
	// import first.
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if base, ok := strings.CutPrefix(sc.Text(), "custkpi API on http://"); ok {
			r.addr = strings.TrimSpace(base)
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	go func() { r.srvDone <- cmd.Wait() }()
	if r.addr == "" {
		r.stopServer()
		r.t.Fatalf("README.md:%d printed no address\n$ %s\n%s", l.n, line, r.srvOut)
	}
	waitReady(r.t, "http://"+r.addr)
	r.t.Logf("README.md:%d serving on %s: %s", l.n, r.addr, line)
}

// stopServer stops the running server as an operator does (SIGTERM) and
// demands a clean exit.
func (r *readmeRun) stopServer() {
	if r.srv == nil {
		return
	}
	srv := r.srv
	r.srv = nil
	srv.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-r.srvDone:
		if err != nil {
			r.t.Errorf("the server exited with %v after SIGTERM\n%s", err, r.srvOut)
		}
	case <-time.After(time.Minute):
		srv.Process.Kill()
		r.t.Errorf("the server did not stop within a minute of SIGTERM")
	}
}
