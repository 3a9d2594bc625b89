package engine

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"custkpi/kpi"
	"custkpi/queries"
	"custkpi/store"
)

// fastTables are built from the datasets right after a write that changed
// one they read commits (deriveFast), each statement committed on its own
// (and only those reading a dataset the write changed, see
// buildFastTables), and stamped with the generations they were built
// from; a snapshot uses them only when it sees that stamp
// (snapshot.fastCurrent). The fast
// path's shared sources read them, not the datasets. Some hold totals
// over every customer, which only requests that nothing narrows to
// customers (no by=, where= or scope) may read (kpi's totals sources):
//
//   - fast_customer_keys gives every customer an integer key (in
//     customer_id order), so the per-customer grouping hashes integers,
//     not strings, and the customer's row of customer_dims() as the struct
//     dims (a struct: no customers column can clash with the key), so a
//     by= joins the dimensions on the key; and the key of the customer's
//     combination of few-valued dimensions (combo, fastdims.go), which
//     fast_order_days and fast_calendar carry too;
//   - fast_order_days has one row per customer and day with completed or
//     returned orders: the counts and sums the fast forms read (of the
//     completed ones, and the count of returned ones), sorted by day so a
//     window's scan skips the rest. Windows start and end at midnight, so
//     a day is either in a window or not;
//   - fast_order_totals has their sums per day over every customer, for
//     the KPIs that are sums of orders (revenue, orders, AOV, profit,
//     on-time delivery, returns) when nothing filters or groups the rows
//     by customer: a window then reads a row per day (built in
//     fastdims.go, from the sums per combination of dimensions);
//   - fast_customer_days has one row per customer key: their order days,
//     sorted, and the revenue of each, for the history-wide KPIs (recency,
//     suspected churn, historic CLV, new customers), which then filter a
//     short list per customer instead of grouping every order; the days
//     with two or more orders (repeat purchase of a window from the
//     lists); and the whole history's first and last day, count and
//     revenue, which a period ending after the last day reads without the
//     lists; and the median gap between their days up to each day;
//   - fast_order_links has the same days a row each, sorted by day, with
//     the customer's day before and after: the customers active in a
//     window, in its previous window and in both, and the repeaters, of
//     any window are counts of its rows under conditions on those;
//   - fast_history_per_day has per day, over every customer, how many
//     made their first order that day, the days since their previous
//     order summed over the others, and the revenue: the history-wide
//     KPIs but suspected churn sum them up to a period's end when nothing
//     filters the rows by customer (a customer's last day before the end
//     is their first plus their gaps until then); built in fastdims.go
//     from the same sums per combination of dimensions
//     (fast_history_per_day_by), which serve a request by such
//     dimensions;
//   - fast_suspect_per_day has per day, over every customer, how many
//     become eligible for suspected churn after it and the change in
//     those flagged after it, at the default multiplier: its rate at an
//     end sums them over the days before (built in fastdims.go from the
//     same per combination of dimensions, fast_suspect_per_day_by);
//   - fast_calendar has one row per calendar month (months 1), quarter (3)
//     or year (12), and customer with completed or returned orders in it:
//     the sums of fast_order_days over the period. A request whose
//     periods are all whole calendar periods of one kind, each compared
//     with the one before (KPIS.md's rule), reads its rows as they are
//     (and those of the periods before, where a form looks at them).
//   - fast_calendar_activity counts, per calendar period of each kind,
//     the customers with completed orders in it, in the period before and
//     in both, and of the first their orders, those with two or more and
//     those who complained: churn, retention, active customers, purchase
//     frequency, repeat purchase and complaint rate of whole calendar
//     periods when nothing filters the rows by customer; like the
//     history's, built in fastdims.go from the counts per combination
//     (fast_calendar_activity_by), which serve a request by such
//     dimensions;
//   - fast_calendar_top has, per calendar period of each kind, the
//     revenue of the top fifth of its customers, for the top-20% share
//     of whole calendar periods of everyone, and the customers with
//     costed orders and their profit, for customer profitability;
//   - fast_ticket_calendar is the same for the complaints, without the
//     period before: the complaint rate's per-customer form reads it for
//     whole calendar periods (fast_ticket_rows otherwise);
//   - fast_ticket_rows has one row per ticket, sorted by the day it was
//     opened, with its customer's key and combination: whether it is
//     resolved and a complaint, and its hours to resolution and to first
//     response, as the ticket KPIs' macros compute them. The ticket KPIs
//     filtered or by a many-valued dimension read it, a row per ticket
//     as their macros have, and the complainers of any window; its sums
//     per day and combination (fast_ticket_totals_by, fastdims.go) and
//     its response hours with their combination (fast_ticket_hours_by)
//     serve the rest: of everyone, the first-response quantiles of whole
//     calendar periods are kept per period (fast_ticket_hour_quantiles),
//     and those of long windows read the hours cut into buckets of equal
//     counts (fast_ticket_hours_bucketed, fast_ticket_hour_buckets);
//   - fast_contract_rows has one row per contract, sorted by the day it
//     ends, with its customer's key and finer combination: the contract
//     renewal rate of any window;
//   - fast_survey_days has one row per day and customer with surveys
//     (NPS and CSAT counts and sums), and fast_event_rows one row per
//     email or social event (its counts, each 0 or 1) with its day and
//     customer key, both sorted by day like fast_order_days: the survey
//     and engagement KPIs of any window, per customer (their sums per day
//     and combination, fast_survey_totals_by and fast_event_totals_by,
//     built in fastdims.go, serve a request that nothing filters by
//     customer, of everyone or by such dimensions). Per day rather than
//     per calendar period: a day table and its sums per combination take
//     about the time the months, quarters and years took (events at 1M
//     demo customers: 3.4 + 0.3 s against 2.3 + 1.0 + 0.35 s), and serve
//     every window. The events are not summed per customer and day:
//     nearly every customer has one event a day (7.8M events, 6.6M
//     customer days at 1M demo customers), and keying them without
//     grouping took 1.5 s against 2.2 s;
//   - fast_dim_combos and fast_order_totals_by (fastdims.go) hold the
//     sums of fast_order_totals per day and combination of the customers'
//     few-valued dimensions, for the same KPIs grouped by such
//     dimensions only;
//   - fast_score_days_by (fastdims.go) has the number of each
//     (attribute, score) of the surveys' score_* columns answered on each
//     day, per combination, and fast_score_days its sums of every
//     customer: csi, which otherwise unpivots every response of the
//     window, reads them when nothing filters the rows by customer and
//     any by= dimension is one of the combinations'.
var fastTables = slices.Concat(reading(fromOrders,
	`CREATE OR REPLACE TABLE fast_order_days AS
	WITH o AS (
	  SELECT customer_id, CAST(order_date AS DATE) AS day, coalesce(status, 'completed') = 'completed' AS completed,
	         amount, cost, promised_date, delivered_date
	  FROM orders WHERE coalesce(status, 'completed') IN ('completed', 'returned')
	)
	SELECT k.ckey, any_value(k.combo) AS combo, any_value(k.fine) AS fine, o.day,
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
	// Beside them, the median gap between the customer's days up to each
	// day (median_gaps: its k-th entry is the median of the first k - 1
	// gaps), which a period ending before their last day reads instead of
	// sorting the gaps again, and which fast_suspect_per_day_by is built
	// from; its last is the median of all (median_gap). Its cost grows
	// with the square of the days: 1.2 s of the import at 1M demo
	// customers for the 14% with more than 16 days, which hold two thirds
	// of all days. (The revenue up to each day is summed at read time:
	// as cheap as reading it.)
	//
	// And the days on which the customer made two or more completed
	// orders (multi, unsorted; null when none: 163k of 874k customers at
	// 1M demo customers have any): with the count of their days in a
	// window, whether they made two or more orders in it (repeat
	// purchase), without grouping the window's days.
	`CREATE OR REPLACE TABLE fast_customer_days AS
	WITH days AS (SELECT ckey, combo, fine, day, amount, orders FROM fast_order_days WHERE orders > 0)
	SELECT ckey, combo, fine, days[1] AS first_day, days[-1] AS last_day, len(days) AS n_days, list_sum(amounts) AS amount,
	       days, amounts, multi, median_gaps[-1] AS median_gap, median_gaps
	FROM (SELECT ckey, combo, fine, days, amounts, multi, list_transform(range(1, len(days) + 1), lambda k: list_median(gaps[1:k - 1])) AS median_gaps
	      FROM (SELECT ckey, combo, fine, days, amounts, multi, list_transform(days[2:], lambda d, i: date_diff('day', days[i], d)) AS gaps
	            FROM (SELECT ckey, combo, fine, list_transform(s, lambda x: x.d) AS days, list_transform(s, lambda x: x.a) AS amounts, multi
	                  FROM (SELECT ckey, any_value(combo) AS combo, any_value(fine) AS fine, list_sort(list({'d': day, 'a': amount})) AS s,
	                               list(day) FILTER (WHERE orders >= 2) AS multi
	                        FROM days GROUP BY ckey))))`,
	// Each customer's days with completed orders again, a row per day
	// sorted by day, each with the customer's day before (-infinity for
	// their first) and after (infinity for their last), and whether they
	// made two or more orders on it: the customers active in any window
	// are its rows there whose day before is before the window, counted
	// without grouping them per customer (kpi's fast_activity_totals).
	// Unnested from fast_customer_days' lists: 1.2–2.0 s at 1M demo
	// customers, against 2.3–3.1 s for lag and lead over fast_order_days.
	`CREATE OR REPLACE TABLE fast_order_links AS
	SELECT u.day, c.ckey, c.combo, u.prev_day, u.next_day, u.multi
	FROM fast_customer_days c, LATERAL (
	  SELECT unnest(c.days) AS day, unnest([DATE '-infinity'] || c.days[:-2]) AS prev_day,
	         unnest(c.days[2:] || [DATE 'infinity']) AS next_day,
	         unnest(list_transform(c.days, lambda d: coalesce(list_contains(c.multi, d), false))) AS multi) u
	ORDER BY u.day`,
),
	// (A customer's combination is one: grouping by their key alone, and
	// taking any of its combinations, is quicker, here and in
	// fast_order_days and fast_customer_days: 0.1–0.3 s each at 1M
	// demo customers.)
	reading(fromOrders, calendarRollup("fast_calendar", "ckey, any_value(combo) AS combo, any_value(fine) AS fine", `
	  SELECT CAST(date_trunc('month', day) AS DATE) AS pstart, ckey, combo, fine, orders, returned, costed, delivery_known, on_time,
	         amount, costed_amount, profit
	  FROM source`, "SELECT * FROM fast_order_days",
		[]string{"orders", "returned", "costed", "delivery_known", "on_time"}, []string{"amount", "costed_amount", "profit"})...),
	// Per calendar period, of every customer: the customers with
	// completed orders (customers), their revenue, and the revenue of the
	// top ceil(20%) of them (top_revenue, topFifthRevenue): the top-20%
	// share of whole calendar periods, which otherwise selects each
	// period's top customers; and the customers with costed orders and
	// their profit (customer profitability, which otherwise counts them).
	reading(fromOrders, `CREATE OR REPLACE TABLE fast_calendar_top AS
	SELECT months, pstart, `+topColumns+`
	FROM fast_calendar WHERE orders > 0
	GROUP BY months, pstart ORDER BY months, pstart`),
	reading(fromEvents, `CREATE OR REPLACE TABLE fast_event_rows AS
	SELECT CAST(d.event_at AS DATE) AS day, k.ckey, k.combo, k.fine, `+eventFlags()+`
	`+keyedFrom("events", "d.channel IN ('email', 'social')")+`
	ORDER BY day`),
	reading(fromSurveys, keyedDays("fast_survey_days", "surveys", "", "survey_date", surveyCounts)),
	reading(fromTickets, `CREATE OR REPLACE TABLE fast_ticket_rows AS
	SELECT CAST(d.opened_at AS DATE) AS day, k.ckey, k.combo, k.fine, d.ticket_id, d.resolved_at IS NOT NULL AS resolved,
	       epoch(d.resolved_at - d.opened_at) / 3600.0 AS resolution_hours,
	       epoch(d.first_response_at - d.opened_at) / 3600.0 AS response_hours,
	       coalesce(d.category = 'complaint', false) AS complaint
	`+keyedFrom("tickets", "")+`
	ORDER BY day`),
	// The complaints per customer and calendar period, from the keyed
	// tickets (rather than joining the tickets to the keys again).
	// The contracts, keyed, sorted by the day they end: the contract
	// renewal rate of any window, per customer.
	reading(fromContracts, `CREATE OR REPLACE TABLE fast_contract_rows AS
	SELECT d.end_date AS day, k.ckey, k.fine, d.contract_id, d.renewed
	`+keyedFrom("contracts", "")+`
	ORDER BY day`),
	reading(fromTickets, calendarRollup("fast_ticket_calendar", "ckey, any_value(fine) AS fine", `
	  SELECT CAST(date_trunc('month', day) AS DATE) AS pstart, ckey, fine, 1 AS complaints
	  FROM source`, "SELECT * FROM fast_ticket_rows WHERE complaint", []string{"complaints"}, nil)...),
)

// topColumns are fast_calendar_top's columns (and its sums per group's,
// topGroupSums), aggregates over the customers' rows of fast_calendar
// with completed orders.
var topColumns = `CAST(count(*) AS BIGINT) AS customers, sum(amount) AS revenue, ` + topFifthRevenue("amount") + ` AS top_revenue,
	       CAST(count(*) FILTER (WHERE costed > 0) AS BIGINT) AS costed_customers, sum(profit) FILTER (WHERE costed > 0) AS costed_profit`

// topFifthRevenue is the aggregate summing the top ceil(20%) of a
// group's revenues (column; none null): those above the 80% quantile,
// t, and as many copies of t as are still missing, which the sum of the
// sorted revenues' first fifth is, without sorting them (the argument is
// top20_revenue_share's fast form's, which does the same per request).
// At 1M demo customers fast_calendar_top's grouping took 186-272 ms
// against 475-607 ms sorting the revenues at or above the 70% quantile.
func topFifthRevenue(column string) string {
	t := "quantile_disc(" + column + ", 0.8)"
	above := "list_filter(list(" + column + "), lambda x: x > " + t + ")"
	return "coalesce(list_sum(" + above + "), 0) + ((count(*) + 4) // 5 - len(" + above + ")) * " + t
}

// fastStatement is a statement building a fast table, and the datasets
// it reads, beside the customers (whose keys every table carries): a
// write that changed none of them leaves its table as it is.
type fastStatement struct {
	sql   string
	reads []string
}

// The datasets the fast tables read, beside the customers.
var (
	fromOrders    = []string{"orders"}
	fromEvents    = []string{"events"}
	fromSurveys   = []string{"surveys"}
	fromTickets   = []string{"tickets"}
	fromContracts = []string{"contracts"}
	// fast_calendar_activity counts the customers with orders who
	// complained.
	fromOrdersAndTickets = []string{"orders", "tickets"}
)

// reading tags statements with the datasets they read.
func reading(datasets []string, stmts ...string) []fastStatement {
	out := make([]fastStatement, len(stmts))
	for i, s := range stmts {
		out[i] = fastStatement{sql: s, reads: datasets}
	}
	return out
}

// calendarRollup is the statements building a per-generation table of
// sums per customer key and calendar month (months 1), quarter (3) and
// year (12), sorted by kind and period so a request's scan skips the row
// groups of the others: rows selects, from source (the CTE of the table
// read), the month (pstart), the customer's key columns and the values
// summed; keys are the select list of the key columns (ckey, and for
// fast_calendar any of its rows' combination), grouped by all but
// aggregates; the values are counts, kept BIGINT (a form's sum of one is
// then a HUGEINT, as the definition's sum of the raw integers is), and
// amounts (DOUBLE).
// The months are summed first, and committed; the quarters and years are
// then summed from them, far fewer rows than the source's, and appended,
// each kind sorted on its own. (In one statement, with the months a
// materialized CTE, DuckDB 1.4.3's hash aggregate failed once in a few
// runs at a million customers with an internal error; sorting the three
// kinds together took longer than sorting each.)
func calendarRollup(table, keys, rows, source string, counts, sums []string) []string {
	cols := []string{columnSums(counts)}
	for _, c := range sums {
		cols = append(cols, fmt.Sprintf("sum(%[1]s) AS %[1]s", c))
	}
	list := strings.Join(cols, ", ")
	return append([]string{createTable(table) + ` AS
	WITH source AS (` + source + `)
	SELECT CAST(1 AS TINYINT) AS months, pstart, ` + keys + `, ` + list + ` FROM (` + rows + `) GROUP BY ALL ORDER BY pstart`},
		longerPeriods(table, keys, list)...)
}

// createTable begins the statement creating (or replacing) table: a
// temporary one when it is named in the temp catalog (temp.name).
func createTable(table string) string {
	if name, ok := strings.CutPrefix(table, "temp."); ok {
		return "CREATE OR REPLACE TEMP TABLE " + name
	}
	return "CREATE OR REPLACE TABLE " + table
}

// keyedDays is the statement building a per-generation table of a row
// per day and customer key with rows of a dataset (those where says, or
// all) on it, sorted by day so a window's scan skips the rest: at is the
// rows' timestamp, and each column the aggregate over the customer's rows
// of the day; combo is the customer's combination, for the table's sums
// per day and combination (buildDimTotals). The rows are keyed before
// they are summed, so the grouping hashes integers, not strings: measured
// on the events' months at 1M demo customers, when they had such a
// table, 1.8–1.9 s against 2.1–2.4 s summed per customer_id then keyed
// (and a count with a filter 3.2–3.35 s against 3.5–3.6 s summing casts
// of the conditions).
func keyedDays(table, dataset, where, at string, columns []rollupColumn) string {
	return `CREATE OR REPLACE TABLE ` + table + ` AS
	SELECT CAST(d.` + at + ` AS DATE) AS day, k.ckey, any_value(k.combo) AS combo, any_value(k.fine) AS fine, ` + rollupAggregates(columns) + `
	` + keyedFrom(dataset, where) + `
	GROUP BY CAST(d.` + at + ` AS DATE), k.ckey ORDER BY day`
}

// keyedFrom reads a dataset's rows (d; those where says, or all) with
// their customer's key and combination (k).
func keyedFrom(dataset, where string) string {
	from := "FROM " + dataset + " d JOIN fast_customer_keys k USING (customer_id)"
	if where != "" {
		from += "\n\tWHERE " + where
	}
	return from
}

// rollupColumn is a column of keyedDays' tables: its name and its
// aggregate over a customer's rows of a day.
type rollupColumn struct{ name, agg string }

// rollupAggregates is the select list of the columns' aggregates, each
// kept BIGINT.
func rollupAggregates(columns []rollupColumn) string {
	aggs := make([]string, len(columns))
	for i, c := range columns {
		aggs[i] = fmt.Sprintf("CAST(%s AS BIGINT) AS %s", c.agg, c.name)
	}
	return strings.Join(aggs, ", ")
}

// rollupSums is the select list of the columns' sums over rows of their
// aggregates, kept BIGINT.
func rollupSums(columns []rollupColumn) string {
	return columnSums(columnNames(columns))
}

// columnNames are the names of the columns.
func columnNames(columns []rollupColumn) []string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return names
}

// columnSums is the select list of the named columns' sums, kept BIGINT.
func columnSums(names []string) string {
	sums := make([]string, len(names))
	for i, n := range names {
		sums[i] = fmt.Sprintf("CAST(sum(%[1]s) AS BIGINT) AS %[1]s", n)
	}
	return strings.Join(sums, ", ")
}

// eventCounts are the email and social counts of a set of events, by
// the condition an event meets to count: fast_event_rows holds each
// event's (0 or 1) and fast_event_totals_by (fastdims.go) their sums per
// day and combination.
var eventCounts = []struct{ name, cond string }{
	{"email_sent", "channel = 'email' AND event_type = 'sent'"},
	{"email_open", "channel = 'email' AND event_type = 'open'"},
	{"email_click", "channel = 'email' AND event_type = 'click'"},
	{"social_impression", "channel = 'social' AND event_type = 'impression'"},
	{"social_engaged", "channel = 'social' AND event_type IN ('like', 'comment', 'share')"},
}

// eventFlags is the select list of an event's counts (eventCounts), kept
// BIGINT: a form's sum of one is then a HUGEINT, as the definition's
// count is summed.
func eventFlags() string {
	flags := make([]string, len(eventCounts))
	for i, c := range eventCounts {
		flags[i] = fmt.Sprintf("CAST(coalesce(%s, false) AS BIGINT) AS %s", c.cond, c.name)
	}
	return strings.Join(flags, ", ")
}

// eventCountNames are eventCounts' names.
func eventCountNames() []string {
	names := make([]string, len(eventCounts))
	for i, c := range eventCounts {
		names[i] = c.name
	}
	return names
}

// surveyCounts are the NPS and CSAT counts of a set of surveys, which
// fast_survey_days holds per customer and day and fast_survey_totals_by
// (fastdims.go) per day and combination.
var surveyCounts = []rollupColumn{
	{"nps_responses", "count(nps)"},
	{"nps_promoters", "count(*) FILTER (WHERE nps >= 9)"},
	{"nps_detractors", "count(*) FILTER (WHERE nps <= 6)"},
	{"csat_responses", "count(csat)"},
	{"csat_satisfied", "count(*) FILTER (WHERE csat >= 4)"},
	{"csat_sum", "coalesce(sum(csat), 0)"},
}

// surveyCountNames are the names of surveyCounts.
func surveyCountNames() []string { return columnNames(surveyCounts) }

// longerPeriods are the statements appending the quarters and years of a
// rollup table, summed from its months (keys: the columns of the
// customer's key; list: the summed columns).
func longerPeriods(table, keys, list string) []string {
	var stmts []string
	// The years are summed from the quarters, half the rows of the
	// months or fewer.
	for _, k := range []struct {
		months, from int
		unit         string
	}{{3, 1, "quarter"}, {12, 3, "year"}} {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO %[1]s
	SELECT CAST(%[2]d AS TINYINT) AS months, CAST(date_trunc('%[3]s', pstart) AS DATE) AS pstart, %[5]s, %[4]s
	FROM %[1]s WHERE months = %[6]d GROUP BY ALL ORDER BY pstart`, table, k.months, k.unit, list, keys, k.from))
	}
	return stmts
}

