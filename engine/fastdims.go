package engine

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"custkpi/kpi"
	"custkpi/store"
)

// The order sums, survey and event counts, history sums, calendar
// activity and ticket counts per day (or calendar period) and combination
// of the customers' few-valued dimensions, and some per calendar period
// and finer combination (fast_order_calendar_fine,
// fast_event_calendar_fine, fast_score_calendar_fine,
// fast_calendar_activity_fine, fast_history_ends_fine: kpi's fineSources,
// for whole calendar periods by an age; groupsums.go) (fast_dim_combos,
// fast_order_totals_by, fast_survey_totals_by, fast_event_totals_by,
// fast_score_days_by, fast_history_per_day_by, fast_suspect_per_day_by,
// fast_calendar_activity_by, fast_ticket_totals_by, fast_ticket_hours_by):
// revenue, orders, AOV, profit, on-time delivery, returns, NPS, CSAT, the
// email and social rates, CSI, recency, suspected churn, historic CLV, new
// customers, resolution rate and hours, and churn, retention, active
// customers, purchase frequency, repeat purchase and complaint rate of
// calendar periods, by region (or segment, or any dimension
// of at most maxComboValues values) then read a row per day (or period)
// and combination instead of a row per customer: the planner groups them
// by the combination's dimensions as it groups customers by theirs (kpi's
// combo rows). Summed over the combinations, they are the tables of
// everyone's sums (fast_order_totals, fast_history_per_day, ...), which
// are built from them.

// maxComboValues bounds the distinct values of a dimension in the
// combinations, and maxCombos their number: a dimension with more (a
// signup date, an age) is left out, and the rest stay few.
const (
	// comboNone is the struct's one field when no dimension qualifies (a
	// struct has at least one).
	comboNone      = "__none"
	maxComboValues = 64
	maxCombos      = 4096
	// maxFineValues and maxFine bound the finer combinations
	// (fast_dim_fine), which only the per-customer rows carry (fine): a
	// request grouped by their dimensions (an age) reads its rows'
	// values from a few thousand combinations rather than joining every
	// customer's key.
	maxFineValues = 256
	maxFine       = 65535
	// maxWideValues and maxWide bound the wide dimensions (fast_dim_wide):
	// those left out of the finer combinations with at most
	// maxWideValues values (a signup date), fewest first, at most maxWide
	// of them. Each has its own sums per calendar period and value
	// (fast_*_wide, wideGroups): the signup date's took 4.8 s of the 1M
	// demo import's statements. Beside them, as many dimensions of the
	// finer combinations left out of the coarser ones (an age) have the
	// sums no finer combinations add up to (the top fifths,
	// wideTopGroups), of calendar months alone, and so do the coarser
	// ones (a region), up to maxTopOnly in all: at 1M demo customers
	// the five top-only dimensions' took 1.2-2.4 s (fast_fine_wide), and
	// served the top-20% share by region and month over 2024 in 5 ms
	// where it took 183-246 ms, customer profitability in 6 against 60.
	maxWideValues = kpi.WideKeyFactor - 1
	maxWide       = 2
	maxTopOnly    = 6
)

// orderSums sums the order columns of fast_order_days (or of a table of
// its sums), keeping the counts BIGINT.
const orderSums = `CAST(sum(orders) AS BIGINT) AS orders, CAST(sum(returned) AS BIGINT) AS returned,
		       sum(amount) AS amount, CAST(sum(costed) AS BIGINT) AS costed, sum(costed_amount) AS costed_amount, sum(profit) AS profit,
		       CAST(sum(delivery_known) AS BIGINT) AS delivery_known, CAST(sum(on_time) AS BIGINT) AS on_time`

// keyStatements build fast_dim_combos (an integer key, ckey, per
// combination of the values of the dimensions of at most maxComboValues
// values, and those values as the struct dims, like fast_customer_keys'),
// fast_dim_fine (the same of the dimensions of at most maxFineValues
// values), and then fast_customer_keys, each customer's key with their
// combination's (combo) and their finer combination's (fine), which the
// per-customer tables carry on: their sums per combination are then
// grouped without a join, and their rows grouped by the finer
// combinations' dimensions join those, not every customer's key. Then
// the wide dimensions' values and codes (wideStatements), and the tiers'
// (tiersTable).
func keyStatements(ctx context.Context, conn *sql.Conn) ([]string, error) {
	counts, err := dimensionCounts(ctx, conn)
	if err != nil {
		return nil, err
	}
	coarse, fine := counts.choose(maxComboValues, maxCombos), counts.choose(maxFineValues, maxFine)
	wide, top := counts.wide(fine)
	// The keys are numbered in a window over the customer_ids alone, then
	// joined to the customers' rows: the window's output is written on
	// one thread, so numbering whole rows took 2.3–2.7 s at a million
	// customers, and into a temporary table copied after 1.1–1.3 s,
	// against 0.77–0.81 s this way.
	numbered := `JOIN (SELECT customer_id, CAST(row_number() OVER (ORDER BY customer_id) AS INTEGER) AS ckey FROM customers) n USING (customer_id)`
	return slices.Concat([]string{
		combinationsTable("fast_dim_combos", coarse),
		combinationsTable("fast_dim_fine", fine),
		`CREATE OR REPLACE TABLE fast_customer_keys AS
	SELECT n.ckey, d.customer_id, d AS dims, c.ckey AS combo, f.ckey AS fine FROM customer_dims() d ` + numbered +
			combinationJoin("fast_dim_combos c", "c", coarse) + combinationJoin("fast_dim_fine f", "f", fine),
	}, wideStatements(wide, top), []string{tiersTable}), nil
}

