package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// dataEnd is the end of the data, decided here and nowhere else: the day
// after the latest order, or zero when no orders are loaded. KPI windows
// default to the months before it; features are computed as of it.
func dataEnd(ctx context.Context, q querier) (time.Time, error) {
	var end sql.NullTime
	if err := q.QueryRowContext(ctx, `SELECT date_trunc('day', max(order_date)) + INTERVAL 1 DAY FROM orders`).Scan(&end); err != nil {
		return time.Time{}, fmt.Errorf("end of data: %w", err)
	}
	return end.Time, nil
}

// recordedDataEnd is dataEnd as the last write that derived from the data
// recorded it (rebuildFeatures), when that write was not older than the
// orders' last import (ordersGen; 0 without orders); else dataEnd itself,
// for a database from an older build.
func recordedDataEnd(ctx context.Context, q querier, ordersGen int64) (time.Time, error) {
	var gen sql.NullInt64
	var end sql.NullTime
	if err := q.QueryRowContext(ctx, "SELECT data_end_generation, data_end FROM meta_derived").Scan(&gen, &end); err != nil {
		return time.Time{}, fmt.Errorf("end of data: %w", err)
	}
	if gen.Valid && gen.Int64 >= ordersGen {
		return end.Time, nil
	}
	return dataEnd(ctx, q)
}

// asOfFor is the default as-of instant of features and rule evaluations for
// a data end (RULES.md): the end itself, or tomorrow when there are no
// orders (every customer then has no purchase, whatever the date).
func asOfFor(end time.Time) time.Time {
	if !end.IsZero() {
		return end
	}
	y, m, d := time.Now().UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// featuresAsOf is asOfFor the data end of what q reads.
func featuresAsOf(ctx context.Context, q querier) (time.Time, error) {
	end, err := dataEnd(ctx, q)
	if err != nil {
		return time.Time{}, err
	}
	return asOfFor(end), nil
}