// deriveFast rebuilds the fast path's tables from the data of the current
// generation, after the write that committed it (store.Derive): every
// table is committed on its own, so each statement scans committed tables
// on every thread, and the stamp, last, makes the snapshot published with
// it take the fast path. Until then answers take the plain path; a crash
// meanwhile leaves the stamp behind, and Open builds them again. A write
// that changed none of the datasets they read (a CLV fit) leaves them as
// they are.
func (e *Engine) deriveFast(ctx context.Context) error {
	if e.snap().fastCurrent {
		return nil // the write changed none of their datasets
	}
	return e.store.Derive(ctx, "build the fast path's tables", func(ctx context.Context, conn *sql.Conn) error {
		// Under the write lock the current snapshot is the committed data;
		// another write's build may have caught up with it meanwhile.
		stamp := fastStamp(e.snap().datasets)
		built, err := builtStamp(ctx, conn)
		if err != nil || built == stamp {
			return err
		}
		progressOf(ctx).Phase("indexing")
		if err := buildFastTables(ctx, conn, built, stamp, e.log); err != nil {
			return err
		}
		// Each statement committed on its own; one checkpoint folds them
		// into the file. Readers in flight may keep DuckDB from it: the
		// tables are committed all the same, and a later checkpoint (or
		// the one at close) folds them in.
		if _, err := conn.ExecContext(ctx, "CHECKPOINT"); err != nil {
			e.log.Debug("checkpoint after the fast path's tables", "err", err)
		}
		return nil
	})
}

