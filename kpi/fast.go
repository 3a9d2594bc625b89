package kpi

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"custkpi/queries"
)

// The fast path. A KPI version with a fast form (queries.Fast) is computed
// from shared sources built for the request's periods at once, rather
// than from its macro once per period: most have one row per period and
// customer; the totals sources one row per period and day (or calendar
// period) over every customer, which only requests that nothing narrows
// to customers read. The result is the plain path's (the entity rows
// aggregate to the same sums and counts), which a property test checks;
// only the order in which floating-point amounts are added differs.

// source is a shared table of the fast path (see sources).
type source struct {
	sql string
	// history: the table reads every customer's whole history (no span
	// to bind).
	history bool
	// window: it reads only each period's window.
	window bool
	// ends: a history source whose placeholder is the first period's
	// end.
	ends bool
	// totals: its rows are no customer's (customer_id null), so a form
	// reading it serves only requests without a customer filter or a
	// by= dimension.
	totals bool
	// combo: the same rows split by combination of the customers'
	// few-valued dimensions (ckey: fast_dim_combos' key), for a request
	// grouped by such dimensions only (comboDimensions).
	combo string
	// perPeriod: the same rows, one period's (its SQL and the values of
	// its placeholders; a source summed per customer sums that period's
	// days per customer alone): the periods' rows are then read as their
	// union where branched says (see periodBranches).
	perPeriod func(Period) (string, []any)
	// days: the same rows not summed per customer, a row per customer
	// and day, for requests whose forms reading the source all take
	// them (rows: days).
	days string
	// oneDay: the same rows when every window and previous window is a
	// day (dayWindows); its placeholders are those of sql for a window
	// source, else the span of the windows, then of the previous windows
	// and windows.
	oneDay string
	// perDay: its rows are always a customer's days, so only forms
	// that take them (rows: days) may read it (NewCatalog checks).
	perDay bool
	// comboPerPeriod: combo's rows, one period's, read as perPeriod's
	// are. A source with perPeriod but no sql serves only requests whose
	// periods are branched.
	comboPerPeriod func(Period) (string, []any)
	// maxPeriods: its periods are read a period at a time (perPeriod,
	// comboPerPeriod) only for at most this many (0: any); beyond, its
	// sql (or combo), which a source without one does not have: then it
	// serves no more periods.
	maxPeriods int
	// notDaily: its sql does not serve periods whose windows are all a
	// day long (dayWindows), for which the sources of the forms after it
	// read a customer's day as their row of the period.
	notDaily bool
	// lean: the SQL of sql's rows (combo: of combo's) for requests whose
	// forms reading the source name only some of its columns (read tells
	// whether one of them does), with the others 0; "" when the columns
	// read are the costly ones.
	lean func(read func(column string) bool, combo bool) string
	// labels: the grains of whose several periods its rows are read in
	// one scan of the span, each row's period the calendar truncation of
	// its day (truncated), rather than a scan per period (perPeriod,
	// comboPerPeriod) or a join to the day map.
	labels []Grain
}

// leanFor is the source's lean SQL for the forms (combo: per
// combination), or "": the forms read columns by naming them in their
// bodies.
func (s source) leanFor(forms []*queries.Fast, name string, combo bool) string {
	if s.lean == nil {
		return ""
	}
	return s.lean(func(column string) bool {
		return slices.ContainsFunc(forms, func(f *queries.Fast) bool {
			return slices.Contains(f.Sources, name) && strings.Contains(f.Body, column)
		})
	}, combo)
}

// perPeriodFor tells whether the source's rows are read a period at a
// time for the periods: it has them, and the periods are branched and
// within its maxPeriods.
func (s source) perPeriodFor(ps []Period) bool {
	return branched(ps) && (s.maxPeriods == 0 || len(ps) <= s.maxPeriods)
}

