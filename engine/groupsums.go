package engine

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"custkpi/kpi"
	"custkpi/store"
)

// The sums per calendar period and group: the order sums, the email and
// social counts, the NPS and CSAT counts, the tickets and their hours to
// resolution, the survey scores' counts, the customers active (and
// retained, repeating, complaining) and the history-wide KPIs' state at
// each first of a month, each summed per group of customers rather than
// read per customer. A request for whole calendar periods grouped by the
// groups alone reads a few rows a period (kpi's fineSources) where the
// customers' rows are hundreds of thousands. Three kinds of group have
// them (and the wide dimensions' values and the tiers the top fifth's
// revenue and the costed customers' profit too, topGroupSums):
//
//   - the finer combinations of the customers' dimensions (an age:
//     fast_*_fine, built with the fast tables, fineGroups);
//   - the values of each wide dimension (a signup date: fast_*_wide,
//     built with the fast tables, wideGroups): its group key is the
//     value's in fast_dim_wide; a top-only one (an age) has the sums
//     kept per group alone, of calendar months (wideTopGroups);
//   - the tiers of each rule set's latest evaluation (fast_*_tiers,
//     tierGroups), built with the fast tables for the evaluations there
//     are and by an evaluation for itself, in its write: its group key
//     is the evaluation times kpi.TierKeyFactor plus the position of the
//     customer's tier among its tiers (0 for none).
//
// The same statements build both: a groupKeys says how a customer's rows
// get their group key.
type groupKeys struct {
	// table is the name of the table of sums named name, built by the
	// statements.
	table func(name string) string
	// keyed is a per-customer table (or relation) from, whose column ckey
	// holds the customer's key, with its column fine holding the rows'
	// group key instead.
	keyed func(from, ckey, fine string) string
	// all is a relation of every group's key (ckey): the grid of the
	// history ends.
	all string
}

// fineGroups are the finer combinations, the column fine of the
// per-customer tables.
var fineGroups = groupKeys{
	table: func(name string) string { return name + "_fine" },
	keyed: func(from, _, _ string) string { return from },
	all:   "fast_dim_fine",
}

// wideGroups are the values of the wide dimensions whose every sum is
// kept, each customer's read at their key in each dimension's codes
// (fast_wide_codes): a customer is in a group of each dimension.
var wideGroups = wideKeys("summed", "true")

// wideTopGroups are the values of every wide dimension, the top-only
// ones too (an age), for the sums kept per group alone: the top-only
// ones' of calendar months alone (the request they serve, by month, read
// the customers' rows in 181-213 ms at 1M customers; with an age's
// quarters and years too, the top fifths per value took 3.5 s against
// 1.27 s for the signup date's alone). Their rows (fast_calendar's) have
// months.
//
// The top-only ones' group keys are read from their finer combination's
// (fast_fine_wide), a few thousand rows joined, rather than from a list
// of every customer's at their key: at 1M demo customers the five
// top-only dimensions' (a region's, an age's) took 1.2-2.4 s this way
// against 3.1 s.
var wideTopGroups = groupKeys{
	table: wideGroups.table,
	keyed: func(from, ckey, fine string) string {
		return fmt.Sprintf(`(SELECT x.* REPLACE (w.codes[x.%[2]s] AS %[3]s) FROM %[1]s x CROSS JOIN (SELECT codes FROM fast_wide_codes WHERE summed) w
		  UNION ALL SELECT x.* REPLACE (m.wkey AS %[3]s) FROM %[1]s x JOIN fast_fine_wide m ON m.fine = x.%[3]s WHERE x.months = 1)`,
			from, ckey, fine)
	},
	all: wideKeys("true", "true").all,
}

