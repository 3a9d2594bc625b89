package clv

import (
	"context"
	"fmt"
)

// PatternStats describes the discrete-time summary of a BG/BB fit.
type PatternStats struct {
	PeriodDays int `json:"period_days"`
	Periods    int `json:"periods"`
	Customers  int `json:"customers"`
	// Fitted customers had at least one complete period before
	// calibration_end; the others (Unobserved) are scored as new customers.
	Fitted     int `json:"fitted"`
	Unobserved int `json:"unobserved"`
	Patterns   int `json:"patterns"`
}

// patternCTE adds to customerCTE the WITH item `bb`: per customer the
// BG/BB pattern (bx, btx, bn). Day offset o ≥ 1 after the first purchase
// falls in period ceil(o / period_days); bn is the number of complete
// periods before calibration_end, capped at periods; bx counts the periods
// 1..bn with a purchase and btx is the last of them.
func patternCTE(n normalized, periodDays, periods int) string {
	period := fmt.Sprintf("((date_diff('day', c.d0, d.d) + %[1]d - 1) // %[1]d)", periodDays)
	bn := fmt.Sprintf("least(%d, c.t_days // %d)", periods, periodDays)
	return fmt.Sprintf(`%[1]s, bb AS MATERIALIZED (
    SELECT c.cid, %[3]s AS bn,
        count(DISTINCT %[2]s) FILTER (WHERE d.d > c.d0 AND %[2]s <= %[3]s) AS bx,
        coalesce(max(%[2]s) FILTER (WHERE d.d > c.d0 AND %[2]s <= %[3]s), 0) AS btx
    FROM cust c JOIN days d ON d.cid = c.cid AND d.d <= DATE '%[4]s'
    GROUP BY c.cid, c.d0, c.t_days
)`, customerCTE(n), period, bn, n.cal)
}

// PatternSummary groups the modelled customers by BG/BB pattern in DuckDB.
func PatternSummary(ctx context.Context, db Querier, opts FitOptions) ([]Pattern, *PatternStats, error) {
	n, err := opts.summaryOptions().normalize()
	if err != nil {
		return nil, nil, err
	}
	q := fmt.Sprintf("WITH %s SELECT bx, btx, bn, count(*) FROM bb GROUP BY ALL ORDER BY ALL", patternCTE(n, opts.PeriodDays, opts.Periods))
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, nil, fmt.Errorf("clv pattern summary: %w", err)
	}
	defer rows.Close()
	st := &PatternStats{PeriodDays: opts.PeriodDays, Periods: opts.Periods}
	var out []Pattern
	for rows.Next() {
		var p Pattern
		if err := rows.Scan(&p.X, &p.Tx, &p.N, &p.Count); err != nil {
			return nil, nil, fmt.Errorf("clv pattern summary: scan: %w", err)
		}
		out = append(out, p)
		st.Customers += p.Count
		if p.N > 0 {
			st.Fitted += p.Count
			st.Patterns++
		} else {
			st.Unobserved += p.Count
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("clv pattern summary: %w", err)
	}
	if st.Fitted == 0 {
		return nil, nil, inputErrorf("period_days", "no customer has a complete period of %d days before calibration_end; choose a shorter period_days or a later calibration_end", opts.PeriodDays)
	}
	return out, st, nil
}

// fittable keeps the patterns with at least one observed period.
func fittable(pats []Pattern) []Pattern {
	out := make([]Pattern, 0, len(pats))
	for _, p := range pats {
		if p.N > 0 {
			out = append(out, p)
		}
	}
	return out
}