// sources are the shared tables, each a CTE over the periods, read from
// the per-generation tables the engine builds after each import (see
// engine/fast.go): fast_order_days (one row per customer key and day with
// completed orders: counts and sums), fast_customer_days (one row per
// customer key: the sorted list of those days and the list of their
// revenues), fast_customer_keys (the integer key of each customer_id) and
// the per-day totals.
// Their placeholders are the span of the periods (lo, hi), or of their
// windows, bound so the scan (sorted by day) skips what no period reads.
// Windows start and end at midnight, so comparing days with them is
// exact.
var sources = map[string]source{
	// Completed orders of each period's window (w_) and previous window
	// (p_), and the returned ones of the window. A customer with returned
	// orders only has a row: a form reading completed ones filters on
	// their counts.
	"fast_orders": {sql: fastOrdersSQL, perPeriod: ordersPeriod, oneDay: ordersJoin(dayScan)},
	// The same over each period's window only (p_orders is 0), for the
	// KPIs that do not look at the previous window: it reads half the
	// days, and sums every day it reads (a sixth quicker than filtering
	// each sum by the window). Where fast_orders is computed too, this is
	// fast_orders.
	//
	// Each period's days are grouped by customer alone (perPeriod, see
	// branched): grouping by the period joined to every day took 183 ms
	// against 112 at 1M customers over nine months. (Both group by the
	// key alone and take any of its rows' combination, which is the
	// customer's one: 123–124 ms against 131–137 grouping by both.)
	//
	// Forms that only add up its columns (rows: days) read the days as
	// they are, with their period, where several periods would be
	// grouped per period and customer: by age at 1M customers, revenue
	// by week over 2024 took 0.42–0.43 s against 0.62–0.63 s grouped a
	// period at a time, as whole processes; by month over
	// 2024-02-15..2024-11-20 the same. (Of one period, grouping per
	// customer alone is quicker.)
	"fast_window": {window: true, sql: windowSQL, days: `
    SELECT p.period, d.ckey, d.fine, ` + windowColumns + `
    ` + windowRows("fast_order_days") + `
`, perPeriod: windowPeriod},
	// Of every customer: the customers with costed orders in each
	// period's window and their profit, a row per period (costedPeriod);
	// only for periods read one at a time.
	"fast_costed_totals": {window: true, totals: true, perPeriod: costedPeriod},
	// fast_window's sums over every customer, per day of each period's
	// window (customer_id null), from fast_order_totals: a form of sums
	// alone gives the same totals from a row per day.
	"fast_window_totals": {window: true, totals: true, sql: windowTotalsSQL,
		combo: perCombination(windowTotalsSQL, "fast_order_totals"), labels: everyGrain},
	// The survey counts per day of each period's window, of every
	// customer (from fast_survey_day_totals, a row per day; or, combo,
	// per combination of dimensions, from fast_survey_totals_by).
	"fast_survey_totals": {window: true, totals: true, sql: surveyTotalsSQL,
		combo: perCombinationOf(surveyTotalsSQL, "fast_survey_day_totals", "fast_survey_totals_by"), labels: everyGrain},
	// Each customer's email and social event counts, and survey
	// counts, of each period's window: their events in fast_event_rows
	// and their days in fast_survey_days, a row per period and event or
	// day.
	"fast_events":  dayRows("fast_event_rows", true, "email_sent", "email_open", "email_click", "social_impression", "social_engaged"),
	"fast_surveys": dayRows("fast_survey_days", false, "nps_responses", "nps_promoters", "nps_detractors", "csat_responses", "csat_satisfied", "csat_sum"),
	// The same per day of each period's window, of every customer (from
	// fast_event_day_totals; or, combo, per combination of dimensions,
	// from fast_event_totals_by).
	"fast_event_totals": {window: true, totals: true, sql: eventTotalsSQL,
		combo: perCombinationOf(eventTotalsSQL, "fast_event_day_totals", "fast_event_totals_by"), labels: everyGrain},
	// The tickets opened per day of each period's window, of every
	// customer (from fast_ticket_day_totals; or, combo, per combination
	// of dimensions, from fast_ticket_totals_by).
	"fast_ticket_totals": {window: true, totals: true, sql: ticketTotalsSQL,
		combo: perCombinationOf(ticketTotalsSQL, "fast_ticket_day_totals", "fast_ticket_totals_by"), labels: everyGrain},
	// The hours to first response of the tickets opened in each
	// period's window, a row per ticket with one, of every customer (or,
	// combo, with their combination), from fast_ticket_hours_by.
	// Of several days or weeks, the span's rows in one scan (labels);
	// of other periods, up to maxPeriodBranches, each period's rows on
	// their own (responseHoursPeriod).
	"fast_response_hours": {window: true, totals: true, sql: responseHoursSQL,
		combo: perCombination(responseHoursSQL, ""), perPeriod: responseHoursPeriod(false), comboPerPeriod: responseHoursPeriod(true), labels: shortGrains},
	// The same hours of everyone cut into buckets of equal counts over
	// every ticket, numbered in the hours' order: how many of each
	// period's tickets fall in each bucket, a row per day and bucket
	// (fast_ticket_hour_buckets), and the hours with their bucket
	// (fast_ticket_hours_bucketed, sorted by bucket, so a join on the
	// buckets a quantile needs reads only theirs), of each day of the
	// span (responseBucketedSQL). A quantile's form finds from the
	// counts the bucket holding each rank it needs and sorts that
	// bucket's hours alone.
	"fast_response_buckets":  {window: true, totals: true, sql: responseBucketsSQL, labels: everyGrain},
	"fast_response_bucketed": {window: true, totals: true, sql: responseBucketedSQL},
	// Whether each customer has completed orders in each period's window
	// (w_active) and previous window (p_active), from their sorted day
	// lists: for a few periods, quicker than grouping the days. And
	// whether they made two or more in the window (w_repeat): on two or
	// more of its days, or on one of their days with two or more
	// (fast_customer_days' multi). The bounds are cast to dates before
	// the lambdas capture them (cast per day of every list, the same
	// took a tenth longer), and only the lists of customers whose first
	// day is before the window's end and last on or after the previous
	// window's start are read.
	"fast_activity": {history: true, sql: `
    SELECT period, ckey, w_days > 0 AS w_active, p_active, w_days >= 2 OR w_multi AS w_repeat
    FROM (
      SELECT p.period, c.ckey,
             len(list_filter(c.days, lambda d: d >= p.w_start AND d < p.w_end)) AS w_days,
             len(list_filter(c.days, lambda d: d >= p.p_start AND d < p.w_start)) > 0 AS p_active,
             coalesce(len(list_filter(c.multi, lambda d: d >= p.w_start AND d < p.w_end)) > 0, false) AS w_multi
      FROM fast_customer_days c
      JOIN (SELECT period, CAST(win_start AS DATE) AS w_start, CAST(win_end AS DATE) AS w_end, CAST(prev_start AS DATE) AS p_start
            FROM periods) p
      ON c.first_day < p.w_end AND c.last_day >= p.p_start
    )
`},
	// Of every customer (customer_id null; or, comboPerPeriod, per
	// combination of dimensions), the columns of the calendar source of
	// that name at any window: the customers active in each period's
	// window, in its previous window and in both, the window's completed
	// orders, and of its active customers those with two or more orders
	// and those who complained in it. Counted from fast_order_links'
	// rows, a period at a time (a condition on their day before and after
	// picks a row per customer), without grouping them per customer: at
	// 1M customers over 2023-07-15..2024-03-10, 38-60 ms for all the
	// columns over runs (the complainers joined to the window's rows or
	// scanned on their own alike), and a single KPI 23-45 ms, where repeat
	// purchase took 93 ms from the day lists and churn 104 ms. Each
	// period's scans read whole row groups (about two weeks of days each
	// at 1M customers), so short periods cost more than they save: by week over 2024's first quarter, repeat purchase
	// took 106 ms against 60 ms through the days grouped per week, the
	// complaint rate 108 against 67; by month over 2023-07-15..2024-03-10
	// about the same as the days (churn and retention quicker, the others
	// up to a tenth slower). Hence at most four periods.
	// Beyond four periods, the rows of the periods' span are paired with
	// the periods through the day map, each row with the window it falls
	// in and the one it is the previous window of, and the counts are
	// conditions on the pair (activityJoined); but not by day (one-day
	// windows), where repeat purchase took 36–48 ms that way against
	// 14–18 ms from each day's rows (churn 36 against 70).
	// The complainers' join is half of activityJoined's time (24 ms of 48
	// by week over 2024's first quarter at 1M customers), and the
	// previous windows' days half of its rows: requests that read
	// neither go without them (activityLean).
	"fast_activity_totals": {totals: true, sql: activityJoined(false, true, true), combo: activityJoined(true, true, true),
		perPeriod: activityPeriod(false), comboPerPeriod: activityPeriod(true), maxPeriods: 4, notDaily: true,
		lean: activityLean},
	// The customers who signed up in each period's window, from their
	// key rows (fast_customer_keys, whose dims hold the customers'
	// columns), and of them whether they were referred: the signup days
	// joined to the periods' days (at 1M customers by month over
	// 2024-02-15..2024-11-20, 22–24 ms against 92–96 ms for the macro's
	// range join over every customer).
	"fast_signups":         signupRows(""),
	"fast_referrals":       signupRows(", k.dims.referred_by IS NOT NULL AS referred"),
	"fast_signup_channels": signupRows(", k.dims.acquisition_channel"),
	// The acquisition spend of each period's window by channel, from the
	// dataset itself (a row per month and channel): no customer's
	// (customer_id null).
	"fast_spend": {window: true, sql: `
    SELECT p.period, NULL::INTEGER AS ckey, s.channel AS acquisition_channel, s.spend
    FROM acquisition_spend s JOIN periods p ON s.month >= p.win_start AND s.month < p.win_end
    WHERE s.month >= ?::DATE AND s.month < ?::DATE
`},
	// Each contract ending in each period's window, from
	// fast_contract_rows, a row per contract as the macro has, keyed.
	"fast_contracts": {window: true, sql: `
    SELECT p.period, d.ckey, d.fine, d.contract_id, d.renewed
    ` + windowRows("fast_contract_rows") + `
`},
	// The customers with a ticket of category complaint opened in each
	// period's window, from fast_ticket_rows.
	"fast_complainers": {window: true, sql: `
    SELECT DISTINCT p.period, d.ckey, d.fine
    ` + windowRows("fast_ticket_rows") + ` AND d.complaint
`},
	// Each ticket opened in each period's window, a row per ticket as the
	// ticket KPIs' macros have, with its hours to resolution and to first
	// response as they compute them, from fast_ticket_rows: for requests
	// filtered by customer or by a many-valued dimension, which the sums
	// per combination do not serve.
	"fast_tickets": {window: true, sql: `
    SELECT p.period, d.ckey, d.fine, d.ticket_id, d.resolved, d.resolution_hours, d.response_hours
    ` + windowRows("fast_ticket_rows") + `
`},
	// The attribute scores (score_* columns) of the surveys answered in
	// each period's window, one row per response and answered attribute,
	// as csi's definition unpivots them (score__placeholder keeps the
	// pattern matching when there is no score column), with their
	// customer's key and finer combination (comboKeyed): csi by age at
	// 1M customers, counted, took 0.25 s against 0.34-0.45 s joined to
	// every customer's age over 2024-02-15..2024-11-20, by week over
	// 2024 0.33-0.35 s against 0.51 s, by day 0.45 s against 0.59 s.
	"fast_scores": {window: true, sql: scoresSQL("s.survey_date >= p.win_start AND s.survey_date < p.win_end"),
		// By day, each response joins its period on its day, a hash
		// join, where the range join compares it with every period's
		// bounds: at 1M customers csi by age by day over 2024 took
		// 0.55-0.58 s against 0.96-1.09 s in the engine, over March
		// 62-64 ms against 72-78 ms. (Through the table of the
		// periods' days, as other sources' longer runs of periods,
		// it took as long by week and longer for one period.)
		oneDay: scoresSQL("CAST(s.survey_date AS DATE) = CAST(p.win_start AS DATE)")},
	// The number of each (attribute, score) answered on the days of each
	// period's window, of every customer, from fast_score_days (or,
	// combo, per combination of dimensions, from fast_score_days_by).
	"fast_score_counts": {window: true, totals: true, sql: scoreCountsSQL,
		combo: perCombination(scoreCountsSQL, "fast_score_days"), labels: everyGrain},
	// The sums of fast_history_per_day per day before each period's end,
	// and whether the day is in the window or the previous window.
	// (combo: per combination of dimensions, from
	// fast_history_per_day_by.)
	"fast_history_totals": {history: true, totals: true, sql: historyTotalsSQL,
		combo: perCombination(historyTotalsSQL, "fast_history_per_day")},
	// Each customer's completed orders before each period's end: the
	// first and last day, the revenue, how many days (n_days) and the
	// median gap between consecutive ones. A period ending after the
	// customer's last day (the usual, latest window, for most customers)
	// reads their whole history's columns; one ending before it filters
	// their sorted lists of order days and day revenues to the k days
	// before its end, and takes the k-th entry of their list of each
	// day's median gap. The lists are read only for the customers whose
	// last day is on or after the first period's end (the placeholder):
	// none at all for the latest window.
	"fast_history": {history: true, ends: true, sql: `
    SELECT p.period, c.ckey, c.first_day AS h_first, c.last_day AS h_last, c.amount AS h_amount,
           c.n_days, c.median_gap
    FROM fast_customer_days c JOIN periods p ON c.last_day < CAST(p.win_end AS DATE)
    UNION ALL
    SELECT period, ckey, days[1] AS h_first, days[k] AS h_last, list_sum(amounts[1:k]) AS h_amount,
           k AS n_days, median_gaps[k] AS median_gap
    FROM (
      SELECT p.period, c.ckey, c.days, c.amounts, c.median_gaps,
             len(list_filter(c.days, lambda d: d < p.w_end)) AS k
      FROM (SELECT * FROM fast_customer_days WHERE last_day >= ?::DATE) c
      JOIN (SELECT period, CAST(win_end AS DATE) AS w_end FROM periods) p ON c.first_day < p.w_end AND c.last_day >= p.w_end
    )
`},
	// Each customer whose first completed order day is in a period's
	// window or previous window (in_window says which), from
	// fast_customer_days' first days paired with the periods' days: new
	// customers and their growth at any window and grain, by any
	// dimension, where the history source joined every customer's
	// history to each period (at most four) and the macro groups every
	// order.
	"fast_first_orders": {sql: `
    SELECT p.period, c.ckey, c.fine, c.first_day >= p.win_start AS in_window
    FROM fast_customer_days c JOIN (` + periodDays("prev_start") + `) p ON c.first_day = p.day
    WHERE c.first_day >= ?::DATE AND c.first_day < ?::DATE
`},
	// Each customer whose first completed order's month starts in a
	// period's window (their cohort), a row per month from it to the
	// month holding the window's end (month_offset), and whether they
	// made a completed order in that month before the window's end
	// (active): cohort retention from fast_customer_days' first days and
	// day lists, where its macro groups every order before the end per
	// customer and per month, and joins the two.
	"fast_cohorts": {window: true, sql: `
    SELECT period, ckey, fine, cohort, month_offset, list_contains(offsets, month_offset) AS active
    FROM (
      SELECT p.period, c.ckey, c.fine, CAST(date_trunc('month', c.first_day) AS DATE) AS cohort,
             unnest(range(0, date_diff('month', date_trunc('month', c.first_day), p.last_day) + 1)) AS month_offset,
             list_transform(list_filter(c.days, lambda d: d < p.w_end), lambda d: date_diff('month', date_trunc('month', c.first_day), d)) AS offsets
      FROM fast_customer_days c
      JOIN (SELECT period, win_start, CAST(win_end AS DATE) AS w_end, CAST(win_end - INTERVAL 1 MICROSECOND AS DATE) AS last_day
            FROM periods) p
      ON c.first_day < p.w_end AND date_trunc('month', c.first_day) >= p.win_start
      WHERE c.first_day >= ?::DATE AND c.first_day < ?::DATE
    )
`},
	// Suspected churn of every customer at each period's end, with the
	// version's default multiplier (a form reading it takes params:
	// default): the customers eligible and flagged, as changes summed
	// over the days before the end (from fast_suspect_per_day, or,
	// combo, per combination of dimensions from its _by sibling).
	"fast_suspect_totals": {history: true, totals: true, sql: suspectTotalsSQL,
		combo: perCombination(suspectTotalsSQL, "fast_suspect_per_day")},
}

// calendarSources are the sources of a request whose periods are whole
// calendar periods of one kind (calendarKind): the same columns, read
// from that kind's rows of fast_calendar (and its siblings). Their
// placeholders are the kind (months per period) and the span of the
// windows' starts; with prev, the rows of the previous windows are read
// too (the same placeholders again, over the previous windows' span) and
// joined to the window's per period and customer.
var calendarSources = map[string]struct {
	sql  string
	prev bool
	// totals, combo: as sources'.
	totals bool
	combo  string
}{
	"fast_orders": {prev: true, sql: ordersJoin(func(cols, start, filter string) string {
		return calendarScan("fast_calendar", cols, start, filter)
	})},
	"fast_window": {sql: calendarScan("fast_calendar", "d.ckey, d.fine, "+windowColumns,
		"win_start", "AND (d.orders > 0 OR d.returned > 0)")},
	"fast_activity": {prev: true, sql: `
    SELECT coalesce(c.period, v.period) AS period, coalesce(c.ckey, v.ckey) AS ckey,
           c.ckey IS NOT NULL AS w_active, v.ckey IS NOT NULL AS p_active, coalesce(c.orders >= 2, false) AS w_repeat
    FROM (` + calendarScan("fast_calendar", "d.ckey, d.orders", "win_start", "AND d.orders > 0") + `) c
    FULL JOIN (` + calendarScan("fast_calendar", "d.ckey", "prev_start", "AND d.orders > 0") + `) v
    ON c.period = v.period AND c.ckey = v.ckey
`},
	// Of every customer (customer_id null; or, combo, per combination of
	// dimensions): the customers active in each period's window, in its
	// previous window and in both; the active ones' orders, those with
	// two or more and those who complained in the window.
	"fast_activity_totals": {totals: true, sql: activityTotalsSQL,
		combo: perCombination(activityTotalsSQL, "fast_calendar_activity")},
	// Of every customer: the customers with completed orders in each
	// period's window, their revenue and the top fifth's.
	"fast_top_totals": {totals: true, sql: calendarScan("fast_calendar_top", "NULL::INTEGER AS ckey, d.customers, d.revenue, d.top_revenue", "win_start", "")},
	// Of every customer: the customers with costed orders in each
	// period's window and their profit.
	"fast_costed_totals": {totals: true, sql: calendarScan("fast_calendar_top", "NULL::INTEGER AS ckey, d.costed_customers, d.costed_profit", "win_start", "")},
	// Each customer with complaints in each period's window, from the
	// complaints' calendar rollup (at other windows, from the tickets).
	"fast_complainers": {sql: calendarScan("fast_ticket_calendar", "d.ckey, d.fine", "win_start", "")},
	// Of every customer: the first-response quantiles (q) of each
	// period's tickets, computed by quantile_cont at import for the
	// first-response KPIs' quantiles (engine's responseQuantiles).
	"fast_response_quantiles": {totals: true, sql: calendarScan("fast_ticket_hour_quantiles", "NULL::INTEGER AS ckey, d.q, d.hours", "win_start", "")},
}

