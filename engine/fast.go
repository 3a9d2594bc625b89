package engine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"custkpi/kpi"
	"custkpi/queries"
)

// fastTables are built from the orders by every write that derives
// (rebuildFeatures), in its transaction, so they belong to its generation
// like customer_features. The fast path's shared tables read them, not the
// orders:
//
//   - fast_customer_keys gives every customer an integer key (in
//     customer_id order), so the per-customer grouping hashes integers,
//     not strings, and the customer's row of customer_dims() as the struct
//     dims (a struct: no customers column can clash with the key), so a
//     by= joins the dimensions on the key;
//   - fast_order_days has one row per customer and day with completed or
//     returned orders: the counts and sums the fast forms read (of the
//     completed ones, and the count of returned ones), sorted by day so a
//     window's scan skips the rest. Windows start and end at midnight, so
//     a day is either in a window or not;
//   - fast_customer_days has one row per customer key: their order days,
//     sorted, and the revenue of each, for the history-wide KPIs (recency,
//     suspected churn, historic CLV, new customers), which then filter a
//     short list per customer instead of grouping every order.
//   - fast_calendar has one row per calendar month (months 1), quarter (3)
//     or year (12), and customer with completed or returned orders in it:
//     the sums of fast_order_days over the period. A request whose
//     periods are all whole calendar periods of one kind, each compared
//     with the one before (KPIS.md's rule), reads its rows as they are
//     (and those of the periods before, where a form looks at them).
//   - fast_event_calendar, fast_survey_calendar and fast_ticket_calendar
//     are the same for the events (email and social counts), the surveys
//     (NPS and CSAT counts and sums) and the complaints, without the
//     period before: the engagement and survey KPIs have a fast form for
//     calendar periods only.
var fastTables = []string{
	`CREATE OR REPLACE TABLE fast_customer_keys AS
	SELECT CAST(row_number() OVER (ORDER BY customer_id) AS INTEGER) AS ckey, d.customer_id, d AS dims FROM customer_dims() d`,
	`CREATE OR REPLACE TABLE fast_order_days AS
	WITH o AS MATERIALIZED (
	  SELECT customer_id, CAST(order_date AS DATE) AS day, coalesce(status, 'completed') = 'completed' AS completed,
	         amount, cost, promised_date, delivered_date
	  FROM orders WHERE coalesce(status, 'completed') IN ('completed', 'returned')
	)
	SELECT k.ckey, o.day,
	       count(*) FILTER (WHERE o.completed) AS orders,
	       count(*) FILTER (WHERE NOT o.completed) AS returned,
	       sum(o.amount) FILTER (WHERE o.completed) AS amount,
	       count(o.cost) FILTER (WHERE o.completed) AS costed,
	       sum(o.amount) FILTER (WHERE o.completed AND o.cost IS NOT NULL) AS costed_amount,
	       sum(o.amount - o.cost) FILTER (WHERE o.completed) AS profit,
	       count(*) FILTER (WHERE o.completed AND o.promised_date IS NOT NULL AND o.delivered_date IS NOT NULL) AS delivery_known,
	       count(*) FILTER (WHERE o.completed AND o.delivered_date <= o.promised_date) AS on_time
	FROM o JOIN fast_customer_keys k USING (customer_id)
	GROUP BY o.day, k.ckey
	ORDER BY o.day`,
	// The lists are sorted by day through a list of (day, revenue)
	// structs: an ordered aggregate is several times slower.
	//
	// Beside them, for a customer of at most maxPrefixDays days, the
	// history as of each day: the revenue up to it (cum_amounts) and the
	// median gap between the days up to it (median_gaps). A period then
	// reads its k-th entry, k the days before its end, instead of summing
	// and sorting the list again. The square cost is why longer lists get
	// none (null) and are summed at read time.
	`CREATE OR REPLACE TABLE fast_customer_days AS
	WITH days AS MATERIALIZED (SELECT ckey, day, amount FROM fast_order_days WHERE orders > 0)
	SELECT ckey, days, amounts,
	       CASE WHEN len(days) <= %[1]d THEN list_transform(range(1, len(days) + 1), lambda k: list_sum(amounts[1:k])) END AS cum_amounts,
	       CASE WHEN len(days) <= %[1]d THEN list_transform(range(1, len(days) + 1), lambda k: list_median(gaps[1:k - 1])) END AS median_gaps
	FROM (SELECT ckey, days, amounts, list_transform(days[2:], lambda d, i: date_diff('day', days[i], d)) AS gaps
	      FROM (SELECT ckey, list_transform(s, lambda x: x.d) AS days, list_transform(s, lambda x: x.a) AS amounts
	            FROM (SELECT ckey, list_sort(list({'d': day, 'a': amount})) AS s FROM days GROUP BY ckey)))`,
	calendarRollup("fast_calendar", `
	  SELECT CAST(date_trunc('month', day) AS DATE) AS pstart, ckey, orders, returned, costed, delivery_known, on_time,
	         amount, costed_amount, profit
	  FROM source`, "SELECT * FROM fast_order_days",
		[]string{"orders", "returned", "costed", "delivery_known", "on_time"}, []string{"amount", "costed_amount", "profit"}),
	calendarRollup("fast_event_calendar", `
	  SELECT e.* EXCLUDE (customer_id), k.ckey FROM source e JOIN fast_customer_keys k USING (customer_id)`, `
	  SELECT customer_id, CAST(date_trunc('month', event_at) AS DATE) AS pstart,
	         CAST((channel = 'email' AND event_type = 'sent') IS TRUE AS TINYINT) AS email_sent,
	         CAST((channel = 'email' AND event_type = 'open') IS TRUE AS TINYINT) AS email_open,
	         CAST((channel = 'email' AND event_type = 'click') IS TRUE AS TINYINT) AS email_click,
	         CAST((channel = 'social' AND event_type = 'impression') IS TRUE AS TINYINT) AS social_impression,
	         CAST((channel = 'social' AND event_type IN ('like', 'comment', 'share')) IS TRUE AS TINYINT) AS social_engaged
	  FROM events WHERE channel IN ('email', 'social')`,
		[]string{"email_sent", "email_open", "email_click", "social_impression", "social_engaged"}, nil),
	calendarRollup("fast_survey_calendar", `
	  SELECT s.* EXCLUDE (customer_id), k.ckey FROM source s JOIN fast_customer_keys k USING (customer_id)`, `
	  SELECT customer_id, CAST(date_trunc('month', survey_date) AS DATE) AS pstart,
	         CAST(nps IS NOT NULL AS TINYINT) AS nps_responses,
	         CAST((nps >= 9) IS TRUE AS TINYINT) AS nps_promoters,
	         CAST((nps <= 6) IS TRUE AS TINYINT) AS nps_detractors,
	         CAST(csat IS NOT NULL AS TINYINT) AS csat_responses,
	         CAST((csat >= 4) IS TRUE AS TINYINT) AS csat_satisfied,
	         coalesce(csat, 0) AS csat_sum
	  FROM surveys`,
		[]string{"nps_responses", "nps_promoters", "nps_detractors", "csat_responses", "csat_satisfied", "csat_sum"}, nil),
	calendarRollup("fast_ticket_calendar", `
	  SELECT t.pstart, k.ckey, 1 AS complaints FROM source t JOIN fast_customer_keys k USING (customer_id)`,
		"SELECT customer_id, CAST(date_trunc('month', opened_at) AS DATE) AS pstart FROM tickets WHERE category = 'complaint'",
		[]string{"complaints"}, nil),
}

