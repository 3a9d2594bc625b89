package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestMallocKeepsLargeBlocks: once a database is open, glibc serves a
// block of a few MiB (a quantile's values over a few hundred thousand
// rows) from its heap, where a fresh process's glibc gives it a mapping
// of its own (see malloc.go). Run in a child process, whose allocator no
// other test has warmed.
func TestMallocKeepsLargeBlocks(t *testing.T) {
	for _, v := range []string{"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"} {
		if os.Getenv(v) != "" {
			t.Skipf("%s is set: the environment chooses", v)
		}
	}
	if _, known := mallocMaps(1); !known {
		t.Skip("not glibc")
	}
	if os.Getenv("CUSTKPI_MALLOC_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMallocKeepsLargeBlocks$", "-test.v")
		cmd.Env = append(os.Environ(), "CUSTKPI_MALLOC_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	// Nothing allocated or freed before: freeing a mapped block raises
	// glibc's threshold to its size.
	s, err := Open(context.Background(), Options{}, loadGen)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if mapped, _ := mallocMaps(4 << 20); mapped {
		t.Error("a 4 MiB block got a mapping of its own after the database opened")
	}
	if mapped, _ := mallocMaps(64 << 20); !mapped {
		t.Error("a 64 MiB block came from the heap: the threshold is not 32 MiB")
	}
}

// TestJemallocKeepsFreedPages: once a database is open, DuckDB's
// jemalloc runs with jemallocDirtyDecayMs (5 s, where DuckDB's build
// has 1 s), set on the arenas it already had; and a process whose
// environment chose its own keeps it. Each in a child process, whose
// environment the test sets.
func TestJemallocKeepsFreedPages(t *testing.T) {
	if want := os.Getenv("CUSTKPI_JEMALLOC_WANT"); want != "" {
		s, err := Open(context.Background(), Options{}, loadGen)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if ms, known := jemallocDirtyDecay(); !known || fmt.Sprint(ms) != want {
			t.Fatalf("dirty decay %d ms (known %v), want %s", ms, known, want)
		}
		return
	}
	if _, known := jemallocDirtyDecay(); !known {
		t.Skip("DuckDB's jemalloc is not linked in")
	}
	for _, c := range []struct{ env, want string }{
		{"", "5000"},
		{"dirty_decay_ms:2500", "2500"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestJemallocKeepsFreedPages$", "-test.v")
		// The parent's own DUCKDB_JE_MALLOC_CONF, if any, is left out.
		cmd.Env = slices.DeleteFunc(os.Environ(), func(v string) bool { return strings.HasPrefix(v, "DUCKDB_JE_MALLOC_CONF=") })
		cmd.Env = append(cmd.Env, "CUSTKPI_JEMALLOC_WANT="+c.want)
		if c.env != "" {
			cmd.Env = append(cmd.Env, "DUCKDB_JE_MALLOC_CONF="+c.env)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("environment %q: %v\n%s", c.env, err, out)
		}
	}
}