// wideKeys are the values of the wide dimensions (the rows of
// fast_wide_codes w) where holds, of the rows (x) where rows holds.
func wideKeys(where, rows string) groupKeys {
	return groupKeys{
		table: func(name string) string { return name + "_wide" },
		keyed: func(from, ckey, fine string) string {
			return fmt.Sprintf("(SELECT x.* REPLACE (w.codes[x.%s] AS %s) FROM %s x CROSS JOIN (SELECT codes, summed FROM fast_wide_codes WHERE %s) w WHERE %s)",
				ckey, fine, from, where, rows)
		},
		all: fmt.Sprintf("(SELECT ckey FROM fast_dim_wide WHERE ckey // %d IN (SELECT dimension FROM fast_wide_codes WHERE %s))", kpi.WideKeyFactor, where),
	}
}

// tierGroups are the tiers of the evaluations in fast_tier_build (a temp
// table of their rows of fast_tier_lists), each customer's read at their
// key in the evaluation's codes; the tables are temp ones, staged to be
// copied into the fast_*_tiers tables (tierSumStatements). A customer is
// in every evaluation's group: the rows are as many times the
// evaluations'.
var tierGroups = groupKeys{
	table: func(name string) string { return "temp." + name + "_stage" },
	keyed: func(from, ckey, fine string) string {
		return fmt.Sprintf("(SELECT x.* REPLACE (%s AS %s) FROM %s x CROSS JOIN fast_tier_build t)", tierKey("t", "x."+ckey), fine, from)
	},
	all: fmt.Sprintf("(SELECT CAST(t.evaluation * %d + unnest(range(0, len(t.tiers) + 1)) AS INTEGER) AS ckey FROM fast_tier_build t)", kpi.TierKeyFactor),
}

// tierKey is the group key of the customer of key ckey in the evaluation
// of the row t of fast_tier_lists.
func tierKey(t, ckey string) string {
	return fmt.Sprintf("CAST(%[1]s.evaluation * %[2]d + coalesce(%[1]s.codes[%[3]s], 0) AS INTEGER)", t, kpi.TierKeyFactor, ckey)
}

// orderGroupSums build the order sums per calendar period and group,
// from the customers' months (fast_calendar's; the quarters and years
// from the groups' months: at 1M demo customers per finer combination,
// 1.0 + 0.1 s against 2.0 s summing every kind's customers' rows).
func orderGroupSums(g groupKeys) []string {
	return calendarRollup(g.table("fast_order_calendar"), "ckey", `
	  SELECT pstart, fine AS ckey, orders, returned, costed, delivery_known, on_time, amount, costed_amount, profit
	  FROM source`, "SELECT * FROM "+g.keyed("(SELECT * FROM fast_calendar WHERE months = 1)", "ckey", "fine"),
		[]string{"orders", "returned", "costed", "delivery_known", "on_time"}, []string{"amount", "costed_amount", "profit"})
}

// topGroupSums build per calendar period and group: the customers with
// completed orders, their revenue and the top fifth's (the top-20%
// share, which otherwise ranks each group's customers per period), and
// the customers with costed orders and their profit (customer
// profitability, which otherwise counts them). Kept per group alone (a
// wide dimension's value, a tier): a request by an age groups many finer
// combinations, whose top fifths are not the age's. Each group's top
// fifth is summed from a list of its revenues (topFifthRevenue), without
// ranking its customers: sorting the lists took 1.2-1.4 s per signup
// date at 1M demo customers and 1.3-1.7 s per lifecycle tier, against
// 1.7-3.0 s and 1.7-3.1 s ranked by a window over the customers' rows;
// sorting only the revenues at or above the 70% quantile, 2.6 s against
// 3.1 s per wide dimension's value.
func topGroupSums(g groupKeys) []string {
	return []string{createTable(g.table("fast_calendar_top")) + ` AS
	SELECT months, pstart, fine AS ckey, ` + topColumns + `
	FROM ` + g.keyed("fast_calendar", "ckey", "fine") + ` WHERE orders > 0
	GROUP BY ALL ORDER BY months, pstart`}
}

// surveyGroupSums build the NPS and CSAT counts (surveyCounts) per
// calendar period and group, from fast_survey_days.
func surveyGroupSums(g groupKeys) []string {
	return calendarRollup(g.table("fast_survey_calendar"), "ckey", `
	  SELECT CAST(date_trunc('month', day) AS DATE) AS pstart, fine AS ckey, `+strings.Join(surveyCountNames(), ", ")+`
	  FROM source`, "SELECT * FROM "+g.keyed("fast_survey_days", "ckey", "fine"), surveyCountNames(), nil)
}

