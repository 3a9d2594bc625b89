package engine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"custkpi/store"
)

// The order sums and survey counts per day and combination of the
// customers' few-valued dimensions (fast_dim_combos, fast_order_totals_by,
// fast_survey_totals_by): revenue, orders, AOV, profit, on-time delivery,
// returns, NPS and CSAT by region (or segment, or any dimension of at most
// maxComboValues values) then read a row per day and combination, at any
// window, instead of a row per customer: the planner groups them by the
// combination's dimensions as it groups customers by theirs (kpi's combo
// rows). Their sums are those of fast_order_totals and of
// fast_survey_calendar, split by combination; summed over the
// combinations, the survey counts also serve requests of everyone.

// maxComboValues bounds the distinct values of a dimension in the
// combinations, and maxCombos their number: a dimension with more (a
// signup date, an age) is left out, and the rest stay few.
const (
	// comboNone is the struct's one field when no dimension qualifies (a
	// struct has at least one).
	comboNone      = "__none"
	maxComboValues = 64
	maxCombos      = 4096
)

// orderSums sums the order columns of fast_order_days (or of a table of
// its sums), keeping the counts BIGINT.
const orderSums = `CAST(sum(orders) AS BIGINT) AS orders, CAST(sum(returned) AS BIGINT) AS returned,
		       sum(amount) AS amount, CAST(sum(costed) AS BIGINT) AS costed, sum(costed_amount) AS costed_amount, sum(profit) AS profit,
		       CAST(sum(delivery_known) AS BIGINT) AS delivery_known, CAST(sum(on_time) AS BIGINT) AS on_time`

// buildDimTotals builds fast_dim_combos (an integer key, ckey, per
// combination of the chosen dimensions' values, and those values as the
// struct dims, like fast_customer_keys'), fast_order_totals_by (the
// sums of fast_order_days per day and combination, sorted by day),
// fast_order_totals (their sums per day) and fast_survey_totals_by.
func buildDimTotals(ctx context.Context, conn *sql.Conn) error {
	dims, err := comboDimensions(ctx, conn)
	if err != nil {
		return err
	}
	// With no dimension, one combination of everyone (a struct has a
	// field at least).
	order, pack, project := "1", "struct_pack("+comboNone+" := NULL::VARCHAR)", "ckey"
	if len(dims) > 0 {
		var cols, fields, picks []string
		for _, d := range dims {
			q := store.QuoteIdent(d)
			cols = append(cols, q)
			fields = append(fields, q+" := "+q)
			picks = append(picks, "dims."+q+" AS "+q)
		}
		order = strings.Join(cols, ", ")
		pack = "struct_pack(" + strings.Join(fields, ", ") + ")"
		project = "ckey, " + strings.Join(picks, ", ")
	}
	// dense_rank numbers the combinations, nulls as one value each.
	stmts := []string{
		`CREATE OR REPLACE TEMP TABLE fast_customer_combo AS
		SELECT ckey, CAST(dense_rank() OVER (ORDER BY ` + order + `) AS INTEGER) AS combo, ` + pack + ` AS dims
		FROM (SELECT ` + project + ` FROM fast_customer_keys)`,
		`CREATE OR REPLACE TABLE fast_dim_combos AS
		SELECT combo AS ckey, any_value(dims) AS dims FROM fast_customer_combo GROUP BY combo ORDER BY combo`,
		`CREATE OR REPLACE TABLE fast_order_totals_by AS
		SELECT d.day, c.combo AS ckey, ` + orderSums + `
		FROM fast_order_days d JOIN fast_customer_combo c USING (ckey)
		GROUP BY d.day, c.combo ORDER BY d.day`,
		// Everyone's sums per day: the combinations', far fewer rows than
		// the customers'.
		`CREATE OR REPLACE TABLE fast_order_totals AS
		SELECT day, ` + orderSums + ` FROM fast_order_totals_by GROUP BY day ORDER BY day`,
		// The survey counts of fast_survey_calendar, per day and
		// combination: NPS and CSAT at any window, by such dimensions or
		// of everyone.
		`CREATE OR REPLACE TABLE fast_survey_totals_by AS
		SELECT CAST(s.survey_date AS DATE) AS day, c.combo AS ckey,
		       CAST(count(s.nps) AS BIGINT) AS nps_responses,
		       CAST(count(*) FILTER (WHERE s.nps >= 9) AS BIGINT) AS nps_promoters,
		       CAST(count(*) FILTER (WHERE s.nps <= 6) AS BIGINT) AS nps_detractors,
		       CAST(count(s.csat) AS BIGINT) AS csat_responses,
		       CAST(count(*) FILTER (WHERE s.csat >= 4) AS BIGINT) AS csat_satisfied,
		       CAST(coalesce(sum(s.csat), 0) AS BIGINT) AS csat_sum
		FROM surveys s JOIN fast_customer_keys k USING (customer_id) JOIN fast_customer_combo c USING (ckey)
		GROUP BY ALL ORDER BY day`,
		`DROP TABLE fast_customer_combo`,
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return contextErr(ctx, err, "build the fast path's table "+tableOf(s))
		}
	}
	return nil
}

// comboDimensions are the customer dimensions (fields of
// fast_customer_keys' dims) with at most maxComboValues distinct values,
// fewest first, as many as keep the combinations within maxCombos.
func comboDimensions(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT dims.* FROM fast_customer_keys)")
	if err != nil {
		return nil, fmt.Errorf("dimensions of the combinations: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		if n != "customer_id" {
			names = append(names, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(names) == 0 {
		return nil, err
	}
	counts := make([]string, len(names))
	for i, n := range names {
		// Distinct values, null counted as one.
		counts[i] = fmt.Sprintf("count(DISTINCT dims.%[1]s) + coalesce(max(CASE WHEN dims.%[1]s IS NULL THEN 1 ELSE 0 END), 0)", store.QuoteIdent(n))
	}
	vals := make([]any, len(names))
	ns := make([]int64, len(names))
	for i := range ns {
		vals[i] = &ns[i]
	}
	if err := conn.QueryRowContext(ctx, "SELECT "+strings.Join(counts, ", ")+" FROM fast_customer_keys").Scan(vals...); err != nil {
		return nil, fmt.Errorf("dimensions of the combinations: %w", err)
	}
	var chosen []string
	combos := int64(1)
	for len(names) > 0 {
		best := -1
		for i := range names {
			if ns[i] <= maxComboValues && (best < 0 || ns[i] < ns[best]) {
				best = i
			}
		}
		if best < 0 || combos*max(ns[best], 1) > maxCombos {
			break
		}
		combos *= max(ns[best], 1)
		chosen = append(chosen, names[best])
		names = append(names[:best], names[best+1:]...)
		ns = append(ns[:best], ns[best+1:]...)
	}
	return chosen, nil
}

// comboColumns are the dimensions fast_dim_combos holds.
func comboColumns(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT column_name FROM (DESCRIBE SELECT dims.* FROM fast_dim_combos)")
	if err != nil {
		return nil, fmt.Errorf("load state: the dimensions of fast_dim_combos: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if n != comboNone {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}