// wideStatements build fast_dim_wide, a row per value of each wide
// dimension (dims, then the top-only ones, the i-th numbered i from 1):
// its key (ckey: i times kpi.WideKeyFactor plus the value's position in
// their order, nulls as one value) and the value in the struct dims (the
// other dimensions' fields null), and fast_wide_codes, a row per
// dimension (dimension: i; summed: one of dims, whose every sum is kept)
// with, of those, each customer's value's key at their key (codes): a request by
// the dimension then reads its sums per value (kpi's wideRollup) and
// names each row's value from the list of the values at their
// positions. The codes are read as the tiers' are (tiersTable). And
// fast_fine_wide, a row per finer combination and top-only dimension:
// the key of its value (wkey), which a top-only dimension's sums read
// (wideTopGroups).
func wideStatements(dims, top []string) []string {
	all := slices.Concat(dims, top)
	fineKeys := []string{"SELECT CAST(NULL AS INTEGER) AS fine, CAST(NULL AS INTEGER) AS wkey WHERE false"}
	if len(all) == 0 {
		return []string{
			`CREATE OR REPLACE TABLE fast_dim_wide AS SELECT CAST(NULL AS INTEGER) AS ckey, struct_pack(` + comboNone + ` := NULL::VARCHAR) AS dims LIMIT 0`,
			`CREATE OR REPLACE TABLE fast_wide_codes (dimension INTEGER, summed BOOLEAN, codes INTEGER[])`,
			"CREATE OR REPLACE TABLE fast_fine_wide AS " + fineKeys[0],
		}
	}
	values, codes := make([]string, len(all)), make([]string, len(all))
	for i, d := range all {
		fields := make([]string, len(all))
		for j, other := range all {
			value := "NULL"
			if j == i {
				value = "v"
			}
			fields[j] = store.QuoteIdent(other) + " := " + value
		}
		q := store.QuoteIdent(d)
		values[i] = fmt.Sprintf(`SELECT CAST(%d * %d + row_number() OVER (ORDER BY v) AS INTEGER) AS ckey, struct_pack(%s) AS dims
		FROM (SELECT DISTINCT dims.%s AS v FROM fast_customer_keys)`, i+1, kpi.WideKeyFactor, strings.Join(fields, ", "), q)
		if i < len(dims) {
			codes[i] = fmt.Sprintf(`SELECT CAST(%[1]d AS INTEGER) AS dimension, true AS summed, list(w.ckey ORDER BY k.ckey) AS codes
		FROM fast_customer_keys k JOIN fast_dim_wide w ON w.ckey // %[2]d = %[1]d AND w.dims.%[3]s IS NOT DISTINCT FROM k.dims.%[3]s`,
				i+1, kpi.WideKeyFactor, q)
			continue
		}
		// A top-only dimension's sums read its values' keys per finer
		// combination, not per customer.
		codes[i] = fmt.Sprintf("SELECT CAST(%d AS INTEGER) AS dimension, false AS summed, NULL::INTEGER[] AS codes", i+1)
		fineKeys = append(fineKeys, fmt.Sprintf(`SELECT f.ckey AS fine, w.ckey AS wkey
		FROM fast_dim_fine f JOIN fast_dim_wide w ON w.ckey // %[2]d = %[1]d AND w.dims.%[3]s IS NOT DISTINCT FROM f.dims.%[3]s`,
			i+1, kpi.WideKeyFactor, q))
	}
	return []string{
		"CREATE OR REPLACE TABLE fast_dim_wide AS " + strings.Join(values, "\n\t\tUNION ALL ") + " ORDER BY ckey",
		"CREATE OR REPLACE TABLE fast_wide_codes AS " + strings.Join(codes, "\n\t\tUNION ALL ") + " ORDER BY dimension",
		"CREATE OR REPLACE TABLE fast_fine_wide AS " + strings.Join(fineKeys, "\n\t\tUNION ALL ") + " ORDER BY fine",
	}
}