// calendarScan reads the rows of a calendar rollup table for each
// period's window (start win_start) or previous window (prev_start), with
// the period; filter adds conditions on them. A source reading both joins
// the two scans per period and customer: a hash join, a third of the time
// of grouping their union.
func calendarScan(table, cols, start, filter string) string {
	return `
    SELECT p.period, ` + cols + `
    FROM ` + table + ` d JOIN periods p ON d.pstart = CAST(p.` + start + ` AS DATE)
    WHERE d.months = ?::TINYINT AND d.pstart >= ?::DATE AND d.pstart < ?::DATE ` + filter + `
`
}

// fineSources are the sums sources of a request whose periods are whole
// calendar periods of one kind (calendarKind), grouped by dimensions of
// the finer combinations only (an age), by one wide dimension (a signup
// date) or by one tier, with nothing else narrowing it to customers: the
// same sums per calendar period and group (ckey: fast_dim_fine's key, a
// wide dimension's value's, or an evaluation's tier's, groupSums), a few
// thousand rows a period where the customers' rows are hundreds of
// thousands (engine's groupsums.go builds them). Their placeholders are
// calendarSources' (the kind and the span of the windows' starts), but
// for a source of history, which has none; then the group keys' bounds,
// for a wide dimension's or a tier's.
// At 1M customers, by age by month over 2024, churn took 8 ms against
// 299 through the customers' rows, recency 11 against 1,161, csi 17
// against 197, email open rate 8 against 112 (custkpi bench --catalog
// --served-only --by age, medians of 3).
var fineSources = map[string]struct {
	sql     func(g groupSums) string
	history bool
	// whole: kept per wide dimension's value (a top-only one's too,
	// wideTopRollup) and per tier alone (a request's group is then one
	// row's: its sums are no sums of the finer combinations').
	whole bool
}{
	"fast_window_totals": {sql: func(g groupSums) string {
		return calendarScan("fast_order_calendar"+g.suffix, "d.ckey, "+windowColumns, "win_start", g.filter())
	}},
	"fast_top_totals": {whole: true, sql: func(g groupSums) string {
		return calendarScan("fast_calendar_top"+g.suffix, "d.ckey, d.customers, d.revenue, d.top_revenue", "win_start", g.filter())
	}},
	// Each group's customers with costed orders in each period's window,
	// and their profit. Of this source alone.
	"fast_costed_totals": {whole: true, sql: func(g groupSums) string {
		return calendarScan("fast_calendar_top"+g.suffix, "d.ckey, d.costed_customers, d.costed_profit", "win_start", "AND d.costed_customers > 0 "+g.filter())
	}},
	"fast_event_totals": {sql: func(g groupSums) string {
		return calendarScan("fast_event_calendar"+g.suffix,
			"d.ckey, d.email_sent, d.email_open, d.email_click, d.social_impression, d.social_engaged", "win_start", g.filter())
	}},
	"fast_survey_totals": {sql: func(g groupSums) string {
		return calendarScan("fast_survey_calendar"+g.suffix,
			"d.ckey, d.nps_responses, d.nps_promoters, d.nps_detractors, d.csat_responses, d.csat_satisfied, d.csat_sum", "win_start", g.filter())
	}},
	"fast_ticket_totals": {sql: func(g groupSums) string {
		return calendarScan("fast_ticket_totals_calendar"+g.suffix,
			"d.ckey, d.tickets, d.resolved, d.resolution_hours, d.resolution_count", "win_start", g.filter())
	}},
	"fast_score_counts": {sql: func(g groupSums) string {
		return calendarScan("fast_score_calendar"+g.suffix, "d.ckey, d.attribute, d.score, d.n", "win_start", g.filter())
	}},
	"fast_activity_totals": {sql: func(g groupSums) string {
		return keyedSibling(activityTotalsSQL, "fast_calendar_activity", g.suffix) + g.filter()
	}},
	// The history-wide KPIs' state at each period's end (a first of a
	// month), kept per group: the customers with a completed order
	// before it, the sum of their days from their last such order to the
	// end (their count times the end's day number, less their first
	// days' and their gaps'), their revenue, and those eligible for and
	// flagged as suspected churn at the default multiplier. An end after
	// the table's last, after every change, reads that last state (the
	// same month for every group: the data's). Of this source alone: no
	// form reading it serves other requests.
	"fast_history_ends": {history: true, sql: func(g groupSums) string {
		return `
    SELECT p.period, d.ckey, d.customers,
           d.customers * date_diff('day', DATE '1970-01-01', CAST(p.win_end AS DATE)) - d.first_days - d.gap_days AS days_sum,
           d.amount, d.eligible, d.flagged
    FROM fast_history_ends` + g.suffix + ` d
    JOIN periods p ON d.pend = least(CAST(p.win_end AS DATE), (SELECT max(pend) FROM fast_history_ends` + g.suffix + `))
    WHERE true ` + g.filter()
	}},
	// The customers whose first completed order falls in each period's
	// window, and in its previous window, per group: the differences of
	// the customers with an order before its bounds (fast_history_ends',
	// each bound after the table's last end read at that last). Of this
	// source alone.
	"fast_first_ends": {history: true, sql: func(g groupSums) string {
		return `
    SELECT p.period, d.ckey,
           CAST(sum(d.customers) FILTER (WHERE d.pend = p.e_end) - coalesce(sum(d.customers) FILTER (WHERE d.pend = p.e_start), 0) AS BIGINT) AS w_firsts,
           CAST(coalesce(sum(d.customers) FILTER (WHERE d.pend = p.e_start), 0) - coalesce(sum(d.customers) FILTER (WHERE d.pend = p.e_prev), 0) AS BIGINT) AS p_firsts
    FROM fast_history_ends` + g.suffix + ` d
    JOIN (SELECT period, least(CAST(win_end AS DATE), m) AS e_end, least(CAST(win_start AS DATE), m) AS e_start, least(CAST(prev_start AS DATE), m) AS e_prev
          FROM periods, (SELECT max(pend) AS m FROM fast_history_ends` + g.suffix + `)) p
      ON d.pend = p.e_end OR d.pend = p.e_start OR d.pend = p.e_prev
    WHERE true ` + g.filter() + `
    GROUP BY p.period, d.ckey`
	}},
}

// TierKeyFactor spaces the evaluations' group keys in the sums per tier
// (engine's fast_*_tiers): an evaluation's are its id times the factor
// plus the position of the tier among its tiers (1 up; 0 for customers
// without one), so a request reads one evaluation's by a range of keys,
// and names a row's tier from its key. A rule set has fewer tiers.
const TierKeyFactor = 256

// WideKeyFactor spaces the wide dimensions' group keys (engine's
// fast_dim_wide, and its sums per calendar period and value,
// fast_*_wide): the i-th's are i times the factor plus the position of
// the value among its values (1 up), so a request reads one dimension's
// by a range of keys, and names a row's value at its position. A wide
// dimension has fewer values.
const WideKeyFactor = 65536

// groupSums are the tables of sums per calendar period and group a
// request's fineSources read: of the finer combinations (suffix _fine),
// of the values of a wide dimension (_wide), or of the tiers (_tiers) of
// one evaluation, whose keys are those from keys[0] to before keys[1].
type groupSums struct {
	suffix string
	keys   []any
}

// fineSums are the tables of the sums per finer combination.
var fineSums = groupSums{suffix: "_fine"}

// wideSums are the tables of the sums per value of the wide dimension
// numbered i (from 1; its position in Data.WideDimensions plus one).
func wideSums(i int64) groupSums {
	return groupSums{suffix: "_wide", keys: []any{i * WideKeyFactor, (i + 1) * WideKeyFactor}}
}

// tierSums are the tables of the sums per tier, read for the evaluation.
func tierSums(evaluation int64) groupSums {
	return groupSums{suffix: "_tiers", keys: []any{evaluation * TierKeyFactor, (evaluation + 1) * TierKeyFactor}}
}

// filter is the condition keeping the rows (d) of the groups read.
func (g groupSums) filter() string {
	if g.keys == nil {
		return ""
	}
	return "AND d.ckey >= ?::BIGINT AND d.ckey < ?::BIGINT\n"
}

// ordersJoin is fast_orders over rows that are each a whole window or
// previous window of a customer (scan: fast_calendar's, or
// fast_order_days'): each period's window rows (those at its start)
// joined to its previous window's (at prev_start) per customer.
func ordersJoin(scan func(cols, start, filter string) string) string {
	return `
    SELECT coalesce(c.period, v.period) AS period, coalesce(c.ckey, v.ckey) AS ckey, coalesce(c.fine, v.fine) AS fine,
           coalesce(c.orders, 0) AS w_orders, c.amount AS w_amount, coalesce(v.orders, 0) AS p_orders,
           coalesce(c.costed, 0) AS w_costed, c.costed_amount AS w_costed_amount, c.profit AS w_profit,
           coalesce(c.delivery_known, 0) AS w_delivery_known, coalesce(c.on_time, 0) AS w_on_time,
           coalesce(c.returned, 0) AS w_returned
    FROM (` + scan("d.*", "win_start", "") + `) c
    FULL JOIN (` + scan("d.ckey, d.fine, d.orders", "prev_start", "AND d.orders > 0") + `) v
    ON c.period = v.period AND c.ckey = v.ckey
`
}

// dayScan reads the rows of fast_order_days of the day each period's
// window (start win_start) or previous window (prev_start) is, when each
// is a day (dayWindows); filter adds conditions on them. Its
// placeholders are the span of the days read.
func dayScan(cols, start, filter string) string {
	return `
    SELECT p.period, ` + cols + `
    FROM fast_order_days d JOIN periods p ON d.day = CAST(p.` + start + ` AS DATE)
    WHERE d.day >= ?::DATE AND d.day < ?::DATE ` + filter + `
`
}

// monthSources are the sources of a request whose windows and previous
// windows all start and end on the first of a month, but are not one
// calendar period of one kind each (a year to date by quarter, say: its
// last quarter ends early, and is compared with as many months a quarter
// before): the same columns, summed per period and customer from the
// month rows (months 1) of fast_calendar, half the rows of the days.
// Their placeholders are those of sources (the span of the months read;
// window: of the windows only). Only the window's order sums have them
// (repeat purchase, purchase frequency, top-20% share, profitability by
// quarter over the year to date at 1M: 35-50% quicker than their macros):
// summing the month rows of the window and the previous one (churn,
// retention), or of the events or the surveys, measured no quicker than
// the days' lists or the macros.
var monthSources = map[string]struct {
	sql       string
	window    bool
	perPeriod func(Period) (string, []any)
}{
	"fast_window": {window: true, sql: monthRows(sources["fast_window"].sql), perPeriod: func(p Period) (string, []any) {
		sql, args := windowPeriodDays(p)
		return monthRows(sql), args
	}},
}