// calendarRollup is the statement building a per-generation table of sums
// per customer key and calendar month (months 1), quarter (3) and year
// (12), sorted by period so a request's scan skips the row groups of the
// others: rows selects the month (pstart), the customer key (ckey) and
// the values summed: counts, kept BIGINT (a form's sum of one is then a
// HUGEINT, as the definition's sum of the raw integers is), and amounts
// (DOUBLE). Quarters are summed from the months, years from the
// quarters: far fewer rows than the days or the raw records.
//
// source is the statement reading the table the rows come from (as the
// CTE source): materialized, because DuckDB scans a table written in the
// open transaction (the import's) on one thread, and the rest then runs
// on all of them.
func calendarRollup(table, rows, source string, counts, sums []string) string {
	var cols []string
	for _, c := range counts {
		cols = append(cols, fmt.Sprintf("CAST(sum(%[1]s) AS BIGINT) AS %[1]s", c))
	}
	for _, c := range sums {
		cols = append(cols, fmt.Sprintf("sum(%[1]s) AS %[1]s", c))
	}
	list := strings.Join(cols, ", ")
	return `CREATE OR REPLACE TABLE ` + table + ` AS
	WITH source AS MATERIALIZED (` + source + `),
	month_sums AS MATERIALIZED (SELECT pstart, ckey, ` + list + ` FROM (` + rows + `
	) GROUP BY ALL),
	quarter_sums AS MATERIALIZED (SELECT CAST(date_trunc('quarter', pstart) AS DATE) AS pstart, ckey, ` + list + ` FROM month_sums GROUP BY ALL),
	year_sums AS (SELECT CAST(date_trunc('year', pstart) AS DATE) AS pstart, ckey, ` + list + ` FROM quarter_sums GROUP BY ALL)
	SELECT CAST(1 AS TINYINT) AS months, * FROM month_sums
	UNION ALL BY NAME SELECT CAST(3 AS TINYINT) AS months, * FROM quarter_sums
	UNION ALL BY NAME SELECT CAST(12 AS TINYINT) AS months, * FROM year_sums
	ORDER BY months, pstart`
}