// buildFastTables brings the fast path's tables built as stamped built
// up to stamp, and stamps them: all of them where the layout or the
// customers differ (every table carries the customers' keys), else those
// reading a dataset whose generation differs (staleDatasets). A build
// that stopped halfway left the stamp of the last whole one, so the next
// redoes what it had not finished. Each statement's time is logged at
// debug level: where an import's time goes.
func buildFastTables(ctx context.Context, conn *sql.Conn, built, stamp string, log *slog.Logger) error {
	stale, all := staleDatasets(built, stamp)
	stmts := slices.Concat(fastTables, dimTotalsStatements)
	if all {
		keys, err := keyStatements(ctx, conn)
		if err != nil {
			return err
		}
		stmts = slices.Concat(reading(nil, keys...), stmts, reading(nil, retiredDrops()...))
	}
	for _, st := range stmts {
		if !all && !slices.ContainsFunc(st.reads, func(d string) bool { return slices.Contains(stale, d) }) {
			continue
		}
		start := time.Now()
		if _, err := conn.ExecContext(ctx, st.sql); err != nil {
			return contextErr(ctx, err, "build the fast path's table "+tableOf(st.sql))
		}
		log.Debug("built a fast path table", "table", tableOf(st.sql), "elapsed", time.Since(start))
		store.CrashPoint("indexing")
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE fast_stamp AS SELECT ?::VARCHAR AS stamp", stamp); err != nil {
		return contextErr(ctx, err, "build the fast path's tables")
	}
	return nil
}