// monthRows is a source over fast_order_days written over the month rows
// of fast_calendar instead: the same sums, of whole months.
func monthRows(daySQL string) string {
	return strings.NewReplacer(
		"FROM fast_order_days d", "FROM fast_calendar d",
		"WHERE d.day >= ?", "WHERE d.months = 1 AND d.pstart >= ?",
		"d.day", "d.pstart",
	).Replace(daySQL)
}

// sourceMode is how a request's sources are read: from the days (and
// the per-customer lists), from the calendar rollups' rows as they are
// (calendarKind), or summed from their month rows (wholeMonths).
type sourceMode int

const (
	dayMode sourceMode = iota
	calendarMode
	monthMode
)

// modeOf is the sourceMode of the periods.
func modeOf(ps []Period) sourceMode {
	switch {
	case calendarKind(ps) != GrainNone:
		return calendarMode
	case wholeMonths(ps):
		return monthMode
	}
	return dayMode
}

// wholeMonths tells whether every window and previous window starts and
// ends on the first of a month.
func wholeMonths(ps []Period) bool {
	for _, p := range ps {
		for _, t := range []time.Time{p.PrevStart, p.Start, p.End} {
			if !truncate(t, GrainMonth).Equal(t) {
				return false
			}
		}
	}
	return true
}

// calendarMonths are the kinds of fast_calendar's rows, by grain.
var calendarMonths = map[Grain]int{GrainMonth: 1, GrainQuarter: 3, GrainYear: 12}

// calendarKind is the grain of which every period is one whole calendar
// period compared with the one before it, so calendarSources serve the
// request; GrainNone when there is none.
func calendarKind(ps []Period) Grain {
	for _, g := range []Grain{GrainMonth, GrainQuarter, GrainYear} {
		if !slices.ContainsFunc(ps, func(p Period) bool {
			return !truncate(p.Start, g).Equal(p.Start) || !step(p.Start, g, 1).Equal(p.End) || !step(p.Start, g, -1).Equal(p.PrevStart)
		}) {
			return g
		}
	}
	return GrainNone
}

// modeServes tells whether the rollups of the mode (calendar or month
// rows) hold every source the form reads.
func modeServes(f *queries.Fast, mode sourceMode) bool {
	for _, s := range f.Sources {
		_, cal := calendarSources[s]
		_, month := monthSources[s]
		if !(mode == calendarMode && cal || mode == monthMode && month) {
			return false
		}
	}
	return true
}

// available tells whether every source the form reads can be built for
// the periods (a source of calendar periods only, or a form marked so,
// needs them; month rows serve whole months) and the request (a source of
// totals with no customer filter or by= dimension: filtered false; a
// source of fineSources alone, read per finer combination: fine; a source
// of per-period rows alone, only periods it reads a period at a time,
// branched; no more periods than the source's maxPeriods).
func available(f *queries.Fast, mode sourceMode, ps []Period, filtered, fine bool) bool {
	if f.CalendarOnly && !(mode == calendarMode && modeServes(f, calendarMode)) {
		return false
	}
	for _, s := range f.Sources {
		if _, ok := fineSources[s]; ok && fine {
			continue
		}
		src, day := sources[s]
		cal, inCalendar := calendarSources[s]
		_, inMonths := monthSources[s]
		switch {
		case mode == calendarMode && inCalendar:
			src.totals = cal.totals
		case mode == monthMode && inMonths:
			src.totals = false
		case !day, (src.sql == "" || src.notDaily && dayWindows(ps)) && !src.perPeriodFor(ps):
			return false
		}
		if filtered && src.totals {
			return false
		}
	}
	return true
}

// windowSQL is fast_window's SQL for several periods: the days of
// fast_order_days of each period's window, summed per period and
// customer.
var windowSQL = `
    SELECT p.period, d.ckey, any_value(d.fine) AS fine,` + windowSums + `
    ` + windowRows("fast_order_days") + `
    GROUP BY p.period, d.ckey
`

// windowRows reads a table's days (d) of the periods' windows, each with
// the periods whose window holds it (p, by windowDays): its placeholders
// are the span of the windows, so the scan of a table sorted by day skips
// the rest.
func windowRows(table string) string {
	return "FROM " + table + " d " + windowDays + "\n    WHERE d.day >= ?::DATE AND d.day < ?::DATE"
}

// periodDays pairs each day of the periods' span with the periods whose
// span from the bound named (win_start, or prev_start for the previous
// window too) to the window's end holds it: a few hundred rows, which a
// table's days then join on the day alone, a hash join, rather than on
// the bounds, a range join over every row (at 1M customers by week over
// 2024: churn's fast_orders 1.5 s against 2.1 s, NPS's daily totals
// 11–17 ms against 25–35 ms). Windows start and end at midnight.
func periodDays(from string) string {
	return dayMap(from, "p.win_start")
}

// dayMap is periodDays with the periods' columns named (beside the day
// and the period).
func dayMap(from, columns string) string {
	return `SELECT x.day, p.period, ` + columns + `
      FROM (SELECT CAST(unnest(range(min(` + from + `), max(win_end), INTERVAL 1 DAY)) AS DATE) AS day FROM periods) x
      JOIN periods p ON x.day >= p.` + from + ` AND x.day < p.win_end`
}

// windowDays joins a table's days (d) to the periods whose window holds
// them (p).
var windowDays = periodDayJoin("d.day")

// periodDayJoin joins the rows whose day is the column day to the
// periods whose window holds it (p).
func periodDayJoin(day string) string {
	return "JOIN (" + periodDays("win_start") + ") p ON " + day + " = p.day"
}

// onePeriod is a window source's SQL for a single period: the rows its
// bounds keep (the placeholders, that window's) are all that window's,
// so they pair with the one row of periods without the day map's join
// (periodDayJoin; at 1M customers over 2023-07-15..2024-03-10, of
// everyone: NPS took 6.0–7.1 ms against 7.4–8.8, the resolution rate
// 3.9–4.7 against 5.5–7.0, CSI 7.9–10 against 12–14, medians of 11 runs,
// three rounds; cac's statement 3.5–4.7 ms against 6.1–9.0).
func onePeriod(sql string) string {
	join := "JOIN (" + periodDays("win_start") + ") p ON "
	var out strings.Builder
	for {
		before, after, found := strings.Cut(sql, join)
		if !found {
			break
		}
		day, rest, ok := strings.Cut(after, " = p.day")
		if !ok || strings.ContainsAny(day, " \n") {
			// Not a join on a day column alone: keep it.
			out.WriteString(before + join)
			sql = after
			continue
		}
		out.WriteString(before + "CROSS JOIN periods p")
		sql = rest
	}
	out.WriteString(sql)
	return out.String()
}

// everyGrain and shortGrains are the grains whose periods a source reads
// as truncated (source.labels): a day's totals at any, a row per ticket
// of days and weeks (see truncated).
var (
	everyGrain  = []Grain{GrainDay, GrainWeek, GrainMonth, GrainQuarter, GrainYear}
	shortGrains = []Grain{GrainDay, GrainWeek}
)

// labelGrain is the calendar grain (day, week, month, quarter or year)
// whose truncation of every day of each period's window is the period's
// label, for several periods (Periods' of a grain, read as truncated);
// GrainNone for one period or none such.
func labelGrain(ps []Period) Grain {
	if len(ps) < 2 {
		return GrainNone
	}
	for _, g := range everyGrain {
		if !slices.ContainsFunc(ps, func(p Period) bool {
			return !truncate(p.Start, g).Equal(p.Label) || p.End.After(step(p.Label, g, 1))
		}) {
			return g
		}
	}
	return GrainNone
}

// truncated is a window source's SQL (its table's days, d.day, joined to
// the day map, periodDayJoin) read in one scan of the periods' span,
// each row's period its day truncated to the grain (labelGrain's: the
// period holding it). A scan per period, their union, costs DuckDB a
// plan per branch, which short periods do not earn back: at 1M
// customers the first-response p90's statement by week over 2024's
// first quarter took 3.5 ms against 5.6 (13 branches), by week over
// 2023-07-15..2024-03-10 6.9 against 12.3, by day over March 2024 3.0
// against 4.2 (the day map); but by month 20–25% longer than a scan per
// month (9.5 against 7.7 ms over 2023-07-15..2024-03-10, 4.1 against
// 3.6 over 2024's first quarter, 17.1 against 14.4 over 18 months), and
// by quarter over 2023 9.2 against 7.7 (medians of 21 alternating runs,
// DuckDB's quantile over each period's tickets, some 5,000 a week).
// Of a day's totals of every customer (NPS, CSAT, the resolution rate)
// it saves the day map at any grain: 2.3–2.9 ms against 3.3–3.9 by week
// over that quarter and by month over 2023-07-15..2024-03-10.
func truncated(sql string, g Grain) string {
	period := "CAST(date_trunc('" + string(g) + "', d.day) AS DATE)"
	if g == GrainDay {
		period = "d.day"
	}
	out := strings.Replace(sql, " "+windowDays+"\n", "\n", 1)
	out = strings.Replace(out, "SELECT p.period,", "SELECT "+period+" AS period,", 1)
	if strings.Contains(out, " p.") || strings.Contains(out, "(p.") {
		// Not the day map's join alone: the SQL as it is.
		return sql
	}
	return out
}

// windowSums are fast_window's sums of a customer's days in the window.
const windowSums = `
           CAST(sum(d.orders) AS BIGINT) AS w_orders, sum(d.amount) AS w_amount, CAST(0 AS BIGINT) AS p_orders,
           CAST(sum(d.costed) AS BIGINT) AS w_costed, sum(d.costed_amount) AS w_costed_amount, sum(d.profit) AS w_profit,
           CAST(sum(d.delivery_known) AS BIGINT) AS w_delivery_known, CAST(sum(d.on_time) AS BIGINT) AS w_on_time,
           CAST(sum(d.returned) AS BIGINT) AS w_returned`

// windowColumns are a row's order sums (d: fast_order_days, a table of
// their sums or fast_calendar) as fast_window's columns: its window's
// (p_orders, of the previous window, is 0).
const windowColumns = `d.orders AS w_orders, d.amount AS w_amount, CAST(0 AS BIGINT) AS p_orders,
           d.costed AS w_costed, d.costed_amount AS w_costed_amount, d.profit AS w_profit,
           d.delivery_known AS w_delivery_known, d.on_time AS w_on_time, d.returned AS w_returned`

// windowTotalsSQL is the fast_window_totals source.
var windowTotalsSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, ` + windowColumns + `
    ` + windowRows("fast_order_totals") + `
`

// surveyTotalsSQL is the fast_survey_totals source: the columns of
// fast_surveys, of every customer.
var surveyTotalsSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, d.nps_responses, d.nps_promoters, d.nps_detractors,
           d.csat_responses, d.csat_satisfied, d.csat_sum
    ` + windowRows("fast_survey_day_totals") + `
`

// eventTotalsSQL is the fast_event_totals source: the columns of
// fast_events, of every customer.
var eventTotalsSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, d.email_sent, d.email_open, d.email_click, d.social_impression, d.social_engaged
    ` + windowRows("fast_event_day_totals") + `
