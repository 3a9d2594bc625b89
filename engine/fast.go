package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"custkpi/kpi"
	"custkpi/queries"
)

// fastValues are the scorecard values of the KPIs with a fast form, by
// name: the previous window's and the window's.
type fastValues map[string][2]*float64

// fastScorecard computes, in one statement sharing one scan of the orders,
// the window's and the previous window's value of every KPI among kpis
// with a fast form (kpi.PlanScorecard); the others are left to the plain
// path. ok is false when the generation moved on while it ran.
func (e *Engine) fastScorecard(ctx context.Context, s *snapshot, kpis []*KPI, from, to time.Time) (fastValues, bool, error) {
	out := fastValues{}
	if plainOnly(ctx) {
		return out, true, nil
	}
	defs := make([]*queries.Definition, len(kpis))
	filters := make([]*kpi.Filter, len(kpis))
	for i, k := range kpis {
		defs[i] = k.Default
		f, err := kpi.ScopeFilter(s.data, k.Default, scopeOf(ctx))
		if err != nil {
			return nil, false, err
		}
		filters[i] = f
	}
	st := kpi.PlanScorecard(defs, filters, from, to)
	if st == nil {
		return out, true, nil
	}
	ok, err := e.pinned(ctx, s, func(ctx context.Context, conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, st.SQL, st.Args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var i int
			var period time.Time
			var value sql.NullFloat64
			if err := rows.Scan(&i, &period, &value); err != nil {
				return err
			}
			name := st.Defs[i].Name
			v := out[name]
			slot := 0
			if period.Equal(from) {
				slot = 1
			}
			if value.Valid {
				v[slot] = finite(value.Float64)
			}
			out[name] = v
		}
		return rows.Err()
	})
	if err != nil {
		return nil, false, fmt.Errorf("fast scorecard: %w", err)
	}
	return out, ok, nil
}
