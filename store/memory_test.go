package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// Measured case "no DuckDB memory limit is set" (in memory): every database
// gets a limit, half of the machine's memory (at most 1GB for a file), and
// a temp directory to spill to.
func TestMemoryLimitDefaults(t *testing.T) {
	const gib = int64(1) << 30
	for _, c := range []struct {
		path string
		mem  int64
		want string
	}{
		{"", 8 * gib, "4096MiB"},
		{"", 0, "duckdb"},
		{"shop.duckdb", 8 * gib, DefaultMemoryLimit},
		{"shop.duckdb", gib, "512MiB"},
		{"shop.duckdb", 0, DefaultMemoryLimit},
	} {
		if got := defaultMemoryLimit(c.path, c.mem); got != c.want {
			t.Errorf("defaultMemoryLimit(%q, %d) = %q, want %q", c.path, c.mem, got, c.want)
		}
	}
	if machineMemory() <= 0 {
		t.Skip("the machine's memory cannot be read here")
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{}, loadGen)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var limit, temp string
	if err := s.DB().QueryRowContext(ctx, "SELECT current_setting('memory_limit'), current_setting('temp_directory')").Scan(&limit, &temp); err != nil {
		t.Fatal(err)
	}
	want := int64(float64(machineMemory()) * memoryShare)
	t.Logf("in-memory database: memory_limit %s, temp_directory %s (machine %d MiB)", limit, temp, machineMemory()>>20)
	if !strings.Contains(temp, "custkpi-") {
		t.Errorf("temp_directory %q", temp)
	}
	var n float64
	var unit string
	if _, err := fmt.Sscanf(limit, "%g %s", &n, &unit); err != nil {
		t.Fatalf("memory_limit %q: %v", limit, err)
	}
	got := int64(n * float64(map[string]int64{"MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[unit]))
	if got < want*9/10 || got > want*11/10 {
		t.Errorf("memory_limit %q, want about %d MiB (half of the machine's)", limit, want>>20)
	}
}
