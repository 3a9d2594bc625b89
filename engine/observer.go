package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Observer hears what the engine did, for metrics. The engine knows nothing
// of how it is reported (package metrics implements it for Prometheus);
// calls come from the request's goroutine and must not block.
type Observer interface {
	// KPIQuery: one KPI answered (a scorecard answers several), from the
	// result cache or by a statement run in DuckDB. Only queries that were
	// planned are reported, so kpi is always a catalog name.
	KPIQuery(kpi string, cached bool, elapsed time.Duration, err error)
	// Import: one file imported (rows) or refused (err), with the time the
	// whole write took.
	Import(kind string, rows int64, elapsed time.Duration, err error)
}

// nopObserver is the Observer of an engine opened without one.
type nopObserver struct{}

func (nopObserver) KPIQuery(string, bool, time.Duration, error) {}
func (nopObserver) Import(string, int64, time.Duration, error)  {}

// Memory is what DuckDB holds: in memory, and spilled to its temporary
// directory.
type Memory struct {
	InUse     int64
	Temporary int64
}

// Memory reads duckdb_memory(), DuckDB's own account of its buffer
// manager, by component summed up.
func (e *Engine) Memory(ctx context.Context) (Memory, error) {
	var m Memory
	err := e.db.QueryRowContext(ctx, `SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT,
		coalesce(sum(temporary_storage_bytes), 0)::BIGINT FROM duckdb_memory()`).Scan(&m.InUse, &m.Temporary)
	if err != nil {
		return Memory{}, fmt.Errorf("duckdb memory: %w", err)
	}
	return m, nil
}

// DuckDBVersion is the version of the DuckDB library linked in, read from an
// in-memory database (for `custkpi version`, which opens no file).
func DuckDBVersion(ctx context.Context) (string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return "", fmt.Errorf("duckdb version: %w", err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT library_version FROM pragma_version()").Scan(&v); err != nil {
		return "", fmt.Errorf("duckdb version: %w", err)
	}
	return v, nil
}