// tiersTable builds fast_tier_lists, a row per evaluation: its tiers
// (sorted) and, at each customer key, the position of the customer's
// tier among them (codes; null without one). A request by a tier then
// reads each keyed row's tier at its key, where it joined the keyed
// assignments (fast_tiers, before) or keyed its rows back to their
// customer_ids to join the assignments (before that): at 1M customers
// over calendar 2024 by month by the lifecycle tiers, revenue took 84-93
// ms against 116-128 ms joined to the keyed assignments, email open rate
// 167-185 ms against 232-263 (NPS over 2024-02-15..2024-11-20: 50-53 ms
// joined to them, 162-178 ms by customer_id). An evaluation adds its own
// row as it stores its assignments (addKeyedTiers).
const tiersTable = `CREATE OR REPLACE TABLE fast_tier_lists AS
	SELECT e.evaluation, e.tiers, ` + tierCodes + `
	FROM (SELECT evaluation, list(DISTINCT tier ORDER BY tier) AS tiers FROM tier_assignments GROUP BY evaluation) e
	CROSS JOIN fast_customer_keys k
	LEFT JOIN tier_assignments a ON a.evaluation = e.evaluation AND a.customer_id = k.customer_id
	GROUP BY e.evaluation, e.tiers ORDER BY e.evaluation`

// tierCodes is the list of the customers' tiers' positions in tiers (e),
// in key order (k: fast_customer_keys, a: their assignments). A rule set
// has at most rules.MaxRules + 1 tiers: a UTINYINT holds the position.
const tierCodes = `list(CAST(list_position(e.tiers, a.tier) AS UTINYINT) ORDER BY k.ckey) AS codes`

// addKeyedTiers adds an evaluation's assignments (in table) to
// fast_tier_lists, keyed, in the evaluation's write, so that the two stay
// whole together. (Keys of other customers, whose build is yet to run,
// are rebuilt with fast_tier_lists by it.)
func addKeyedTiers(ctx context.Context, conn *sql.Conn, evaluation int64, table string) error {
	_, err := conn.ExecContext(ctx, `INSERT INTO fast_tier_lists
		SELECT ?, e.tiers, `+tierCodes+`
		FROM (SELECT list(DISTINCT tier ORDER BY tier) AS tiers FROM `+table+`) e
		CROSS JOIN fast_customer_keys k LEFT JOIN `+table+` a USING (customer_id)
		GROUP BY e.tiers`, evaluation)
	return err
}

// combinationsTable is the statement building a table of combinations of
// the dimensions' values (of customer_dims()), numbered in the order of
// their values (nulls as one value each): its key (ckey) and the values
// as the struct dims, like fast_customer_keys'; one combination of
// everyone when there is no dimension (a struct has a field at least).
func combinationsTable(table string, dims []string) string {
	if len(dims) == 0 {
		return `CREATE OR REPLACE TABLE ` + table + ` AS SELECT CAST(1 AS INTEGER) AS ckey, struct_pack(` + comboNone + ` := NULL::VARCHAR) AS dims`
	}
	cols, fields := make([]string, len(dims)), make([]string, len(dims))
	for i, d := range dims {
		cols[i] = store.QuoteIdent(d)
		fields[i] = cols[i] + " := " + cols[i]
	}
	return `CREATE OR REPLACE TABLE ` + table + ` AS
		SELECT CAST(row_number() OVER (ORDER BY ` + strings.Join(cols, ", ") + `) AS INTEGER) AS ckey, struct_pack(` + strings.Join(fields, ", ") + `) AS dims
		FROM (SELECT DISTINCT ` + strings.Join(cols, ", ") + ` FROM customer_dims())
		ORDER BY ckey`
}

// combinationJoin joins a customer's row of customer_dims() (d) to their
// combination of the dimensions in table (as alias).
func combinationJoin(table, alias string, dims []string) string {
	if len(dims) == 0 {
		return " CROSS JOIN " + table
	}
	same := make([]string, len(dims))
	for i, d := range dims {
		q := store.QuoteIdent(d)
		same[i] = alias + ".dims." + q + " IS NOT DISTINCT FROM d." + q
	}
	return " JOIN " + table + " ON " + strings.Join(same, " AND ")
}

// dimTotalsStatements build, after the per-customer tables,
// fast_order_totals_by (the sums of fast_order_days per day and
// combination, sorted by day), fast_order_totals (their sums per day),
// fast_survey_totals_by and fast_event_totals_by (the sums of
// fast_survey_days and fast_event_rows per day and combination) and
// their sums per day (fast_survey_day_totals, fast_event_day_totals),
// fast_score_days_by, fast_history_per_day_by,
// fast_suspect_per_day_by, fast_calendar_activity_by, from each of the
// last four its sums over the combinations, and from fast_ticket_rows
// fast_ticket_totals_by (with its sums per day, fast_ticket_day_totals)
// and fast_ticket_hours_by.
// suspectMultiplier is suspected_churn_rate v1's default cycle_multiplier,
// which fast_suspect_per_day_by is built with (its fast form reading
// them serves only that default; a test holds the two equal).
const suspectMultiplier = 2.0