// ticketGroupSums build per calendar period and group the tickets
// opened, how many are resolved, and their hours to resolution summed
// and counted (as fast_ticket_totals_by per day), from fast_ticket_rows.
func ticketGroupSums(g groupKeys) []string {
	return calendarRollup(g.table("fast_ticket_totals_calendar"), "ckey", `
	  SELECT CAST(date_trunc('month', day) AS DATE) AS pstart, fine AS ckey, CAST(ticket_id IS NOT NULL AS INTEGER) AS tickets,
	         CAST(resolved AS INTEGER) AS resolved, resolution_hours, CAST(resolution_hours IS NOT NULL AS INTEGER) AS resolution_count
	  FROM source`, "SELECT * FROM "+g.keyed("fast_ticket_rows", "ckey", "fine"),
		[]string{"tickets", "resolved", "resolution_count"}, []string{"resolution_hours"})
}

// eventGroupSums build the email and social counts per calendar period
// and group.
func eventGroupSums(g groupKeys) []string {
	return calendarRollup(g.table("fast_event_calendar"), "ckey", `
	  SELECT CAST(date_trunc('month', day) AS DATE) AS pstart, fine AS ckey, `+strings.Join(eventCountNames(), ", ")+`
	  FROM source`, "SELECT * FROM "+g.keyed("fast_event_rows", "ckey", "fine"), eventCountNames(), nil)
}

// surveyKeysTable is the surveys' days and scores with their customer's
// key, combination and finer one, in columns no surveys column is named
// (scoreGroupSums): the scores alone, as all the columns took 0.6 s to
// copy at 1M demo customers; score__placeholder keeps the scores'
// pattern matching when there is no score column.
const surveyKeysTable = `CREATE OR REPLACE TEMP TABLE fast_survey_combo AS
		SELECT s.* EXCLUDE (customer_id), k.ckey AS __ckey, k.combo AS __combo, k.fine AS __fine
		FROM (SELECT customer_id, survey_date, COLUMNS('^score_') FROM (SELECT *, NULL::INTEGER AS score__placeholder FROM surveys)) s
		JOIN fast_customer_keys k USING (customer_id)`

// scoreGroupSums build the number of each survey score per attribute,
// calendar period and group, from fast_survey_combo (surveyKeysTable),
// which the caller builds: an import once for every grouping (0.24-0.34
// s each at 1M demo customers), an evaluation for its tiers.
func scoreGroupSums(g groupKeys) []string {
	return calendarRollup(g.table("fast_score_calendar"), "ckey, attribute, score", `
		SELECT CAST(date_trunc('month', survey_date) AS DATE) AS pstart, __fine AS ckey, attribute, score, 1 AS n
		FROM (UNPIVOT (SELECT survey_date, __fine, COLUMNS('^score_') FROM source)
		      ON COLUMNS('^score_') INTO NAME attribute VALUE score)
		WHERE attribute <> 'score__placeholder'`,
		"SELECT * FROM "+g.keyed("fast_survey_combo", "__ckey", "__fine"), []string{"n"}, nil)
}

// calendarActiveTable is each customer's calendar periods with completed
// orders, their orders there, whether they complained there, and whether
// they had completed orders in the period before of its kind too (kept):
// per customer once, so that the counts per group (activityGroupSums)
// join no customer rows (the tiers' at 1M demo customers: 0.4 s against
// 1.5 s, besides this table's 0.9 s, which an evaluation then has no
// need to build again). Unsorted: only grouped whole.
const calendarActiveTable = `CREATE OR REPLACE TABLE fast_calendar_active AS
		SELECT f.months, f.pstart, f.ckey, f.fine, f.orders, t.ckey IS NOT NULL AS complained, v.ckey IS NOT NULL AS kept
		FROM fast_calendar f
		LEFT JOIN fast_ticket_calendar t ON t.months = f.months AND t.pstart = f.pstart AND t.ckey = f.ckey
		LEFT JOIN (SELECT months, CAST(pstart + to_months(months) AS DATE) AS pstart, ckey FROM fast_calendar WHERE orders > 0) v
		       ON v.months = f.months AND v.pstart = f.pstart AND v.ckey = f.ckey
		WHERE f.orders > 0`