// buildFastTables rebuilds the fast path's per-generation tables and
// stamps them with the generation: a build without them (an older one)
// that writes the data leaves them stale, and Open's recovery then sees
// the stamp behind and rebuilds them.
func buildFastTables(ctx context.Context, conn *sql.Conn, gen int64) error {
	for _, stmt := range fastTables {
		if strings.Contains(stmt, "%[1]d") {
			stmt = fmt.Sprintf(stmt, maxPrefixDays)
		}
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return contextErr(ctx, err, "build the fast path's tables")
		}
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE fast_generation AS SELECT ?::BIGINT AS generation, ?::INTEGER AS layout", gen, fastLayout); err != nil {
		return contextErr(ctx, err, "build the fast path's tables")
	}
	return nil
}

// fastLayout numbers the layout of the fast path's tables: a build that
// changes their columns increments it, so tables of another layout are
// rebuilt at open like stale ones.
const fastLayout = 7

// maxPrefixDays bounds the customers whose history fast_customer_days
// keeps day by day (the %[1]d of its statement); a test lowers it to
// check the longer lists' path.
var maxPrefixDays = 512

// fastTablesCurrent tells whether the fast path's tables are there, of
// this build's layout, and were built from the data of generation dataGen.
func (e *Engine) fastTablesCurrent(ctx context.Context, dataGen int64) (bool, error) {
	var n int
	if err := e.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM duckdb_tables()
		WHERE table_name IN ('fast_customer_keys', 'fast_order_days', 'fast_customer_days', 'fast_calendar', 'fast_event_calendar', 'fast_survey_calendar', 'fast_ticket_calendar', 'fast_generation'))
		+ (SELECT count(*) FROM duckdb_columns() WHERE table_name = 'fast_generation' AND column_name = 'layout')`).Scan(&n); err != nil {
		return false, fmt.Errorf("open: fast tables: %w", err)
	}
	if n < 9 {
		return false, nil // absent, or from before layouts were numbered
	}
	var gen, layout int64
	if err := e.db.QueryRowContext(ctx, "SELECT generation, layout FROM fast_generation").Scan(&gen, &layout); err != nil {
		return false, fmt.Errorf("open: fast tables: %w", err)
	}
	return gen == dataGen && layout == fastLayout, nil
}

// fastValues are the scorecard values of the KPIs with a fast form, by
// name: the previous window's and the window's.
type fastValues map[string][2]*float64

// planFastScorecard plans the statement computing, sharing one scan of
// the orders, the window's and the previous window's value of every KPI
// among kpis with a fast form (kpi.PlanScorecard); nil when there is none
// or the caller asked for the plain path.
func (e *Engine) planFastScorecard(ctx context.Context, s *snapshot, kpis []*KPI, from, to time.Time) (*kpi.ScorecardStatement, error) {
	if plainOnly(ctx) {
		return nil, nil
	}
	defs := make([]*queries.Definition, len(kpis))
	filters := make([]*kpi.Filter, len(kpis))
	for i, k := range kpis {
		defs[i] = k.Default
		f, err := kpi.ScopeFilter(s.data, k.Default, scopeOf(ctx))
		if err != nil {
			return nil, err
		}
		filters[i] = f
	}
	return kpi.PlanScorecard(defs, filters, from, to), nil
}

// fastScorecard runs the fast scorecard statement (nil: nothing to do);
// ok is false when the generation moved on meanwhile.
func (e *Engine) fastScorecard(ctx context.Context, s *snapshot, st *kpi.ScorecardStatement, from time.Time) (fastValues, bool, error) {
	out := fastValues{}
	if st == nil {
		return out, true, nil
	}
	start := time.Now()
	defer func() { e.log.Debug("fast scorecard", "kpis", len(st.Defs), "elapsed", time.Since(start)) }()
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

// warm computes the default scorecard of the current generation in the
// background (Options.WarmScorecard), so the first request after an import
// is answered from the cache. A failure only means that request computes
// it itself.
func (e *Engine) warm() {
	if !e.opts.WarmScorecard || e.scorecards.lru == nil {
		return
	}
	e.warming.Add(1)
	go func() {
		defer e.warming.Done()
		start := time.Now()
		if _, err := e.Scorecard(e.warmCtx, time.Time{}, time.Time{}); err != nil {
			if e.warmCtx.Err() == nil {
				e.log.Debug("warm scorecard", "err", err)
			}
			return
		}
		e.log.Debug("warmed the default scorecard", "generation", e.Generation(), "elapsed", time.Since(start))
	}()
}