`

// dayRows is a window source over a table of rows by day and customer
// key (engine's keyedDays, a row per customer and day, or
// fast_event_rows, a row per event): its rows of each period's window,
// with the period. Not summed per customer: every form reading them sums its
// columns, which the rows of a customer's days sum to as their total
// would, and a per-customer form by a dimension then joins the
// dimensions to the days rather than grouping a row per customer first
// (email open rate by age at 1M customers, 2024 by month: 255 ms against
// 1.01 s, by week 247 ms against 1.03 s; one period takes the same).
//
// scans: the periods' rows may be read as a union of a scan per period
// (see branched) rather than joined to the day map. For the events,
// several per customer and day, that took 0.27–0.29 s as a whole process
// by age by month or week over 2024, against 0.36 s; the surveys' fewer
// rows took 0.19 s against 0.22 s through the day map by week, and the
// same at other windows.
func dayRows(table string, scans bool, columns ...string) source {
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = "d." + c
	}
	list := strings.Join(cols, ", ")
	src := source{window: true, perDay: true, sql: `
    SELECT p.period, d.ckey, d.fine, ` + list + `
    ` + windowRows(table) + `
`}
	if scans {
		src.perPeriod = func(p Period) (string, []any) {
			return `
    SELECT ?::DATE AS period, d.ckey, d.fine, ` + list + `
    FROM ` + table + ` d
    WHERE d.day >= ?::DATE AND d.day < ?::DATE
`, []any{p.Label, p.Start, p.End}
		}
	}
	return src
}

// signupRows is a window source of the customers who signed up in each
// period's window, with their key, combination and cols (k:
// fast_customer_keys). Windows start at midnight and signup_date is a
// DATE, so its day is in a window exactly when the date is.
func signupRows(cols string) source {
	return source{window: true, sql: `
    SELECT p.period, k.ckey, k.fine` + cols + `
    FROM fast_customer_keys k ` + periodDayJoin("k.dims.signup_date") + `
    WHERE k.dims.signup_date >= ?::DATE AND k.dims.signup_date < ?::DATE
`}
}

// perCombination is a totals source's SQL (rows of every customer,
// ckey null) read per combination of dimensions: the key is the
// combination's, from table's _by sibling (table "": the source reads
// that sibling already and sums over the combinations).
func perCombination(sql, table string) string {
	return keyedSibling(sql, table, "_by")
}

// keyedSibling is a totals source's SQL read from the sibling of its
// table named with suffix (_by, _fine), keyed by the sibling's ckey
// (table "": the source reads the sibling already).
func keyedSibling(sql, table, suffix string) string {
	if table == "" {
		return strings.ReplaceAll(sql, "NULL::INTEGER AS ckey", "d.ckey")
	}
	return perCombinationOf(sql, table, table+suffix)
}

// perCombinationOf is a totals source's SQL (rows of every customer from
// table) read from sibling instead, keyed by its ckey.
func perCombinationOf(sql, table, sibling string) string {
	return strings.NewReplacer("NULL::INTEGER AS ckey", "d.ckey", "FROM "+table+" d", "FROM "+sibling+" d").Replace(sql)
}

// historyTotalsSQL is the fast_history_totals source.
const historyTotalsSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, d.day, d.firsts, d.gap_days, d.amount,
           date_diff('day', d.day, CAST(p.win_end AS DATE)) AS days_to_end,
           d.day >= p.win_start AS in_window, d.day >= p.prev_start AND d.day < p.win_start AS in_prev
    FROM fast_history_per_day d JOIN periods p ON d.day < p.win_end
`

// suspectTotalsSQL is the fast_suspect_totals source.
const suspectTotalsSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, d.eligible, d.flagged
    FROM fast_suspect_per_day d JOIN periods p ON d.day < p.win_end
`

// activityTotalsSQL is the calendar fast_activity_totals source.
const activityTotalsSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, d.active, d.prev_active, d.retained, d.orders, d.repeaters, d.complainers
    FROM fast_calendar_activity d JOIN periods p ON d.pstart = CAST(p.win_start AS DATE)
    WHERE d.months = ?::TINYINT AND d.pstart >= ?::DATE AND d.pstart < ?::DATE
`

// activityPeriod is fast_activity_totals' rows of one period at any
// window, of every customer or (combo) per combination of dimensions:
// a union of the rows each count reads (kind), each a scan of sorted rows
// under conditions on constants, so the scan skips the days outside and
// keeps a row per customer counted; the window's active rows carry
// whether the customer complained in it. A customer is active in the
// window on their first day in it (the day before is before the window), and in
// the previous window on theirs; active in both when their last day in
// the previous window is followed by one in the window; a repeater when
// their first day in the window had two or more orders or is followed by
// another in it; a complainer when active with a complaint opened in it.
// The window's orders are the per-day totals'.
func activityPeriod(combo bool) func(Period) (string, []any) {
	key, totalsKey, totals := "NULL::INTEGER", "NULL::INTEGER", "fast_order_totals"
	if combo {
		key, totalsKey, totals = "d.combo", "d.ckey", "fast_order_totals_by"
	}
	sql := strings.NewReplacer("KEY", key, "TOTALS_KEY", totalsKey, "TOTALS", totals).Replace(`
    SELECT {period}::DATE AS period, x.ckey,
           CAST(count(*) FILTER (WHERE x.kind = 0) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.kind = 1) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.kind = 2) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n) FILTER (WHERE x.kind = 3), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.kind = 0 AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT 0 AS kind, KEY AS ckey, d.multi OR d.next_day < {end}::DATE AS repeats, c.ckey IS NOT NULL AS complained, NULL::BIGINT AS n
      FROM fast_order_links d
      LEFT JOIN (SELECT DISTINCT ckey FROM fast_ticket_rows WHERE complaint AND day >= {start}::DATE AND day < {end}::DATE) c ON c.ckey = d.ckey
      WHERE d.day >= {start}::DATE AND d.day < {end}::DATE AND d.prev_day < {start}::DATE
      UNION ALL
      SELECT 1, KEY, false, false, NULL
      FROM fast_order_links d WHERE d.day >= {prev}::DATE AND d.day < {start}::DATE AND d.prev_day < {prev}::DATE
      UNION ALL
      SELECT 2, KEY, false, false, NULL
      FROM fast_order_links d WHERE d.day >= {prev}::DATE AND d.day < {start}::DATE AND d.next_day >= {start}::DATE AND d.next_day < {end}::DATE
      UNION ALL
      SELECT 3, TOTALS_KEY, false, false, d.orders
      FROM TOTALS d WHERE d.day >= {start}::DATE AND d.day < {end}::DATE
    ) x
    GROUP BY x.ckey
`)
	return func(p Period) (string, []any) {
		return bindNamed(sql, map[string]any{"period": p.Label, "prev": p.PrevStart, "start": p.Start, "end": p.End})
	}
}

// activityJoined is fast_activity_totals' rows of any periods, of every
// customer or (combo) per combination of dimensions: fast_order_links'
// rows of the periods' span (its placeholders) each paired, through the
// day map, with the periods whose window or previous window holds its
// day, and counted under activityPeriod's conditions on that period's
// bounds; the window's orders from the per-day totals of its days, and
// the complainers from the tickets of its days. One scan of the span
// where activityPeriod scans each period's days four times: by week over
// 2024's first quarter at 1M customers, churn took 63 ms against 133 ms
// through the days grouped per week, retention 68 against 131, by region
// 56 against 167 (medians of three alternating runs); repeat purchase,
// active customers, purchase frequency and the complaint rate 55–62 ms
// against 49–81. Pairing the complainers with every row costs half of
// it (24 ms without them).
//
// activityLean asks for less where the forms read less: without
// complainers their column is 0; without previous, the rows are
// paired with the periods whose window holds their day alone, so
// prev_active and retained are 0 (by week, half the rows: each day is a
// window's and the next period's previous window's).
func activityJoined(combo, complainers, previous bool) string {
	key, totalsKey, totals := "NULL::INTEGER", "NULL::INTEGER", "fast_order_totals"
	if combo {
		key, totalsKey, totals = "d.combo", "d.ckey", "fast_order_totals_by"
	}
	complained, complaints := "false", ""
	if complainers {
		complained, complaints = "c.ckey IS NOT NULL", activityComplaints
	}
	days := activityDays("win_start")
	if previous {
		days = activityDays("prev_start")
	}
	return strings.NewReplacer("KEY", key, "TOTALS_KEY", totalsKey, "TOTALS", totals, "COMPLAINED", complained,
		"MAP", days).Replace(strings.Replace(`
    SELECT x.period, x.ckey,
           CAST(count(*) FILTER (WHERE x.active) AS BIGINT) AS active,
           CAST(count(*) FILTER (WHERE x.prev_active) AS BIGINT) AS prev_active,
           CAST(count(*) FILTER (WHERE x.retained) AS BIGINT) AS retained,
           CAST(coalesce(sum(x.n), 0) AS BIGINT) AS orders,
           CAST(count(*) FILTER (WHERE x.active AND x.repeats) AS BIGINT) AS repeaters,
           CAST(count(*) FILTER (WHERE x.active AND x.complained) AS BIGINT) AS complainers
    FROM (
      SELECT m.period, KEY AS ckey,
             d.day >= m.ws AND d.prev_day < m.ws AS active,
             d.day < m.ws AND d.prev_day < m.ps AS prev_active,
             d.day < m.ws AND d.next_day >= m.ws AND d.next_day < m.we AS retained,
             d.multi OR d.next_day < m.we AS repeats,
             COMPLAINED AS complained, NULL::BIGINT AS n
      FROM fast_order_links d JOIN (MAP) m ON d.day = m.day COMPLAINTS
      WHERE d.day >= ?::DATE AND d.day < ?::DATE
      UNION ALL
      SELECT m.period, TOTALS_KEY, false, false, false, false, false, d.orders
      FROM TOTALS d JOIN (MAP) m ON d.day = m.day AND d.day >= m.ws
    ) x
    GROUP BY x.period, x.ckey
`, "COMPLAINTS", complaints, 1))
}

// activityComplaints pairs activityJoined's rows with the customers who
// complained in the window of their period.
const activityComplaints = `
      LEFT JOIN (SELECT DISTINCT m.period, t.ckey FROM fast_ticket_rows t JOIN (MAP) m ON t.day = m.day AND t.day >= m.ws
                 WHERE t.complaint) c ON c.period = m.period AND c.ckey = d.ckey`

// activityDays is the day map from the periods' start column (prev_start:
// the previous windows' and windows' days; win_start: the windows'), with
// the periods' bounds as dates.
func activityDays(start string) string {
	return dayMap(start, "CAST(p.prev_start AS DATE) AS ps, CAST(p.win_start AS DATE) AS ws, CAST(p.win_end AS DATE) AS we")
}

// activityLean is fast_activity_totals' SQL for forms that read neither
// the complainers nor the previous windows' counts, or only one of them
// ("" when both).
func activityLean(read func(column string) bool, combo bool) string {
	complainers, previous := read("complainers"), read("prev_active") || read("retained")
	if complainers && previous {
		return ""
	}
	return activityJoined(combo, complainers, previous)
}

// namedPlaceholder is a {name} of bindNamed's SQL.
var namedPlaceholder = regexp.MustCompile(`\{(\w+)\}`)

// bindNamed replaces each {name} of sql by a placeholder, and gives the
// values named, in the placeholders' order.
func bindNamed(sql string, values map[string]any) (string, []any) {
	var args []any
	out := namedPlaceholder.ReplaceAllStringFunc(sql, func(m string) string {
		args = append(args, values[m[1:len(m)-1]])
		return "?"
	})
	return out, args
}

