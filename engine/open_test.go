package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// MustExist refuses a missing file and leaves none behind; without it the
// file is created, and then MustExist opens it.
func TestOpenMustExist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "missing.duckdb")
	_, err := Open(ctx, Options{Path: path, MustExist: true})
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), path) {
		t.Fatalf("open missing with MustExist: %v, want ErrNoDatabase naming %s", err, path)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused open left %s behind (%v)", path, err)
	}
	e, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatalf("open to create: %v", err)
	}
	e.Close()
	e, err = Open(ctx, Options{Path: path, MustExist: true})
	if err != nil {
		t.Fatalf("open existing with MustExist: %v", err)
	}
	e.Close()
	// In memory there is no file to require.
	e, err = Open(ctx, Options{MustExist: true})
	if err != nil {
		t.Fatalf("in-memory with MustExist: %v", err)
	}
	e.Close()
}

// A database file gets DefaultMemoryLimit (or the one asked for), so DuckDB
// spills rather than growing the process to 80% of the machine's RAM.
func TestOpenMemoryLimit(t *testing.T) {
	for _, c := range []struct{ limit, want string }{{"", "953.6 MiB"}, {"512MB", "488.2 MiB"}} {
		e, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "m.duckdb"), MemoryLimit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := e.DB().QueryRow("SELECT current_setting('memory_limit')").Scan(&got); err != nil {
			t.Fatal(err)
		}
		e.Close()
		if got != c.want {
			t.Errorf("MemoryLimit %q: memory_limit is %s, want %s", c.limit, got, c.want)
		}
	}
}

// Reopening a database whose schema and macros are this build's writes
// nothing (so closing it needs no checkpoint), and answers as before; one
// whose recorded digest differs (an older build's) gets the statements
// again.
func TestReopenWritesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "reopen.duckdb")
	e, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, e, "customers", "testdata/handbuilt/customers.csv")
	mustImport(t, e, "orders", "testdata/handbuilt/orders.csv")
	q := Query{KPI: "repeat_purchase_rate", From: date("2024-01-01"), To: date("2025-01-01")}
	before, err := e.Run(WithPlainPath(ctx), q)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	wal := path + ".wal"
	reopen := func() *Engine {
		t.Helper()
		e, err := Open(ctx, Options{Path: path, MustExist: true})
		if err != nil {
			t.Fatal(err)
		}
		after, err := e.Run(WithPlainPath(ctx), q)
		if err != nil {
			t.Fatalf("the KPI's macro after a reopen: %v", err)
		}
		if fmt.Sprint(after.Rows) != fmt.Sprint(before.Rows) {
			t.Fatalf("after a reopen: %v, before: %v", after.Rows, before.Rows)
		}
		return e
	}
	e = reopen()
	if _, err := os.Stat(wal); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reopening wrote to the database: %s is there (%v)", wal, err)
	}
	if _, err := e.db.Exec("UPDATE meta_schema SET digest = 'an older build'"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e = reopen()
	defer e.Close()
	var digest string
	if err := e.db.QueryRow("SELECT digest FROM meta_schema").Scan(&digest); err != nil || len(digest) != 64 {
		t.Fatalf("the digest after a reopen with a stale one: %q (%v)", digest, err)
	}
}
