package engine

import (
	"context"
	"testing"
)

// A query past DuckDB's memory limit that cannot spill fails with an
// error body (out_of_memory, 503), never takes the machine.
func TestQueryPastTheMemoryLimitIsOutOfMemory(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, Options{MemoryLimit: "64MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// A list aggregate holds everything it collects; it cannot spill.
	var n int64
	err = e.DB().QueryRowContext(ctx, "SELECT len(list(repeat('x', 100) || i)) FROM range(3000000) t(i)").Scan(&n)
	if err == nil {
		t.Fatalf("collected %d strings of 100 bytes within 64MB", n)
	}
	if err := contextErr(ctx, err, "kpi revenue"); ErrorCode(err) != CodeOutOfMemory {
		t.Fatalf("%v, want out_of_memory", err)
	}
}