// responseQuantiles are the quantiles of the first-response hours kept
// per calendar period (fast_ticket_hour_quantiles): first_response_hours_p50
// and _p90's, which their fast forms read (the property tests compare
// them with the definitions; TestResponseQuantilesBuilt holds every q
// such a form reads among these).
const responseQuantiles = "[0.5, 0.9]"

// hourBuckets is how many buckets of equal counts the first-response
// hours are cut into (fast_ticket_hours_bucketed): a quantile sorts one
// or two of them, a 64th of a period's tickets each, after counting
// its tickets per day and bucket, 64 rows a day at most. At 1M demo
// customers by quarter over 2023, 32 and 128 took as long.
const hourBuckets = 64

var dimTotalsStatements = slices.Concat(reading(fromOrders,
	`CREATE OR REPLACE TABLE fast_order_totals_by AS
		SELECT day, combo AS ckey, `+orderSums+`
		FROM fast_order_days GROUP BY day, combo ORDER BY day`,
	// Everyone's sums per day: the combinations', far fewer rows than
	// the customers'.
	`CREATE OR REPLACE TABLE fast_order_totals AS
		SELECT day, `+orderSums+` FROM fast_order_totals_by GROUP BY day ORDER BY day`),
	// The same per calendar period and finer combination: the sums of
	// orders of whole calendar periods by an age (fineSources).
	reading(fromOrders, orderGroupSums(fineGroups)...),
	// The survey counts and the email and social counts of
	// fast_survey_days and fast_event_rows, per day and combination:
	// NPS, CSAT and the engagement rates of everyone or by such
	// dimensions.
	reading(fromSurveys, dayTotals("fast_survey_totals_by", "fast_survey_days", rollupSums(surveyCounts)),
		allTotals("fast_survey_day_totals", "fast_survey_totals_by", rollupSums(surveyCounts))),
	// The same per calendar period and finer combination: NPS and the
	// CSAT KPIs of whole calendar periods by an age (fineSources).
	reading(fromSurveys, surveyGroupSums(fineGroups)...),
	reading(fromEvents, dayTotals("fast_event_totals_by", "fast_event_rows", columnSums(eventCountNames())),
		allTotals("fast_event_day_totals", "fast_event_totals_by", columnSums(eventCountNames()))),
	// The same per calendar period and finer combination: the
	// engagement rates of whole calendar periods by an age (fineSources).
	reading(fromEvents, eventGroupSums(fineGroups)...),
	// The surveys with their customer's key, combination and finer one
	// (names no surveys column takes), for the tables below and the
	// wide dimensions' and tiers' score sums (dropped after them).
	reading(fromSurveys, slices.Concat([]string{surveyKeysTable,
		// The number of each (attribute, score) of the surveys' score_*
		// columns per day and combination (csi by such dimensions), and
		// per day (fast_score_days, csi of everyone): unpivoted as csi's
		// definition unpivots them.
		`CREATE OR REPLACE TABLE fast_score_days_by AS
		SELECT CAST(s.survey_date AS DATE) AS day, s.__combo AS ckey, s.attribute, s.score, CAST(count(*) AS BIGINT) AS n
		FROM (UNPIVOT (SELECT survey_date, __combo, COLUMNS('^score_') FROM fast_survey_combo)
		      ON COLUMNS('^score_') INTO NAME attribute VALUE score) s
		WHERE s.attribute <> 'score__placeholder'
		GROUP BY ALL ORDER BY day`,
		`CREATE OR REPLACE TABLE fast_score_days AS
		SELECT day, attribute, score, CAST(sum(n) AS BIGINT) AS n FROM fast_score_days_by GROUP BY ALL ORDER BY day`},
		// The same per calendar period and finer combination: csi of
		// whole calendar periods by an age (fineSources).
		scoreGroupSums(fineGroups))...),
	// Per day and combination: how many customers made their first
	// completed order that day (firsts), the days since their
	// previous order day summed over the others (gap_days), and the
	// revenue; then the same per day, of every customer.
	reading(fromOrders, `CREATE OR REPLACE TABLE fast_history_per_day_by AS
		SELECT day, combo AS ckey, CAST(count(*) FILTER (WHERE gap IS NULL) AS BIGINT) AS firsts,
		       CAST(coalesce(sum(gap), 0) AS BIGINT) AS gap_days, sum(amount) AS amount
		FROM (`+orderDayGaps("combo", "fast_customer_days")+`)
		GROUP BY day, combo ORDER BY day`,
		`CREATE OR REPLACE TABLE fast_history_per_day AS
		SELECT day, CAST(sum(firsts) AS BIGINT) AS firsts, CAST(sum(gap_days) AS BIGINT) AS gap_days, sum(amount) AS amount
		FROM fast_history_per_day_by GROUP BY day ORDER BY day`,
		// Per day and combination, for suspected churn at any end with its
		// default multiplier (suspectChanges); then the same per day, of
		// every customer.
		`CREATE OR REPLACE TABLE fast_suspect_per_day_by AS
		SELECT day, combo AS ckey, CAST(sum(eligible) AS BIGINT) AS eligible, CAST(sum(flagged) AS BIGINT) AS flagged
		FROM (`+suspectChanges("combo", "fast_customer_days")+`)
		GROUP BY day, combo ORDER BY day`,
		`CREATE OR REPLACE TABLE fast_suspect_per_day AS
		SELECT day, CAST(sum(eligible) AS BIGINT) AS eligible, CAST(sum(flagged) AS BIGINT) AS flagged
		FROM fast_suspect_per_day_by GROUP BY day ORDER BY day`,
		historyEnds(fineGroups)),
	// Per calendar period and finer combination: the customers with
	// completed orders in it (active), in the period before of its
	// kind (prev_active) and in both (retained), for a period with
	// orders or after one; of the active ones, their completed
	// orders, how many have two or more (repeaters) and how many
	// opened a complaint in the period (complainers); then the same
	// per period and combination, and per period, of every customer.
	// A customer's combinations are the same in both periods.
	//
	// The combinations' counts are summed from the finer ones': each
	// finer combination is in one combination, as its dimensions are
	// the combinations' and more (choose takes the fewest-valued first).
	// At 1M demo customers the finer counts take 1.3 s and the sums
	// 0.04 s, where the combinations' took 0.8 s counted on their own.
	reading(fromOrdersAndTickets, slices.Concat([]string{calendarActiveTable}, activityGroupSums(fineGroups), []string{
		`CREATE OR REPLACE TABLE fast_calendar_activity_by AS
		SELECT a.months, a.pstart, m.combo AS ckey, ` + activitySums + `
		FROM fast_calendar_activity_fine a JOIN (SELECT DISTINCT fine, combo FROM fast_customer_keys) m ON m.fine = a.ckey
		GROUP BY a.months, a.pstart, m.combo ORDER BY a.months, a.pstart`,
		`CREATE OR REPLACE TABLE fast_calendar_activity AS
		SELECT months, pstart, ` + activitySums + `
		FROM fast_calendar_activity_by GROUP BY months, pstart ORDER BY months, pstart`})...),
	// The same sums per calendar period and value of each wide
	// dimension (a signup date), and per tier of each rule set's latest
	// evaluation (tierSumStatements).
	wideSumStatements(),
	tierSumStatements(tiersOfLatest),
	// Built with the finer combinations' score sums, fast_survey_combo
	// served the wide dimensions' and the tiers' too.
	reading(fromSurveys, `DROP TABLE fast_survey_combo`),
	// Per day and combination, the tickets opened, how many of them are
	// resolved, and the hours to resolution summed and counted: the
	// resolution rate and the mean resolution hours at any window.
	reading(fromTickets, `CREATE OR REPLACE TABLE fast_ticket_totals_by AS
	SELECT day, combo AS ckey,
	       CAST(count(ticket_id) AS BIGINT) AS tickets,
	       CAST(count(*) FILTER (WHERE resolved) AS BIGINT) AS resolved,
	       sum(resolution_hours) AS resolution_hours,
	       CAST(count(resolution_hours) AS BIGINT) AS resolution_count
	FROM fast_ticket_rows
	GROUP BY day, combo ORDER BY day`,
		allTotals("fast_ticket_day_totals", "fast_ticket_totals_by", ticketSums),
		// The hours to first response of each ticket with one, with its day
		// and combination: its quantiles (first-response hours) at any
		// window, of everyone or by such dimensions, from a row per ticket
		// without a join to the customers.
		`CREATE OR REPLACE TABLE fast_ticket_hours_by AS
	SELECT day, combo AS ckey, response_hours AS hours
	FROM fast_ticket_rows WHERE response_hours IS NOT NULL
	ORDER BY day`,
		// The same hours cut into hourBuckets buckets of equal counts
		// in their order over every ticket (so each bucket's hours are
		// at least those of the buckets below: ties may straddle a cut),
		// sorted by bucket, and how many of each day's tickets fall in
		// each: a quantile of everyone's at any window counts its
		// period's tickets per bucket to find the one or two holding
		// its ranks, then sorts only theirs (kpi's
		// fast_response_buckets and fast_response_bucketed), where
		// DuckDB's quantile sorts every ticket of the period.
		`CREATE OR REPLACE TABLE fast_ticket_hours_bucketed AS
	SELECT CAST((row_number() OVER (ORDER BY hours) - 1) * `+strconv.Itoa(hourBuckets)+` // count(*) OVER () AS INTEGER) AS bucket, day, hours
	FROM fast_ticket_hours_by
	ORDER BY bucket`,
		`CREATE OR REPLACE TABLE fast_ticket_hour_buckets AS
	SELECT day, bucket, CAST(count(*) AS BIGINT) AS n
	FROM fast_ticket_hours_bucketed GROUP BY day, bucket ORDER BY day`,
		// The first-response KPIs' quantiles of each calendar month (months
		// 1), quarter (3) and year (12), as their definitions compute
		// them: those of whole calendar periods of everyone are read, not
		// computed per request (kpi's fast_response_quantiles).
		`CREATE OR REPLACE TABLE fast_ticket_hour_quantiles AS
	SELECT months, pstart, unnest(`+responseQuantiles+`::DOUBLE[]) AS q, unnest(hours) AS hours
	FROM (SELECT CAST(k.months AS TINYINT) AS months, CAST(date_trunc(k.grain, h.day) AS DATE) AS pstart,
	             quantile_cont(h.hours, `+responseQuantiles+`::DOUBLE[]) AS hours
	      FROM fast_ticket_hours_by h, (VALUES (1, 'month'), (3, 'quarter'), (12, 'year')) k(months, grain)
	      GROUP BY ALL)
	ORDER BY months, pstart`),
	// The tickets' sums per calendar period and finer combination: the
	// resolution rate and mean resolution hours of whole calendar periods
	// by an age (fineSources).
	reading(fromTickets, ticketGroupSums(fineGroups)...),
)