// scoresSQL is the fast_scores source, its responses paired with the
// periods on the condition given.
func scoresSQL(inPeriod string) string {
	return `
    SELECT period, ckey, fine, attribute, score FROM (
      UNPIVOT (
        SELECT p.period, k.ckey, k.fine, COLUMNS('^score_')
        FROM (SELECT *, NULL::INTEGER AS score__placeholder FROM surveys) s
        JOIN periods p ON ` + inPeriod + `
        JOIN fast_customer_keys k USING (customer_id)
        WHERE s.survey_date >= ?::TIMESTAMP AND s.survey_date < ?::TIMESTAMP
      ) ON COLUMNS('^score_') INTO NAME attribute VALUE score
    ) WHERE attribute <> 'score__placeholder'
`
}

// scoreCountsSQL is the fast_score_counts source.
var scoreCountsSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, d.attribute, d.score, CAST(sum(d.n) AS BIGINT) AS n
    ` + windowRows("fast_score_days") + `
    GROUP BY ALL
`

// ticketTotalsSQL is the fast_ticket_totals source.
var ticketTotalsSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, d.tickets, d.resolved, d.resolution_hours, d.resolution_count
    ` + windowRows("fast_ticket_day_totals") + `
`

// responseHoursSQL is the fast_response_hours source.
var responseHoursSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, d.hours
    ` + windowRows("fast_ticket_hours_by") + `
`

// responseBucketsSQL is the fast_response_buckets source.
var responseBucketsSQL = `
    SELECT p.period, NULL::INTEGER AS ckey, d.bucket, d.n
    ` + windowRows("fast_ticket_hour_buckets") + `
`

// responseBucketedSQL is the fast_response_bucketed source: the span's
// rows with their day, not their period. A form pairs them with the
// periods in the join that picks their buckets (on the bucket, with the
// period's bounds beside), through which DuckDB passes the buckets wanted
// to the scan as a filter, which skips the others' row groups: a period
// computed for each row beneath the join stops that (at 1M customers by
// quarter over 2023, 226,086 rows read against 3,490).
var responseBucketedSQL = `
    SELECT d.day, NULL::INTEGER AS ckey, d.bucket, d.hours
    FROM fast_ticket_hours_bucketed d
    WHERE d.day >= ?::DATE AND d.day < ?::DATE
`

// responseHoursPeriod is fast_response_hours' rows of one period (combo:
// with their combination's key): its window's tickets with the period
// bound as a value, rather than every ticket of the span joined to the
// day map, which took about a third of the median's statement by month
// over 2023-07-15..2024-03-10 at 1M customers (medians of 8 alternating
// runs, 9-10 ms against 13-17).
func responseHoursPeriod(combo bool) func(Period) (string, []any) {
	key := "NULL::INTEGER"
	if combo {
		key = "d.ckey"
	}
	sql := `
    SELECT ?::DATE AS period, ` + key + ` AS ckey, d.hours
    FROM fast_ticket_hours_by d
    WHERE d.day >= ?::DATE AND d.day < ?::DATE
`
	return func(p Period) (string, []any) {
		return sql, []any{p.Label, p.Start, p.End}
	}
}

// rollup is how a request reads the sources of sums that have rows per
// combination of dimensions: as they are, per customer (noRollup); per
// combination of the few-valued dimensions (comboRollup, the sources'
// combo variants); or per calendar period and finer combination
// (fineRollup), value of a wide dimension (wideRollup; of a top-only one,
// wideTopRollup, the whole sums alone) or tier of an evaluation
// (tierRollup): fineSources.
type rollup int

const (
	noRollup rollup = iota
	comboRollup
	fineRollup
	wideRollup
	wideTopRollup
	tierRollup
)

// grouped tells whether the rollup reads the sums per calendar period and
// group (fineSources).
func (r rollup) grouped() bool { return r >= fineRollup }

// rollupServes tells whether every source the form reads has rows as the
// rollup reads them in the mode (see fastSources).
func rollupServes(f *queries.Fast, mode sourceMode, r rollup) bool {
	switch r {
	case comboRollup:
		return comboServes(f, mode)
	case fineRollup, wideRollup, wideTopRollup, tierRollup:
		return mode == calendarMode && !slices.ContainsFunc(f.Sources, func(s string) bool {
			src, ok := fineSources[s]
			return !ok || src.whole && r == fineRollup || !src.whole && r == wideTopRollup
		})
	}
	return true
}

// comboServes tells whether every source the form reads has rows per
// combination of dimensions, as the mode reads it (see fastSources).
func comboServes(f *queries.Fast, mode sourceMode) bool {
	for _, s := range f.Sources {
		combo := sources[s].combo != "" || sources[s].comboPerPeriod != nil
		if cal, ok := calendarSources[s]; ok && mode == calendarMode {
			combo = cal.combo != ""
		} else if _, ok := monthSources[s]; ok && mode == monthMode {
			combo = false
		}
		if !combo {
			return false
		}
	}
	return true
}

// comboDimensions tells whether the dimensions are all customer ones that
// fast_dim_combos holds, so that the combinations' rows can be grouped by
// them.
func comboDimensions(data *Data, dims []dimension) bool {
	return combinationOf(data.ComboDimensions, dims)
}

// readsHistory tells whether the form (nil: none) reads a source of
// every customer's whole history.
func readsHistory(f *queries.Fast) bool {
	return f != nil && slices.ContainsFunc(f.Sources, func(s string) bool { return sources[s].history })
}

// fineDimensions tells whether the request is grouped by dimensions of
// the finer combinations (fast_dim_fine) only.
func fineDimensions(data *Data, dims []dimension) bool {
	return combinationOf(data.FineDimensions, dims)
}

// wideDimension is the number of the wide dimension (fast_dim_wide's,
// from 1) the request is grouped by alone, or 0.
func wideDimension(data *Data, dims []dimension) int64 {
	if len(dims) != 1 || !dims[0].customer {
		return 0
	}
	return int64(slices.Index(data.WideDimensions, dims[0].name) + 1)
}

// combinationOf tells whether every dimension is a customer dimension
// among those of a table of combinations, and there is one at least.
func combinationOf(of []string, dims []dimension) bool {
	for _, d := range dims {
		if !d.customer || !slices.Contains(of, d.name) {
			return false
		}
	}
	return len(dims) > 0
}

// fastOrdersSQL is the fast_orders source.
//
// Each source's SQL gives ckey, the integer key, and is wrapped by
// keyed: with the key itself as customer_id (or, keyCombos, the key with
// its customer's finer combination); filters, dimensions and tiers are
// turned into keys to meet them. Keys are numbered in customer_id order, so they
// count, count distinct and break ties (top20_revenue_share) as the ids
// do, and the string join is saved.
var fastOrdersSQL = `
    SELECT p.period, d.ckey, any_value(d.fine) AS fine,` + ordersSums("d.day >= p.win_start") + `
    FROM fast_order_days d JOIN (` + periodDays("prev_start") + `) p ON d.day = p.day
    WHERE d.day >= ?::DATE AND d.day < ?::DATE
    GROUP BY p.period, d.ckey
`

// ordersSums are fast_orders' sums of a customer's days, in the window
// where inWindow holds and in the previous window elsewhere.
func ordersSums(inWindow string) string {
	return strings.NewReplacer("IN_WINDOW", inWindow).Replace(`
           CAST(coalesce(sum(d.orders) FILTER (WHERE IN_WINDOW), 0) AS BIGINT) AS w_orders,
           sum(d.amount) FILTER (WHERE IN_WINDOW) AS w_amount,
           CAST(coalesce(sum(d.orders) FILTER (WHERE NOT (IN_WINDOW)), 0) AS BIGINT) AS p_orders,
           CAST(coalesce(sum(d.costed) FILTER (WHERE IN_WINDOW), 0) AS BIGINT) AS w_costed,
           sum(d.costed_amount) FILTER (WHERE IN_WINDOW) AS w_costed_amount,
           sum(d.profit) FILTER (WHERE IN_WINDOW) AS w_profit,
           CAST(coalesce(sum(d.delivery_known) FILTER (WHERE IN_WINDOW), 0) AS BIGINT) AS w_delivery_known,
           CAST(coalesce(sum(d.on_time) FILTER (WHERE IN_WINDOW), 0) AS BIGINT) AS w_on_time,
           CAST(coalesce(sum(d.returned) FILTER (WHERE IN_WINDOW), 0) AS BIGINT) AS w_returned`)
}

// ordersPeriod is fast_orders' rows of one period: the days of its
// previous window and window, each marked by whether it is in the window.
func ordersPeriod(p Period) (string, []any) {
	return `
    SELECT ?::DATE AS period, d.ckey, any_value(d.fine) AS fine,` + ordersSums("d.in_window") + `
    FROM (SELECT *, day >= ?::DATE AS in_window FROM fast_order_days WHERE day >= ?::DATE AND day < ?::DATE) d
    GROUP BY d.ckey
`, []any{p.Label, p.Start, p.PrevStart, p.End}
}

// windowPeriod is fast_window's rows of one period: the sums of the
// whole calendar months in its window read from fast_calendar's month
// rows (half the rows of their days at 1M demo customers), those of the
// days before and after them from fast_order_days, grouped per customer
// together (windowOrders). Over 2023-07-15..2024-03-10 at 1M customers,
// the top-20% share took 72-119 ms against 118-130 ms grouping every
// day, customer profitability 52-63 ms against 68-79 ms.
func windowPeriod(p Period) (string, []any) {
	from, args := windowOrders(p)
	if from == "" {
		return windowPeriodDays(p)
	}
	return `
    SELECT ?::DATE AS period, d.ckey, any_value(d.fine) AS fine,` + windowSums + `
    FROM ` + from + `
    GROUP BY d.ckey
`, append([]any{p.Label}, args...)
}

// windowOrders is the rows (d, orderSumColumns) of a period's window
// that hold whole calendar months: fast_calendar's month rows of those,
// and fast_order_days' rows of the days before and after them; and the
// values of its placeholders. "" for a window without a whole month.
func windowOrders(p Period) (string, []any) {
	first, last := truncate(p.Start, GrainMonth), truncate(p.End, GrainMonth)
	if first.Before(p.Start) {
		first = step(first, GrainMonth, 1)
	}
	if !first.Before(last) {
		return "", nil
	}
	return `(
      SELECT ` + orderSumColumns + ` FROM fast_order_days WHERE day >= ?::DATE AND day < ?::DATE
      UNION ALL
      SELECT ` + orderSumColumns + ` FROM fast_calendar WHERE months = 1 AND pstart >= ?::DATE AND pstart < ?::DATE
      UNION ALL
      SELECT ` + orderSumColumns + ` FROM fast_order_days WHERE day >= ?::DATE AND day < ?::DATE
    ) d`, []any{p.Start, first, first, last, last, p.End}
}

// costedPeriod is fast_costed_totals' row of one period, of every
// customer: how many customers had costed orders in its window (their
// keys counted once, of the window's days, or of its whole months and
// the days around them, windowOrders), and the profit of the window's
// orders (that of an order without a cost is null, so it is the costed
// customers'). fast_window sums every column per customer first, which
// customer profitability then counts and adds up: by week over 2024 Q1
// at 1M customers the statement took 34-47 ms against 51-84 ms.
func costedPeriod(p Period) (string, []any) {
	from, args := windowOrders(p)
	where := "d.costed > 0"
	if from == "" {
		from, where, args = "fast_order_days d", "d.day >= ?::DATE AND d.day < ?::DATE AND d.costed > 0", []any{p.Start, p.End}
	}
	return `
    SELECT ?::DATE AS period, NULL::INTEGER AS ckey, CAST(count(DISTINCT d.ckey) AS BIGINT) AS costed_customers, sum(d.profit) AS costed_profit
    FROM ` + from + `
    WHERE ` + where + `