// activityGroupSums build, from fast_calendar_active
// (calendarActiveTable), per calendar period and group: the customers
// with completed orders in it (active), in the period before of its kind
// (prev_active) and in both (retained), for a period with orders or
// after one; of the active ones, their completed orders, how many have
// two or more (repeaters) and how many opened a complaint in the period
// (complainers). A customer's group is the same in both periods.
func activityGroupSums(g groupKeys) []string {
	return []string{createTable(g.table("fast_calendar_activity")) + ` AS
		WITH counts AS (
		  SELECT months, pstart, fine, count(*) AS n, sum(orders) AS orders, count(*) FILTER (WHERE orders >= 2) AS repeaters,
		         count(*) FILTER (WHERE complained) AS complainers, count(*) FILTER (WHERE kept) AS kept
		  FROM ` + g.keyed("fast_calendar_active", "ckey", "fine") + ` GROUP BY ALL),
		periods AS (SELECT months, pstart, fine FROM counts UNION SELECT months, CAST(pstart + to_months(months) AS DATE), fine FROM counts)
		SELECT p.months, p.pstart, p.fine AS ckey, CAST(coalesce(n.n, 0) AS BIGINT) AS active,
		       CAST(coalesce(v.n, 0) AS BIGINT) AS prev_active, CAST(coalesce(n.kept, 0) AS BIGINT) AS retained,
		       CAST(coalesce(n.orders, 0) AS BIGINT) AS orders, CAST(coalesce(n.repeaters, 0) AS BIGINT) AS repeaters,
		       CAST(coalesce(n.complainers, 0) AS BIGINT) AS complainers
		FROM periods p
		LEFT JOIN counts n USING (months, pstart, fine)
		LEFT JOIN counts v ON v.months = p.months AND v.fine = p.fine AND CAST(v.pstart + to_months(v.months) AS DATE) = p.pstart
		ORDER BY p.months, p.pstart`}
}

// groupSumTables are the tables of sums per calendar period and group
// kept per wide dimension's value and per tier: the datasets each reads,
// and its statements for the groups g keys.
var groupSumTables = []struct {
	name  string
	reads []string
	build func(g groupKeys) []string
	// whole: kept per group alone, no sum of the finer combinations'
	// (built for the top-only wide dimensions too; kpi's fineSources'
	// whole sources read it).
	whole bool
}{
	{"fast_order_calendar", fromOrders, orderGroupSums, false},
	{"fast_calendar_top", fromOrders, topGroupSums, true},
	{"fast_event_calendar", fromEvents, eventGroupSums, false},
	{"fast_survey_calendar", fromSurveys, surveyGroupSums, false},
	{"fast_ticket_totals_calendar", fromTickets, ticketGroupSums, false},
	{"fast_score_calendar", fromSurveys, scoreGroupSums, false},
	{"fast_calendar_activity", fromOrdersAndTickets, activityGroupSums, false},
	{"fast_history_ends", fromOrders, func(g groupKeys) []string { return []string{historyEnds(g)} }, false},
}

// wideSumStatements build the sums per calendar period and value of the
// wide dimensions (wideGroups; the top fifths of the top-only ones too,
// wideTopGroups), each table tagged with what it reads.
func wideSumStatements() []fastStatement {
	var out []fastStatement
	for _, t := range groupSumTables {
		g := wideGroups
		if t.whole {
			g = wideTopGroups
		}
		out = append(out, reading(t.reads, t.build(g)...)...)
	}
	return out
}

// tierBuild is which evaluations a build of the sums per tier is of: the
// statement making fast_tier_build their rows of fast_tier_lists, and
// how the built sums replace the tables' (or join them).
type tierBuild struct {
	evaluations string
	whole       bool // the tables are built anew, of these evaluations alone
}