// historyEnds builds the history ends of the groups g keys
// (fast_history_ends_fine of the finer combinations, or the tiers'):
// per first of a month (pend) and group, the state of the history-wide
// KPIs there, for whole calendar periods by an age or a tier (kpi's
// fineSources), where each customer's history is otherwise filtered per
// period (recency, historic CLV and suspected churn by age by month over
// 2024 at 1M customers: 1.2-1.8 s). Summed up to each end, over a row
// per month from the first with an order to the month after the last
// change (a later end reads the last), of the groups with customers
// there: the customers with a completed order before it, their first
// days' and gaps' day numbers summed (their days since their last order
// before the end are the end's day number less those), their revenue,
// and the customers eligible and flagged for suspected churn at its
// default multiplier (the month sums of the changes fast_suspect_per_day_by
// sums, per group). Per finer combination at 1M demo customers: 1.7-1.8
// s, 250k rows. (The day rows and the changes are
// those of the combinations' tables, fast_history_per_day_by and
// fast_suspect_per_day_by, keyed by the finer combination: summing the
// history's per day and finer combination first, then those per
// combination and per month, took 1.5 s at 1M demo customers against
// 1.3 s for the two tables summed on their own.)
func historyEnds(g groupKeys) string {
	days := g.keyed("fast_customer_days", "ckey", "fine")
	return createTable(g.table("fast_history_ends")) + ` AS
	WITH history AS (
	  SELECT CAST(date_trunc('month', day) AS DATE) AS pstart, fine AS ckey,
	         count(*) FILTER (WHERE gap IS NULL) AS firsts,
	         coalesce(sum(date_diff('day', DATE '1970-01-01', day)) FILTER (WHERE gap IS NULL), 0) AS first_days,
	         coalesce(sum(gap), 0) AS gap_days, sum(amount) AS amount
	  FROM (` + orderDayGaps("fine", days) + `)
	  GROUP BY ALL),
	suspect AS (
	  SELECT CAST(date_trunc('month', day) AS DATE) AS pstart, fine AS ckey, sum(eligible) AS eligible, sum(flagged) AS flagged
	  FROM (` + suspectChanges("fine", days) + `)
	  GROUP BY ALL),
	months AS (
	  SELECT CAST(unnest(range(min(pstart), max(pstart) + INTERVAL 1 MONTH, INTERVAL 1 MONTH)) AS DATE) AS pstart
	  FROM (SELECT pstart FROM history UNION ALL SELECT pstart FROM suspect)),
	running AS (
	  SELECT m.pstart, f.ckey,
	         sum(coalesce(h.firsts, 0)) OVER w AS customers, sum(coalesce(h.first_days, 0)) OVER w AS first_days,
	         sum(coalesce(h.gap_days, 0)) OVER w AS gap_days, sum(coalesce(h.amount, 0)) OVER w AS amount,
	         sum(coalesce(s.eligible, 0)) OVER w AS eligible, sum(coalesce(s.flagged, 0)) OVER w AS flagged
	  FROM months m CROSS JOIN ` + g.all + ` f
	  LEFT JOIN history h ON h.pstart = m.pstart AND h.ckey = f.ckey
	  LEFT JOIN suspect s ON s.pstart = m.pstart AND s.ckey = f.ckey
	  WINDOW w AS (PARTITION BY f.ckey ORDER BY m.pstart))
	SELECT CAST(pstart + INTERVAL 1 MONTH AS DATE) AS pend, ckey, CAST(customers AS BIGINT) AS customers,
	       CAST(first_days AS BIGINT) AS first_days, CAST(gap_days AS BIGINT) AS gap_days, amount,
	       CAST(eligible AS BIGINT) AS eligible, CAST(flagged AS BIGINT) AS flagged
	FROM running WHERE customers > 0 ORDER BY pend`
}

