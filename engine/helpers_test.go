package engine

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"
)

// mustOpen opens an in-memory engine for a test.
func mustOpen(tb testing.TB) *Engine {
	tb.Helper()
	e, err := Open(context.Background(), Options{})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

// handBuilt opens an engine loaded with testdata/handbuilt.
func handBuilt(tb testing.TB) *Engine {
	tb.Helper()
	e := mustOpen(tb)
	mustImport(tb, e, "customers", "testdata/handbuilt/customers.csv")
	mustImport(tb, e, "orders", "testdata/handbuilt/orders.csv")
	return e
}

func mustImport(tb testing.TB, e *Engine, kind, path string) *ImportResult {
	tb.Helper()
	res, err := e.Import(context.Background(), ImportRequest{Kind: kind, Path: filepath.FromSlash(path)})
	if err != nil {
		tb.Fatalf("import %s: %v", kind, err)
	}
	return res
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

func asError(err error, target **Error) bool {
	return errorsAs(err, target)
}

var errorsAs = func(err error, target **Error) bool { return errors.As(err, target) }
