package store

import (
	"context"
	"os"
	"os/exec"
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