// orderDayGaps are the rows of every customer's completed order days
// (the lists of fast_customer_days, or of days, a relation of its rows
// keyed by a group), with the column key of theirs (combo, or fine): each
// day, its revenue and the days since their previous order day (gap;
// null on their first).
func orderDayGaps(key, days string) string {
	return `SELECT ` + key + `, unnest(days) AS day, unnest(amounts) AS amount,
	               unnest(list_transform(days, lambda d, i: CASE WHEN i > 1 THEN date_diff('day', days[i - 1], d) END)) AS gap
	        FROM ` + days
}

// suspectChanges are the rows of suspected churn's changes at its default
// multiplier (suspectMultiplier), with the column key of the customer's
// (combo, or fine) in days (as orderDayGaps'): on a day, whether the customer becomes eligible at
// an end after it (their third order day), and the change in whether
// they are flagged at an end after it. From a customer's j-th day d (j
// >= 3) until their next, at an end e, d is their last day and m,
// median_gaps[j], their median gap: flagged when e - d > multiplier * m,
// that is when e > d + floor(multiplier * m) (flag_day), so +1 on
// flag_day and -1 on the next day, where flag_day is before it (or there
// is none). Summed over the days before an end, they are the eligible
// and flagged customers there.
func suspectChanges(key, days string) string {
	return fmt.Sprintf(`WITH spans AS MATERIALIZED (
		  SELECT %[1]s, j, days[j] AS day, days[j] + CAST(floor(%[2]v * median_gaps[j]) AS INTEGER) AS flag_day, days[j + 1] AS next_day
		  FROM (SELECT %[1]s, days, median_gaps, unnest(range(3, n_days + 1)) AS j
		        FROM %[3]s WHERE n_days >= 3))
		SELECT %[1]s, day, 1 AS eligible, 0 AS flagged FROM spans WHERE j = 3
		UNION ALL SELECT %[1]s, flag_day, 0, 1 FROM spans WHERE next_day IS NULL OR flag_day < next_day
		UNION ALL SELECT %[1]s, next_day, 0, -1 FROM spans WHERE flag_day < next_day`, key, suspectMultiplier, days)
}