// retiredDrops are the statements dropping retiredTables.
func retiredDrops() []string {
	drops := make([]string, len(retiredTables))
	for i, t := range retiredTables {
		drops[i] = "DROP TABLE IF EXISTS " + t
	}
	return drops
}

// retiredTables are tables of earlier layouts that a build drops:
// fast_generation, the stamp of earlier builds; the event and survey
// rollups per calendar period, which fast_event_rows and
// fast_survey_days replaced; the events summed per customer and day; and
// the keyed tier assignments, which fast_tier_lists replaced.
var retiredTables = []string{"fast_generation", "fast_event_calendar", "fast_survey_calendar", "fast_event_days", "fast_tiers"}

// tableOf is the table a statement of fastTables creates or appends to.
func tableOf(stmt string) string {
	_, rest, found := strings.Cut(stmt, "TABLE ")
	if !found {
		_, rest, _ = strings.Cut(stmt, "INSERT INTO ")
	}
	return strings.Fields(rest + " ?")[0]
}

// fastLayout numbers the layout of the fast path's tables: a build that
// changes their columns increments it, so tables of another layout are
// rebuilt at open like stale ones.
const fastLayout = 53

// fastDatasets are the datasets the fast path's tables are built from.
var fastDatasets = []string{"customers", "orders", "events", "surveys", "tickets", "contracts"}