// tiersOfLatest builds the sums per tier of each rule set's latest
// evaluation, anew: with the fast tables.
var tiersOfLatest = tierBuild{whole: true, evaluations: `CREATE OR REPLACE TEMP TABLE fast_tier_build AS
	SELECT l.evaluation, l.tiers, l.codes FROM fast_tier_lists l
	WHERE l.evaluation IN (SELECT max(id) FROM meta_evaluations GROUP BY ruleset)`}

// tierSumStatements build the sums per calendar period and tier of the
// evaluations b says (tierGroups), each table staged then copied, and
// fast_tier_sums, the evaluations they hold (read into kpi.Evaluation's
// Sums). Built anew with the fast tables, each table's statements are
// tagged with what it reads; fast_tier_sums, rebuilt with every table,
// is written only then.
func tierSumStatements(b tierBuild) []fastStatement {
	every := slices.Concat(fromOrders, fromEvents, fromSurveys, fromTickets)
	out := reading(every, b.evaluations)
	for _, t := range groupSumTables {
		stmts := t.build(tierGroups)
		stage, table := tierGroups.table(t.name), t.name+"_tiers"
		if b.whole {
			stmts = append(stmts, "CREATE OR REPLACE TABLE "+table+" AS SELECT * FROM "+stage+" ORDER BY ALL")
		} else {
			stmts = append(stmts, "DELETE FROM "+table+" WHERE ckey // "+fmt.Sprint(kpi.TierKeyFactor)+" NOT IN (SELECT max(id) FROM meta_evaluations GROUP BY ruleset)",
				"INSERT INTO "+table+" SELECT * FROM "+stage)
		}
		out = append(out, reading(t.reads, append(stmts, "DROP TABLE "+stage)...)...)
	}
	sums := []string{"CREATE OR REPLACE TABLE fast_tier_sums AS SELECT evaluation FROM fast_tier_build"}
	if !b.whole {
		sums = []string{"DELETE FROM fast_tier_sums WHERE evaluation NOT IN (SELECT max(id) FROM meta_evaluations GROUP BY ruleset)",
			"INSERT INTO fast_tier_sums SELECT evaluation FROM fast_tier_build"}
	}
	return slices.Concat(out, reading(nil, sums...), reading(every, "DROP TABLE fast_tier_build"))
}

// addTierSums builds the sums per calendar period and tier of an
// evaluation in its write (after addKeyedTiers gave it its codes), and
// drops those of the evaluations no longer their rule set's latest.
func addTierSums(ctx context.Context, conn *sql.Conn, evaluation int64) error {
	build := tierBuild{evaluations: `CREATE OR REPLACE TEMP TABLE fast_tier_build AS
	SELECT l.evaluation, l.tiers, l.codes FROM fast_tier_lists l WHERE l.evaluation = ?`}
	// The first statement, the evaluation's rows (bound to its id), then
	// the surveys' keys the score sums read, which an import builds once
	// for every grouping.
	stmts := tierSumStatements(build)
	stmts = slices.Concat(stmts[:1], reading(nil, surveyKeysTable), stmts[1:], reading(nil, "DROP TABLE fast_survey_combo"))
	for i, st := range stmts {
		var args []any
		if i == 0 {
			args = []any{evaluation}
		}
		if _, err := conn.ExecContext(ctx, st.sql, args...); err != nil {
			return fmt.Errorf("the sums per tier of evaluation %d (%s): %w", evaluation, tableOf(st.sql), err)
		}
	}
	return nil
}

// loadTierSums reads which evaluations have their sums per tier
// (fast_tier_sums; none before the fast tables are built).
func loadTierSums(ctx context.Context, q querier) (map[int64]bool, error) {
	out := map[int64]bool{}
	exists, err := store.TableExists(ctx, q, "fast_tier_sums")
	if err != nil || !exists {
		return out, err
	}
	rows, err := q.QueryContext(ctx, "SELECT evaluation FROM fast_tier_sums")
	if err != nil {
		return nil, fmt.Errorf("load state: the evaluations with sums per tier: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("load state: the evaluations with sums per tier: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}