// activitySums are the sums of fast_calendar_activity_fine's counts (or
// of a table of their sums), kept BIGINT.
var activitySums = columnSums([]string{"active", "prev_active", "retained", "orders", "repeaters", "complainers"})

// dayTotals is the statement summing a table of rows by day and customer
// key (keyedDays', or fast_event_rows) per day and combination: sums is
// the select list of the sums.
// allTotals is the statement building table, the sums of from (a table
// per day and combination) per day over every combination: what a
// request of everyone reads, a row per day (at 1M customers over
// 2023-07-15..2024-03-10, CSAT's statement took 1.4–1.9 ms against
// 1.9–2.9 ms over the combinations' rows).
func allTotals(table, from, sums string) string {
	return `CREATE OR REPLACE TABLE ` + table + ` AS
		SELECT day, ` + sums + ` FROM ` + from + ` GROUP BY day ORDER BY day`
}

// ticketSums are the sums of fast_ticket_totals_by's columns.
const ticketSums = `CAST(sum(tickets) AS BIGINT) AS tickets, CAST(sum(resolved) AS BIGINT) AS resolved,
		       sum(resolution_hours) AS resolution_hours, CAST(sum(resolution_count) AS BIGINT) AS resolution_count`

func dayTotals(table, from, sums string) string {
	return `CREATE OR REPLACE TABLE ` + table + ` AS
		SELECT day, combo AS ckey, ` + sums + `
		FROM ` + from + ` GROUP BY day, combo ORDER BY day`
}

// dimensionValues are the customer dimensions (columns of
// customer_dims(), as fast_customer_keys' dims) and how many distinct
// values each has, null counted as one.
type dimensionValues struct {
	names  []string
	counts []int64
}