`, append([]any{p.Label}, args...)
}

// orderSumColumns are the columns of fast_order_days and fast_calendar
// that fast_window sums.
const orderSumColumns = "ckey, fine, orders, amount, costed, costed_amount, profit, delivery_known, on_time, returned"

// windowPeriodDays is fast_window's rows of one period, from its days.
func windowPeriodDays(p Period) (string, []any) {
	return `
    SELECT ?::DATE AS period, d.ckey, any_value(d.fine) AS fine,` + windowSums + `
    FROM fast_order_days d
    WHERE d.day >= ?::DATE AND d.day < ?::DATE
    GROUP BY d.ckey
`, []any{p.Label, p.Start, p.End}
}

// fastForm is the fast form a query takes: the first of the version's
// forms that applies (the query allows the fast path; the sources the
// form reads serve the periods; the periods are within its bound;
// filtered: the rows
// are filtered by customer or grouped by a dimension; r: only a form
// whose sources have rows per combination as r reads them (for a request
// grouped by comboDimensions, or fineDimensions, only); a form of the
// default parameters only when params are the defaults), or nil for the
// plain path. (A KPI with its own dimensions, cac, has a form giving its
// columns: it is never filtered by customer. A matrix's form gives its
// rows with its group columns, which the aggregate groups by as the
// macro's.)
func fastForm(def *queries.Definition, q Query, params []boundParam, ps []Period, filtered bool, r rollup) *queries.Fast {
	if !q.Fast {
		return nil
	}
	mode := modeOf(ps)
	for _, f := range def.Fast {
		if !rollupServes(f, mode, r) || f.DefaultParams && !defaultParams(def, params) {
			continue
		}
		if available(f, mode, ps, filtered && r == noRollup, r.grouped()) && fitsPeriods(f, ps) {
			return f
		}
	}
	return nil
}

// fitsPeriods tells whether the form serves that many periods (its
// max_periods) of windows that long (its min_days).
func fitsPeriods(f *queries.Fast, ps []Period) bool {
	if f.MaxPeriods > 0 && len(ps) > f.MaxPeriods {
		return false
	}
	minLength := time.Duration(f.MinDays) * 24 * time.Hour
	return !slices.ContainsFunc(ps, func(p Period) bool { return p.End.Sub(p.Start) < minLength })
}

// defaultParams tells whether the bound parameters are the version's
// defaults.
func defaultParams(def *queries.Definition, params []boundParam) bool {
	for _, p := range def.Params {
		if paramValue(def, p, params) != paramValue(def, p, nil) {
			return false
		}
	}
	return true
}

// scorecardForm is the form the scorecard takes (two periods, whole
// read as mode says; filtered by a scope if filter is not nil), or nil;
// combos when it reads the sums per combination, which a scope of whole
// combinations (filter.Combinations) narrows.
func scorecardForm(def *queries.Definition, mode sourceMode, ps []Period, filter *Filter) (f *queries.Fast, combos bool) {
	if len(def.Group) > 0 {
		return nil, false
	}
	fits := func(f *queries.Fast) bool { return (f.MaxPeriods == 0 || f.MaxPeriods >= 2) && fitsPeriods(f, ps) }
	if filter != nil && filter.Combinations != nil {
		for _, f := range def.Fast {
			if comboServes(f, mode) && available(f, mode, ps, false, false) && fits(f) {
				return f, true
			}
		}
	}
	for _, f := range def.Fast {
		if available(f, mode, ps, filter != nil, false) && fits(f) {
			return f, false
		}
	}
	return nil, false
}

// fastDefinition is the definition with the fast form's aggregates in
// place of its own, for valueColumns.
func fastDefinition(def *queries.Definition, f *queries.Fast) *queries.Definition {
	d := *def
	if f.Value != "" {
		d.Value = f.Value
	}
	if f.Numerator != "" {
		d.Numerator = f.Numerator
	}
	if f.Denominator != "" {
		d.Denominator = f.Denominator
	}
	return &d
}

// span is the first previous-window start and the last end of the periods.
func span(ps []Period) (lo, hi time.Time) {
	lo, hi = ps[0].PrevStart, ps[0].End
	for _, p := range ps[1:] {
		if p.PrevStart.Before(lo) {
			lo = p.PrevStart
		}
		if p.End.After(hi) {
			hi = p.End
		}
	}
	return lo, hi
}

// fastSources writes the shared tables the versions read, after the
// periods CTE, and tells whether they read the calendar rollups.
// materialized: several KPIs read them (the scorecard). ids: what the
// rows give as customer_id (see keyed). r: how the rows of the sources
// that have them per combination of dimensions (the sums' sources) are
// read; the others (per customer) as they are. g: the sums per group a
// grouped rollup reads.
func (b *statementBuilder) fastSources(forms []*queries.Fast, ps []Period, materialized bool, ids keying, r rollup, g groupSums) (calendar bool) {
	var names []string
	for _, f := range forms {
		for _, s := range f.Sources {
			if !slices.Contains(names, s) {
				names = append(names, s)
			}
		}
	}
	slices.Sort(names)
	lo, hi := span(ps)
	kind, mode := calendarKind(ps), modeOf(ps)
	for _, n := range names {
		as := "AS"
		if materialized {
			as = "AS MATERIALIZED"
		}
		if fine, ok := fineSources[n]; ok && r.grouped() && kind != GrainNone {
			fmt.Fprintf(b, "),\n%s %s (\n  %s\n", n, as, keyed(fine.sql(g), ids))
			if !fine.history {
				b.args = append(b.args, calendarMonths[kind], windowStart(ps), hi)
			}
			b.args = append(b.args, g.keys...)
			calendar = true
			continue
		}
		if cal, ok := calendarSources[n]; ok && kind != GrainNone {
			if materialized && !cal.prev {
				// A filtered scan of sorted rows: each KPI reading it
				// again reads only its own columns, cheaper than
				// materializing all.
				as = "AS NOT MATERIALIZED"
			}
			sql := cal.sql
			if r == comboRollup && cal.combo != "" {
				sql = cal.combo
			}
			fmt.Fprintf(b, "),\n%s %s (\n  %s\n", n, as, keyed(sql, ids))
			b.args = append(b.args, calendarMonths[kind], windowStart(ps), hi)
			if cal.prev {
				b.args = append(b.args, calendarMonths[kind], lo, hi)
			}
			calendar = true
			continue
		}
		if n == "fast_window" && slices.Contains(names, "fast_orders") {
			// fast_orders holds the window's orders too.
			fmt.Fprintf(b, "),\n%s AS (SELECT * FROM fast_orders WHERE w_orders > 0 OR w_returned > 0\n", n)
			continue
		}
		if month, ok := monthSources[n]; ok && mode == monthMode {
			if month.perPeriod != nil && branched(ps) {
				b.periodBranches(n, as, month.perPeriod, ps, ids)
				calendar = true
				continue
			}
			fmt.Fprintf(b, "),\n%s %s (\n  %s\n", n, as, keyed(month.sql, ids))
			if month.window {
				b.args = append(b.args, windowStart(ps), hi)
			} else {
				b.args = append(b.args, lo, hi)
			}
			calendar = true
			continue
		}
		b.daySource(n, as, forms, ps, ids, r)
	}
	return calendar
}

// daySource writes the source name as read from the per-day tables and
// day lists (sources), in the variant the periods and forms take: per
// combination of dimensions (comboRollup), a customer's days as they are
// (days), each day's rows joined to the day before's (oneDay), a union
// of one grouping per period (perPeriod), or the source's own SQL.
func (b *statementBuilder) daySource(name, as string, forms []*queries.Fast, ps []Period, ids keying, r rollup) {
	src := sources[name]
	lo, hi := span(ps)
	sql := src.sql
	// The lean SQL of the variant the request reads (per combination or
	// not), built once.
	lean := src.leanFor(forms, name, r == comboRollup && src.combo != "")
	g := GrainNone
	if src.labels != nil {
		g = labelGrain(ps)
	}
	switch {
	case slices.Contains(src.labels, g) && (r != comboRollup || src.combo != ""):
		if r == comboRollup {
			sql = src.combo
		}
		sql = truncated(sql, g)
	case r == comboRollup && src.comboPerPeriod != nil && src.perPeriodFor(ps):
		b.periodBranches(name, as, src.comboPerPeriod, ps, ids)
		return
	case r == comboRollup && src.combo != "" && lean != "":
		sql = lean
	case r == comboRollup && src.combo != "":
		sql = src.combo
	case src.days != "" && len(ps) > 1 && (formsTakeDays(forms, name) || dayWindows(ps)):
		sql = src.days
	case src.oneDay != "" && dayWindows(ps) && src.window:
		sql = src.oneDay
	case src.oneDay != "" && dayWindows(ps):
		fmt.Fprintf(b, "),\n%s %s (\n  %s\n", name, as, keyed(src.oneDay, ids))
		b.args = append(b.args, windowStart(ps), hi, lo, hi)
		return
	case src.perPeriod != nil && src.perPeriodFor(ps):
		b.periodBranches(name, as, src.perPeriod, ps, ids)
		return
	case src.window && len(ps) == 1:
		sql = onePeriod(sql)
	case lean != "":
		sql = lean
	}
	fmt.Fprintf(b, "),\n%s %s (\n  %s\n", name, as, keyed(sql, ids))
	switch {
	case src.ends:
		b.args = append(b.args, firstEnd(ps))
	case src.history:
		// Every customer's whole history: nothing to bind.
	case src.window:
		b.args = append(b.args, windowStart(ps), hi)
	default:
		b.args = append(b.args, lo, hi)
	}
}

// dayWindows tells whether every window and previous window is one day
// long (grain day): a customer's day row is then their row of the
// period's window, or previous window, as summing their rows per period
// would give it, and grouping nothing costs less. At 1M customers by day
// over March 2024, as whole processes, repeat purchase took 78 ms against
// 105, the complaint rate 84 against 127 (fast_window's days), churn 113
// against 168 (fast_orders joining each day's rows to the day before's).
func dayWindows(ps []Period) bool {
	return !slices.ContainsFunc(ps, func(p Period) bool {
		return !p.End.Equal(p.Start.AddDate(0, 0, 1)) || !p.Start.Equal(p.PrevStart.AddDate(0, 0, 1))
	})
}

// maxPeriodBranches is the most periods whose rows a source with
// perPeriod reads as a union of one grouping per period.
const maxPeriodBranches = 64

// branched tells whether a source with perPeriod reads the periods' rows
// as periodBranches: one period, or up to maxPeriodBranches whose windows
// are not all a day long (by day). A day's rows are a row per customer
// already, and many small branches cost more than they save: at 1M
// customers, by day over 60 days, repeat purchase took 185 ms against 131
// through the day map, over 14 days 116 ms against 122.
func branched(ps []Period) bool {
	if len(ps) == 1 {
		return true
	}
	var days time.Duration
	for _, p := range ps {
		days += p.End.Sub(p.Start)
	}
	return len(ps) <= maxPeriodBranches && days > time.Duration(len(ps))*24*time.Hour
}

// periodBranches writes the source name as the union of the periods'
// rows (rows gives one period's SQL and the values of its placeholders).
// Each period's days are grouped per customer on their own, a hash table
// of the period's customers, rather than all at once per period and
// customer, a table of every (period, customer), which outgrows the
// caches: at 1M customers by week over 2024, churn's fast_orders took
// 0.56–0.58 s against 1.38–1.40 s, repeat purchase's fast_window
// 0.21–0.25 s against 0.47 s. (Joining each branch to its row of periods,
// rather than binding its bounds, took 0.86–0.89 s: the bounds are then
// no constants.)
func (b *statementBuilder) periodBranches(name, as string, rows func(Period) (string, []any), ps []Period, ids keying) {
	sqls := make([]string, len(ps))
	for i, p := range ps {
		var args []any
		sqls[i], args = rows(p)
		b.args = append(b.args, args...)
	}
	fmt.Fprintf(b, "),\n%s %s (\n  %s\n", name, as, keyed(strings.Join(sqls, "    UNION ALL"), ids))
}

// checkFastForms refuses a fast form of the version that reads a source
// of a customer's days without taking them (rows: days): a count of its
// customers would count their days; and a counted form of a version
// with extra columns or groups of its own.
func checkFastForms(def *queries.Definition) error {
	for _, f := range def.Fast {
		if len(f.Counted) > 0 && (len(def.Extra) > 0 || len(def.Group) > 0) {
			// Its aggregates read the grouped rows, which the version's
			// extra aggregates and own groups do not know.
			return fmt.Errorf("%s: a form whose rows are counted serves a version without extra columns or groups of its own", f.File)
		}
		for _, s := range f.Sources {
			if sources[s].perDay && !f.DayRows {
				return fmt.Errorf("%s: source %s gives a row per customer and day: a form reading it must say rows: days, and only add up its columns", f.File, s)
			}
		}
	}
	return nil
}

// formsTakeDays tells whether every form reading the source takes a row per
// customer and day (rows: days).
func formsTakeDays(forms []*queries.Fast, source string) bool {
	for _, f := range forms {
		if slices.Contains(f.Sources, source) && !f.DayRows {
			return false
		}
	}
	return true
}

// keying is what a source's rows give as customer_id (see fastOrdersSQL).
type keying int

const (
	// keyInts: the customer's integer key.
	keyInts keying = iota
	// keyCombos: the integer key times ComboFactor plus the key of the
	// customer's finer combination of dimensions (fine, which the
	// comboKeyed sources carry): as distinct, and in the same order, as
	// the customers' keys, and its remainder indexes the lists of
	// fast_dim_fine's values, a few thousand, instead of joining a row
	// per customer (keyJoin.lookup). At 1M customers the top-20% share by
	// region took 65-70 ms where joining every customer took 110-120;
	// over 2024-02-15..2024-11-20 NPS by age 11 ms, against 35 joined to
	// the combinations and 41–80 to every customer.
	keyCombos
)

// ComboFactor exceeds the number of finer combinations (engine's
// maxFine, 65,535, which a test holds below it).
const ComboFactor = 65536

// comboKeyed are the sources whose rows carry their customer's finer
// combination (fine) in every mode: a form reading only them can take
// keyCombos.
var comboKeyed = []string{"fast_window", "fast_orders", "fast_signups", "fast_referrals", "fast_tickets", "fast_events", "fast_surveys", "fast_complainers", "fast_first_orders", "fast_contracts", "fast_scores", "fast_cohorts"}

// keyed wraps a source's SQL (see fastOrdersSQL).
func keyed(sql string, k keying) string {
	switch k {
	case keyCombos:
		return fmt.Sprintf("SELECT s.* EXCLUDE (ckey, fine), CAST(s.ckey AS BIGINT) * %d + s.fine AS customer_id FROM (%s) s", ComboFactor, sql)
	}
	return "SELECT s.* EXCLUDE (ckey), s.ckey AS customer_id FROM (" + sql + ") s"
}

// comboKeyedForm tells whether every source the form reads is comboKeyed.
func comboKeyedForm(f *queries.Fast) bool {
	for _, s := range f.Sources {
		if !slices.Contains(comboKeyed, s) {
			return false
		}
	}
	return true
}

// firstEnd is the first end of the periods' windows.
func firstEnd(ps []Period) time.Time {
	return earliest(ps, func(p Period) time.Time { return p.End })
}

// windowStart is the first start of the periods' windows.
func windowStart(ps []Period) time.Time {
	return earliest(ps, func(p Period) time.Time { return p.Start })
}

// earliest is the earliest of one bound of the periods.
func earliest(ps []Period, bound func(Period) time.Time) time.Time {
	lo := bound(ps[0])
	for _, p := range ps[1:] {
		if bound(p).Before(lo) {
			lo = bound(p)
		}
	}
	return lo
}

// fastRows writes the rows of one version's fast form for every period,
// as kpiRows does for its macro: filtered by customer, and with a row for
// a period without any when everyPeriod (else the form's rows are read
// as they are, each of a period: a join with the periods would only cost
// time; Plan asks for it only where its answer is grouped by period or the
// form's rows are grouped first, since of one window at grain none the
// aggregate answers a row without it). Of a single period (ps), every row
// is that period's, and the
// join needs no condition: at 1M customers over 2023-07-15..2024-03-10,
// the first-response p50 of everyone (186k tickets' hours) took 6–8 ms
// against 9–12 ms joined on the period. Of several, each period gets a
// row of nulls beside its rows (UNION ALL BY NAME) rather than the rows
// being joined to the periods: the aggregates ignore a row whose
// customer_id and columns are null, as they do the one the macros' join
// gives a period without rows (the property tests compare the two). At
// 1M customers, alternating three times: customer profitability by week
// over 2024 Q1 89 → 68 ms, the top-20% share by month over
// 2023-07-15..2024-03-10 181 → 149 ms, the first-response p50 and p90
// by month 14.5 → 11.5 and 11.1 ms.
func (b *statementBuilder) fastRows(def *queries.Definition, f *queries.Fast, params []boundParam, filters []*Filter, everyPeriod bool, ps []Period) {
	switch {
	case everyPeriod && len(ps) == 1:
		b.WriteString("SELECT p.period, k.* EXCLUDE (period) FROM periods p\n  LEFT JOIN (")
	case everyPeriod:
		b.WriteString("SELECT k.period, k.* EXCLUDE (period) FROM (SELECT * FROM (")
	default:
		b.WriteString("SELECT k.period, k.* EXCLUDE (period) FROM (")
	}
	if len(def.Params) > 0 {
		// The version's parameters, as its macro would get them.
		b.WriteString("WITH fast_params AS (SELECT ")
		for i, p := range def.Params {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "?::%s AS %s", strings.ToUpper(paramType(p)), QuoteIdent(p.Name))
			b.args = append(b.args, paramValue(def, p, params))
		}
		b.WriteString(")\n")
	}
	b.WriteString("SELECT * FROM (" + f.Body + ")")
	b.customerFilters(filters)
	switch {
	case everyPeriod && len(ps) == 1:
		b.WriteString(") k ON true")
	case everyPeriod:
		b.WriteString(")\n  UNION ALL BY NAME SELECT period FROM periods) k")
	default:
		b.WriteString(") k")
	}
}

func paramType(p queries.Param) string {
	if p.Type == "double" {
		return "double"
	}
	return "varchar"
}

// paramValue is a parameter's value: the caller's, else its default.
func paramValue(def *queries.Definition, p queries.Param, given []boundParam) any {
	for _, g := range given {
		if g.name == p.Name {
			return g.value
		}
	}
	v, err := parseParam(p, p.Default)
	if err != nil {
		return p.Default // the catalog test checks every default parses
	}
	return v
}

// sharedFilters writes each distinct filter (a key's scope, the same for
// most KPIs) once, as a materialized table of its keys (a customer's, as
// byKeys gives them, or a combination's), and gives the filters reading
// it: the rows keep their integer keys, and the customers are looked up
// once, not once per KPI.
// At 1M customers, the scorecard of calendar 2024 for a key scoped to
// two regions took 12.8 s with every KPI's rows keyed back to
// customer_ids and 8.5 s looking the customers up per KPI.
func (b *statementBuilder) sharedFilters(filters []*Filter) []*Filter {
	out := make([]*Filter, len(filters))
	seen := map[string]int{}
	for i, f := range filters {
		if f == nil {
			continue
		}
		key := f.SQL + fmt.Sprint(f.Args)
		n, ok := seen[key]
		if !ok {
			n = len(seen)
			seen[key] = n
			fmt.Fprintf(b, "),\nscope_%d AS MATERIALIZED (\n  %s\n", n, f.SQL)
			b.args = append(b.args, f.Args...)
		}
		out[i] = &Filter{SQL: fmt.Sprintf("SELECT ckey FROM scope_%d", n)}
	}
	return out
}

// ScorecardStatement is the fast scorecard: one statement giving, for each
// version of Defs, its value (column kpi: the index in Defs) for the
// previous window and the window (column period: the previous window's
// start, then the window's).
type ScorecardStatement struct {
	Defs []*queries.Definition
	SQL  string
	Args []any
}

// PlanScorecard plans the fast scorecard of the versions that have a fast
// form among defs, over [from, to) and its previous window, each
// restricted by its filter (the key's scope; nil for none). It returns nil
// when none has one. The tables the versions share are computed once.
func PlanScorecard(defs []*queries.Definition, filters []*Filter, from, to time.Time) *ScorecardStatement {
	ps, _ := Periods(from, to, GrainNone)
	ps = compared(ps[0])
	mode := modeOf(ps)
	var fast []*queries.Definition
	var forms []*queries.Fast
	var fastFilters []*Filter
	r := noRollup
	for i, d := range defs {
		f, combos := scorecardForm(d, mode, ps, filters[i])
		if f == nil {
			continue
		}
		fast = append(fast, d)
		forms = append(forms, f)
		switch {
		case combos:
			fastFilters = append(fastFilters, filters[i].Combinations)
			r = comboRollup
		case filters[i] != nil:
			fastFilters = append(fastFilters, byKeys(filters[i : i+1])[0])
		default:
			fastFilters = append(fastFilters, nil)
		}
	}
	if len(fast) == 0 {
		return nil
	}
	var b statementBuilder
	b.periods(ps)
	b.fastSources(forms, ps, true, keyInts, r, groupSums{})
	fastFilters = b.sharedFilters(fastFilters)
	for i, d := range fast {
		fmt.Fprintf(&b, "),\nk%d AS (\n  SELECT r.period, %s\n  FROM (", i, valueColumns(fastDefinition(d, forms[i]))[0])
		grouped := len(forms[i].Counted) > 0
		if grouped {
			// Grouped as Plan's aggregate groups them.
			b.WriteString("SELECT r.period, " + strings.Join(counted(forms[i]), ", ") + " FROM (")
		}
		b.fastRows(d, forms[i], nil, []*Filter{fastFilters[i]}, true, ps)
		if grouped {
			fmt.Fprintf(&b, ") r GROUP BY %s", strings.Join(positions(0, 1+len(forms[i].Counted)), ", "))
		}
		b.WriteString(") r\n  GROUP BY 1\n")
	}
	b.WriteString(")\n")
	for i := range fast {
		if i > 0 {
			b.WriteString("UNION ALL\n")
		}
		fmt.Fprintf(&b, "SELECT %d AS kpi, period, value FROM k%d\n", i, i)
	}
	sql, args := withLiterals(b.String(), b.args)
	return &ScorecardStatement{Defs: fast, SQL: sql, Args: args}
}
