package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"custkpi/kpi"
)

// DefaultMaxResultRows is Options.MaxResultRows' default: a million rows
// is about 100 MB of JSON, far beyond a chart or a pivot, and a table of
// that size is an export (a coarser grain, fewer dimensions or a shorter
// window answer the question a person asks).
const DefaultMaxResultRows = 1_000_000

// maxResultRows is the cap in force (0: none).
func (e *Engine) maxResultRows() int64 {
	switch {
	case e.opts.MaxResultRows == 0:
		return DefaultMaxResultRows
	case e.opts.MaxResultRows < 0:
		return 0
	}
	return e.opts.MaxResultRows
}

// checkResultSize refuses a statement whose rows could exceed the cap,
// before it runs. The estimate is an upper bound: periods × the product of
// the distinct values of each by= dimension (null counted as a value), the
// product no more than the customers when every dimension is a customer's
// (each customer is in one group). The distinct counts are read once per
// generation.
func (e *Engine) checkResultSize(ctx context.Context, s *snapshot, st *kpi.Statement) error {
	limit := e.maxResultRows()
	if limit == 0 {
		return nil
	}
	groups, perCustomer := int64(1), true
	counts := map[string]int64{}
	for _, g := range st.Groups {
		n, err := e.distinctValues(ctx, s, g)
		if err != nil {
			return err
		}
		counts[g.Name] = n
		groups = satMul(groups, n)
		perCustomer = perCustomer && (g.Customer || g.Evaluation != 0)
	}
	if perCustomer && len(st.Groups) > 0 {
		// customer_id is unique (a duplicate is an import error): the
		// customers are the table's rows, counted at load.
		var customers int64
		if d := s.datasets["customers"]; d != nil {
			customers = d.Rows
		}
		groups = min(groups, max(customers, 1))
	}
	estimate := satMul(int64(st.Periods), groups)
	if estimate <= limit {
		return nil
	}
	return &Error{Code: CodeResultTooLarge,
		Message: fmt.Sprintf("the answer could have up to %d rows (%d periods × %d groups), more than the cap of %d rows; use a coarser grain, a shorter window or fewer dimensions",
			estimate, st.Periods, groups, limit),
		Details: map[string]any{"estimate": estimate, "max_result_rows": limit, "periods": st.Periods, "groups": groups, "distinct_values": counts}}
}

// distinctValues counts a dimension's values in the snapshot's data (null
// counts as one), cached in the snapshot.
func (e *Engine) distinctValues(ctx context.Context, s *snapshot, g kpi.GroupRef) (int64, error) {
	var query string
	var args []any
	switch {
	case g.Evaluation != 0:
		query, args = "SELECT count(DISTINCT tier) + 1 FROM tier_assignments WHERE evaluation = ?", []any{g.Evaluation}
	case g.Customer && s.fastCurrent:
		// Counted when the fast tables were built (fast_dim_counts): a
		// row to read, not every customer's value to count (at 1M
		// customers, cold, 50 ms of a one-shot CLI request by region or
		// age, 55 ms by signup date).
		query, args = "SELECT n FROM fast_dim_counts WHERE name = ?", []any{g.Name}
	case g.Customer:
		query = fmt.Sprintf("SELECT count(DISTINCT %[1]s) + (count(*) > count(%[1]s))::BIGINT FROM customer_dims()", quoteIdent(g.Name))
	default:
		var parts []string
		for _, kind := range g.Datasets {
			kind, _, _ = strings.Cut(kind, ".")
			d := s.datasets[kind]
			if d == nil {
				continue
			}
			names := g.Columns
			if len(names) == 0 {
				names = []string{g.Name}
			}
			for _, name := range names {
				if slices.Contains(d.Columns, name) || name == "customer_id" {
					parts = append(parts, fmt.Sprintf("SELECT %s AS v FROM %s", quoteIdent(name), quoteIdent(kind)))
					break
				}
			}
		}
		if len(parts) == 0 {
			return 1, nil
		}
		query = "SELECT count(DISTINCT v) + (count(*) > count(v))::BIGINT FROM (" + strings.Join(parts, " UNION ALL ") + ")"
	}
	key := fmt.Sprint(query, args)
	if n, ok := s.distinct.Load(key); ok {
		return n.(int64), nil
	}
	var n int64
	if err := e.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, contextErr(ctx, err, "result size of "+g.Name)
	}
	s.distinct.Store(key, n)
	return n, nil
}

// satMul multiplies without overflowing.
func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > (1<<63-1)/b {
		return 1<<63 - 1
	}
	return a * b
}