// dimensionCounts counts the customer dimensions' values (a null counted
// as one value), into fast_dim_counts too: the result-size check reads
// them there rather than counting a dimension's values over every
// customer in each process (at 1M customers, a signup date's took 55 ms
// of a one-shot request by it, reading the column cold).
func dimensionCounts(ctx context.Context, conn *sql.Conn) (dimensionValues, error) {
	names, err := store.Strings(ctx, conn, "SELECT column_name FROM (DESCRIBE SELECT * FROM customer_dims()) WHERE column_name <> 'customer_id'")
	if err != nil {
		return dimensionValues{}, fmt.Errorf("dimensions of the combinations: %w", err)
	}
	exprs := make([]string, len(names))
	for i, n := range names {
		exprs[i] = fmt.Sprintf("count(DISTINCT %[1]s) + coalesce(max(CASE WHEN %[1]s IS NULL THEN 1 ELSE 0 END), 0) AS %[1]s", store.QuoteIdent(n))
	}
	build := "CREATE OR REPLACE TABLE fast_dim_counts (name VARCHAR, n BIGINT)"
	if len(names) > 0 {
		build = "CREATE OR REPLACE TABLE fast_dim_counts AS SELECT name, CAST(n AS BIGINT) AS n FROM (UNPIVOT (SELECT " +
			strings.Join(exprs, ", ") + " FROM customer_dims()) ON COLUMNS(*) INTO NAME name VALUE n)"
	}
	if _, err := conn.ExecContext(ctx, build); err != nil {
		return dimensionValues{}, fmt.Errorf("dimensions of the combinations: %w", err)
	}
	byName, err := loadDimensionCounts(ctx, conn)
	if err != nil {
		return dimensionValues{}, err
	}
	counts := make([]int64, len(names))
	for i, n := range names {
		counts[i] = byName[n]
	}
	return dimensionValues{names: names, counts: counts}, nil
}

// loadDimensionCounts reads fast_dim_counts: each customer dimension's
// number of values.
func loadDimensionCounts(ctx context.Context, q querier) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, "SELECT name, n FROM fast_dim_counts")
	if err != nil {
		return nil, fmt.Errorf("the dimensions' value counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("the dimensions' value counts: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}

// choose picks the dimensions of at most maxValues values, fewest first,
// as many as keep the product of their counts (a bound on their
// combinations) within maxProduct.
func (v dimensionValues) choose(maxValues, maxProduct int64) []string {
	names, ns := slices.Clone(v.names), slices.Clone(v.counts)
	var chosen []string
	combos := int64(1)
	for len(names) > 0 {
		best := -1
		for i := range names {
			if ns[i] <= maxValues && (best < 0 || ns[i] < ns[best]) {
				best = i
			}
		}
		if best < 0 || combos*max(ns[best], 1) > maxProduct {
			break
		}
		combos *= max(ns[best], 1)
		chosen = append(chosen, names[best])
		names = slices.Delete(names, best, best+1)
		ns = slices.Delete(ns, best, best+1)
	}
	return chosen
}

// wide picks the wide dimensions: of those not in fine, the ones of at
// most maxWideValues values, fewest first, at most maxWide of them; and
// the top-only ones: those in fine (the coarse ones among them: a
// region's top fifth is no sum of its combinations'), fewest first, at most
// maxTopOnly. No identifier (a referrer's id), which no request is
// grouped by.
func (v dimensionValues) wide(fine []string) (wide, top []string) {
	for i, n := range v.names {
		switch {
		case kpi.IsIdentifier(n):
		case slices.Contains(fine, n):
			top = append(top, n)
		case v.counts[i] <= maxWideValues:
			wide = append(wide, n)
		}
	}
	fewest := func(a, b string) int {
		return cmp.Compare(v.counts[slices.Index(v.names, a)], v.counts[slices.Index(v.names, b)])
	}
	slices.SortStableFunc(wide, fewest)
	slices.SortStableFunc(top, fewest)
	return wide[:min(len(wide), maxWide)], top[:min(len(top), maxTopOnly)]
}

// wideDimensions are the wide dimensions (fast_dim_wide's, in order),
// and of them the top-only ones.
func wideDimensions(ctx context.Context, q querier) (all, top []string, err error) {
	if all, err = combinationColumns(ctx, q, "fast_dim_wide"); err != nil {
		return nil, nil, err
	}
	numbers, err := store.Strings(ctx, q, "SELECT CAST(dimension AS VARCHAR) FROM fast_wide_codes WHERE NOT summed ORDER BY dimension")
	if err != nil {
		return nil, nil, fmt.Errorf("load state: the top-only wide dimensions: %w", err)
	}
	for _, n := range numbers {
		i, err := strconv.Atoi(n)
		if err != nil || i < 1 || i > len(all) {
			return nil, nil, fmt.Errorf("load state: wide dimension %q of %d", n, len(all))
		}
		top = append(top, all[i-1])
	}
	return all, top, nil
}

// combinationColumns are the dimensions a table of combinations
// (fast_dim_combos, fast_dim_fine; or the wide dimensions',
// fast_dim_wide) holds.
func combinationColumns(ctx context.Context, q querier, table string) ([]string, error) {
	cols, err := store.Strings(ctx, q, "SELECT column_name FROM (DESCRIBE SELECT dims.* FROM "+table+") WHERE column_name <> ?", comboNone)
	if err != nil {
		return nil, fmt.Errorf("load state: the dimensions of %s: %w", table, err)
	}
	return cols, nil
}
