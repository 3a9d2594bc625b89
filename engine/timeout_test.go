package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A query past the engine's timeout is interrupted inside DuckDB and
// reported as a timeout (504), not an internal error; a cancelled request
// context is reported as canceled.
func TestQueryTimeoutInterruptsDuckDB(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, Options{QueryTimeout: 50 * time.Millisecond, CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mustImport(t, e, "customers", "testdata/handbuilt/customers.csv")
	mustImport(t, e, "orders", "testdata/handbuilt/orders.csv")
	// A million orders: a daily churn over a year takes seconds. (Written
	// past the import, they are in no fast table: the plain path reads
	// them.)
	if _, err := e.DB().ExecContext(ctx, `INSERT INTO orders (order_id, customer_id, order_date, amount)
		SELECT 'x' || i, 'c' || (i % 5 + 1), TIMESTAMP '2023-01-01' + INTERVAL (i % 31536000) SECOND, 1.0 FROM range(1000000) r(i)`); err != nil {
		t.Fatal(err)
	}
	q := Query{KPI: "churn_rate", From: date("2023-01-01"), To: date("2024-01-01"), Grain: GrainDay, By: []string{"region"}}
	ctx = WithPlainPath(ctx)
	start := time.Now()
	_, err = e.Run(ctx, q)
	if ErrorCode(err) != CodeTimeout {
		t.Fatalf("got %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("the timed-out query ran %s: DuckDB was not interrupted", elapsed)
	}

	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = e.Run(cctx, q)
	var ee *Error
	if !errors.As(err, &ee) || (ee.Code != CodeCanceled && ee.Code != CodeTimeout) {
		t.Fatalf("cancelled request: %v", err)
	}
}
