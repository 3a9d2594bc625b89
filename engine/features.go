package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// refreshDerived rebuilds what derives from the imported data: the
// customer_features table as of the day after the latest order. It runs
// after imports, once per batch.
func (e *Engine) refreshDerived(ctx context.Context, conn *sql.Conn) error {
	asOf, err := featuresAsOf(ctx, conn)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE customer_features AS SELECT * FROM customer_features_at(?::TIMESTAMP)", asOf); err != nil {
		return contextErr(ctx, err, "refresh customer features")
	}
	return nil
}

// featuresAsOf is the default as-of instant: the day after the latest order
// (RULES.md), or tomorrow when there are no orders.
func featuresAsOf(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (time.Time, error) {
	var end sql.NullTime
	if err := q.QueryRowContext(ctx, `SELECT date_trunc('day', max(order_date)) + INTERVAL 1 DAY FROM orders`).Scan(&end); err != nil {
		return time.Time{}, fmt.Errorf("features as-of: %w", err)
	}
	if !end.Valid {
		y, m, d := time.Now().UTC().Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC), nil
	}
	return end.Time, nil
}