// fastStamp names what the fast path's tables are built from: their
// layout and the generation of each dataset they read.
func fastStamp(datasets map[string]*DatasetInfo) string {
	parts := []string{fmt.Sprintf("layout %d", fastLayout)}
	for _, kind := range fastDatasets {
		var gen int64
		if d := datasets[kind]; d != nil {
			gen = d.Generation
		}
		parts = append(parts, fmt.Sprintf("%s %d", kind, gen))
	}
	return strings.Join(parts, ", ")
}

// fastTablesCurrent tells whether the fast path's tables carry stamp.
func fastTablesCurrent(ctx context.Context, q store.Querier, stamp string) (bool, error) {
	built, err := builtStamp(ctx, q)
	return err == nil && built == stamp, err
}

// builtStamp is the stamp of the fast path's tables ("": none).
func builtStamp(ctx context.Context, q store.Querier) (string, error) {
	var stamp string
	exists, err := store.TableExists(ctx, q, "fast_stamp")
	if err == nil && exists {
		err = q.QueryRowContext(ctx, `SELECT stamp FROM fast_stamp`).Scan(&stamp)
	}
	if err != nil {
		return "", fmt.Errorf("fast tables: %w", err)
	}
	return stamp, nil
}

// staleDatasets are the datasets whose generation differs between two
// stamps (fastStamp's), the tables reading them to be rebuilt; all when
// the layout or the customers differ, or the first stamp is none or not
// one of this layout's.
func staleDatasets(built, stamp string) (stale []string, all bool) {
	was, is := stampParts(built), stampParts(stamp)
	if was["layout"] == "" || was["layout"] != is["layout"] || was["customers"] != is["customers"] {
		return nil, true
	}
	for _, kind := range fastDatasets {
		if _, ok := was[kind]; !ok {
			return nil, true
		}
		if was[kind] != is[kind] {
			stale = append(stale, kind)
		}
	}
	return stale, false
}

// stampParts reads a stamp's "name value" parts by name.
func stampParts(stamp string) map[string]string {
	parts := map[string]string{}
	for _, p := range strings.Split(stamp, ", ") {
		if name, value, ok := strings.Cut(p, " "); ok {
			parts[name] = value
		}
	}
	return parts
}

// fastValues are the scorecard values of the KPIs with a fast form, by
// name: the previous window's and the window's.
type fastValues map[string][2]*float64

// planFastScorecard plans the statement computing, sharing one scan of
// the orders, the window's and the previous window's value of every KPI
// among kpis with a fast form (kpi.PlanScorecard); nil when there is none
// or the caller asked for the plain path.
func (e *Engine) planFastScorecard(ctx context.Context, s *snapshot, kpis []*KPI, from, to time.Time) (*kpi.ScorecardStatement, error) {
	if plainOnly(ctx) || !s.fastCurrent {
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
	ok, err := e.pinnedStatement(ctx, s, func(ctx context.Context, conn *sql.Conn) error {
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
