package engine

import (
	"context"
	"database/sql"
	"fmt"

	"custkpi/kpi"
	"custkpi/store"
)

// Invariant is one property a consistent database has: the derived data
// (features, tiers, scores) and the history agree with the datasets.
type Invariant struct {
	Name string `json:"name"`
	// What it demands, for people.
	Rule string `json:"rule"`
	OK   bool   `json:"ok"`
	// Problem says what is wrong when OK is false.
	Problem string `json:"problem,omitempty"`
}

// invariantCheck is an invariant and the query that finds its violations:
// it answers one row, (ok BOOLEAN, problem VARCHAR). fast: it checks the
// fast path's tables, and holds trivially when their stamp is behind the
// data (answers then take the plain path).
type invariantCheck struct {
	name, rule, query string
	fast              bool
}

var invariantChecks = []invariantCheck{
	{name: "generation", rule: "the current generation is the last one recorded",
		query: `SELECT s.generation = coalesce(g.last, s.generation),
		        format('meta_state says generation {} but the log ends at {}', s.generation, g.last)
		 FROM meta_state s, (SELECT max(id) AS last FROM meta_generations) g`},
	{name: "features_generation", rule: "customer_features was built from the data of the current generation",
		query: `SELECT d.data_generation = d.features_generation AND d.data_generation <= s.generation,
		        format('customer_features belongs to generation {}, the data to {}', d.features_generation, d.data_generation)
		 FROM meta_derived d, meta_state s`},
	{name: "features_customers", rule: "customer_features has exactly one row per customer",
		query: `SELECT f.n = c.n AND f.d = f.n,
		        format('{} customers but {} feature rows ({} distinct)', c.n, f.n, f.d)
		 FROM (SELECT count(*) AS n, count(DISTINCT customer_id) AS d FROM customer_features) f,
		      (SELECT count(*) AS n FROM customers) c`},
	{name: "features_monetary", rule: "the customers' monetary sums equal their completed order revenue",
		query: `SELECT abs(f.m - o.m) <= 1e-6 * greatest(1, abs(o.m)),
		        format('features sum to {} but completed orders of known customers to {}', f.m, o.m)
		 FROM (SELECT coalesce(sum(monetary), 0) AS m FROM customer_features) f,
		      (SELECT coalesce(sum(amount), 0) AS m FROM orders
		       WHERE coalesce(status, 'completed') = 'completed' AND customer_id IN (SELECT customer_id FROM customers)) o`},
	{name: "data_end", rule: "the end of the data recorded by the last derivation, when not older than the orders, is the day after the latest order",
		query: `SELECT d.data_end_generation IS NULL OR d.data_end_generation < coalesce(o.generation, 0)
		          OR d.data_end IS NOT DISTINCT FROM e.data_end,
		        format('recorded {} at generation {}, but the orders end at {}', coalesce(d.data_end::VARCHAR, 'none'), d.data_end_generation, coalesce(e.data_end::VARCHAR, 'none'))
		 FROM meta_derived d,
		      (SELECT date_trunc('day', max(order_date)) + INTERVAL 1 DAY AS data_end FROM orders) e,
		      (SELECT max(coalesce(generation, id)) AS generation FROM meta_imports WHERE kind = 'orders' AND status = 'ok') o`},
	{name: "dataset_rows", rule: "every dataset holds the rows its imports recorded (since its last replace)",
		query: datasetRowsCheck()},
	{name: "fast_tables", fast: true,
		rule: "the fast path's tables, stamped current, hold the completed orders of known customers: their count (per day, per month and per combination of dimensions), their customers and their revenue; and, for suspected churn, the customers with three order days or more, each flagged once their history ends",
		query: `SELECT t.orders = o.orders AND c.orders = o.orders AND b.orders = o.orders AND h.firsts = o.customers
		        AND abs(coalesce(t.amount, 0) - o.amount) <= 1e-6 * greatest(1, abs(o.amount))
		        AND s.eligible = r.customers AND s.flagged = r.customers,
		        format('the fast tables hold {} completed orders ({} summed by month, {} by combination of dimensions) of {} customers, revenue {}, {} customers eligible for suspected churn and {} flagged in the end; the orders table {} of {}, revenue {}, {} customers with three order days or more',
		               t.orders, c.orders, b.orders, h.firsts, coalesce(t.amount, 0), s.eligible, s.flagged, o.orders, o.customers, o.amount, r.customers)
		 FROM (SELECT coalesce(sum(orders), 0) AS orders, sum(amount) AS amount FROM fast_order_totals) t,
		      (SELECT coalesce(sum(orders), 0) AS orders FROM fast_calendar WHERE months = 1) c,
		      (SELECT coalesce(sum(orders), 0) AS orders FROM fast_order_totals_by) b,
		      (SELECT coalesce(sum(firsts), 0) AS firsts FROM fast_history_per_day) h,
		      (SELECT coalesce(sum(eligible), 0) AS eligible, coalesce(sum(flagged), 0) AS flagged FROM fast_suspect_per_day) s,
		      (SELECT count(*) AS orders, count(DISTINCT customer_id) AS customers, coalesce(sum(amount), 0) AS amount FROM orders
		       WHERE coalesce(status, 'completed') = 'completed' AND customer_id IN (SELECT customer_id FROM customers)) o,
		      (SELECT count(*) AS customers FROM (
		         SELECT customer_id FROM orders
		         WHERE coalesce(status, 'completed') = 'completed' AND customer_id IN (SELECT customer_id FROM customers)
		         GROUP BY customer_id HAVING count(DISTINCT CAST(order_date AS DATE)) >= 3)) r`},
	{name: "fast_tables_engagement", fast: true,
		rule: "the fast path's tables, stamped current, hold the tickets, the email and social events, the NPS answers and the contracts of known customers: a row per ticket, per event and per contract, and their counts per combination of dimensions",
		query: `SELECT tr.n = t.n AND tb.n = t.n AND er.n = ev.n AND eb.sent = ev.sent AND sd.nps = s.nps AND sb.nps = s.nps AND cr.n = c.n,
		        format('the fast tables hold {} tickets ({} per combination), {} email and social events ({} emails sent per combination, {} in all), {} NPS answers ({} per combination) and {} contracts; the datasets {} tickets, {} such events ({} emails sent), {} NPS answers and {} contracts of known customers',
		               tr.n, tb.n, er.n, eb.sent, er.sent, sd.nps, sb.nps, cr.n, t.n, ev.n, ev.sent, s.nps, c.n)
		 FROM (SELECT count(*) AS n FROM fast_ticket_rows) tr,
		      (SELECT coalesce(sum(tickets), 0) AS n FROM fast_ticket_totals_by) tb,
		      (SELECT count(*) AS n FROM tickets WHERE customer_id IN (SELECT customer_id FROM customers)) t,
		      (SELECT count(*) AS n, coalesce(sum(email_sent), 0) AS sent FROM fast_event_rows) er,
		      (SELECT coalesce(sum(email_sent), 0) AS sent FROM fast_event_totals_by) eb,
		      (SELECT count(*) AS n, count(*) FILTER (WHERE channel = 'email' AND event_type = 'sent') AS sent FROM events
		       WHERE channel IN ('email', 'social') AND customer_id IN (SELECT customer_id FROM customers)) ev,
		      (SELECT coalesce(sum(nps_responses), 0) AS nps FROM fast_survey_days) sd,
		      (SELECT coalesce(sum(nps_responses), 0) AS nps FROM fast_survey_totals_by) sb,
		      (SELECT count(nps) AS nps FROM surveys WHERE customer_id IN (SELECT customer_id FROM customers)) s,
		      (SELECT count(*) AS n FROM fast_contract_rows) cr,
		      (SELECT count(*) AS n FROM contracts WHERE customer_id IN (SELECT customer_id FROM customers)) c`},
	{name: "fast_tiers", fast: true,
		rule: "the fast path's keyed tier assignments, stamped current, are every evaluation's assignments of known customers, each at its customer's key",
		query: `SELECT ft.n = ta.n AND ft.wrong = 0,
		        format('the fast tables hold {} keyed tier assignments ({} with another customer''s key or tier); the evaluations {} of known customers', ft.n, ft.wrong, ta.n)
		 FROM (SELECT count(*) AS n, count(*) FILTER (WHERE a.tier IS DISTINCT FROM f.tier) AS wrong
		       FROM (SELECT evaluation, tiers[unnest(codes)] AS tier, generate_subscripts(codes, 1) AS ckey FROM fast_tier_lists) f
		       JOIN fast_customer_keys k USING (ckey)
		       LEFT JOIN tier_assignments a ON a.evaluation = f.evaluation AND a.customer_id = k.customer_id
		       WHERE f.tier IS NOT NULL) ft,
		      (SELECT count(*) AS n FROM tier_assignments WHERE customer_id IN (SELECT customer_id FROM customers)) ta`},
	{name: "tier_sums", fast: true,
		rule:  "the fast path's sums per calendar period and tier, stamped current, are those of each rule set's latest evaluation, and each evaluation's add up to everyone's completed orders and active customers of each month",
		query: tierSumsCheck()},
	{name: "wide_sums", fast: true,
		rule:  "the fast path's sums per calendar period and value of each wide dimension, stamped current, key every customer, and each dimension's add up to everyone's completed orders and active customers of each month",
		query: wideSumsCheck()},
	{name: "evaluations", rule: "every evaluation holds as many assignments as it counted, and every assignment has its evaluation",
		query: `SELECT count(*) = 0, format('{} evaluation(s) disagree with their assignments, e.g. {}', count(*), min(what))
		 FROM (
		   SELECT format('evaluation {} counted {} but holds {}', e.id, e.customers, count(a.customer_id)) AS what
		   FROM meta_evaluations e LEFT JOIN tier_assignments a ON a.evaluation = e.id
		   GROUP BY e.id, e.customers HAVING count(a.customer_id) <> e.customers
		   UNION ALL
		   SELECT format('assignments of evaluation {}, which is not recorded', evaluation)
		   FROM (SELECT DISTINCT evaluation FROM tier_assignments) WHERE evaluation NOT IN (SELECT id FROM meta_evaluations))`},
	{name: "scores", rule: "every model score belongs to the last recorded fit",
		query: `SELECT coalesce(f.scored, 0) = s.n OR (f.scored IS NULL AND f.id IS NOT NULL),
		        format('{} scores but the last fit ({}) scored {}', s.n, coalesce(f.id::VARCHAR, 'none'), coalesce(f.scored::VARCHAR, 'nothing'))
		 FROM (SELECT count(*) AS n FROM clv_scores) s
		 LEFT JOIN (SELECT id, scored FROM meta_model_fits WHERE model = 'clv' ORDER BY id DESC LIMIT 1) f ON true`},
}

// tierSumsCheck finds the rule sets' latest evaluations without sums per
// tier, and the evaluations whose month sums of orders, or of active
// customers, over their tiers differ from everyone's.
func tierSumsCheck() string {
	return `SELECT count(*) = 0, format('{} evaluation(s) disagree with their sums per tier, e.g. {}', count(*), min(what))
		 FROM (
		   SELECT format('evaluation {} is its rule set''s latest but has no sums per tier', id) AS what
		   FROM (SELECT max(id) AS id FROM meta_evaluations GROUP BY ruleset) WHERE id NOT IN (SELECT evaluation FROM fast_tier_sums)
		   UNION ALL ` + sumsAgainstEveryone("(SELECT evaluation AS id FROM fast_tier_sums)", "_tiers", "tier of evaluation", kpi.TierKeyFactor) + `)`
}

// wideSumsCheck finds the wide dimensions whose codes do not key every
// customer (of those whose every sum is kept: a top-only one has no
// codes), and those whose month sums of orders, or of active customers,
// over their values differ from everyone's.
func wideSumsCheck() string {
	return `SELECT count(*) = 0, format('{} wide dimension(s) disagree with their sums per value, e.g. {}', count(*), min(what))
		 FROM (
		   SELECT format('wide dimension {} keys {} customers of {}', c.dimension, len(c.codes), k.n) AS what
		   FROM fast_wide_codes c CROSS JOIN (SELECT count(*) AS n FROM fast_customer_keys) k
		   WHERE c.summed AND (len(c.codes) <> k.n OR list_contains(c.codes, NULL))
		   UNION ALL ` + sumsAgainstEveryone("(SELECT dimension AS id FROM fast_wide_codes WHERE summed)", "_wide", "value of wide dimension", kpi.WideKeyFactor) + `)`
}

// sumsAgainstEveryone is a query of the groupings (owners: a relation of
// their ids, id; each grouping's group keys are its id times factor
// plus the group's) whose month sums of orders, or of active customers,
// in the tables of sums per group of the suffix differ from everyone's,
// each named per.
func sumsAgainstEveryone(owners, suffix, per string, factor int) string {
	return fmt.Sprintf(`SELECT format('the sums per %[3]s {} hold {} orders and {} active customer-months; everyone''s {} and {}',
		                 s.id, coalesce(o.orders, 0), coalesce(a.active, 0), t.orders, t.active)
		   FROM %[1]s s
		   LEFT JOIN (SELECT ckey // %[4]d AS id, sum(orders) AS orders FROM fast_order_calendar%[2]s WHERE months = 1 GROUP BY 1) o USING (id)
		   LEFT JOIN (SELECT ckey // %[4]d AS id, sum(active) AS active FROM fast_calendar_activity%[2]s WHERE months = 1 GROUP BY 1) a USING (id)
		   CROSS JOIN (SELECT (SELECT coalesce(sum(orders), 0) FROM fast_calendar WHERE months = 1) AS orders,
		                      (SELECT coalesce(sum(active), 0) FROM fast_calendar_activity WHERE months = 1) AS active) t
		   WHERE coalesce(o.orders, 0) <> t.orders OR coalesce(a.active, 0) <> t.active`, owners, suffix, per, factor)
}

// datasetRowsCheck compares each kind's table with the rows its successful
// imports recorded since its last replace.
func datasetRowsCheck() string {
	q := `SELECT count(*) = 0, format('{}', string_agg(format('{} has {} rows, its imports recorded {}', kind, have, recorded), '; '))
	      FROM (`
	for i, k := range Kinds {
		if i > 0 {
			q += " UNION ALL "
		}
		q += fmt.Sprintf(`SELECT '%[1]s' AS kind, (SELECT count(*) FROM %[2]s) AS have,
			(SELECT sum(rows) FROM meta_imports WHERE kind = '%[1]s' AND status = 'ok' AND id >= coalesce(
				(SELECT max(id) FROM meta_imports WHERE kind = '%[1]s' AND status = 'ok' AND mode = 'replace'), 0)) AS recorded`,
			k.Name, quoteIdent(k.Name))
	}
	return q + `) WHERE recorded IS NOT NULL AND have <> recorded`
}

// Check verifies the invariants on the database as committed, in one read
// transaction (whatever generation it holds, even one this engine did not
// write), and reports each. It changes nothing.
func (e *Engine) Check(ctx context.Context) ([]Invariant, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	defer conn.Close()
	if _, err := store.BeginRead(ctx, conn); err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	var out []Invariant
	for _, c := range invariantChecks {
		inv := Invariant{Name: c.name, Rule: c.rule}
		if c.fast && !e.snap().fastCurrent {
			inv.OK = true
			out = append(out, inv)
			continue
		}
		var problem sql.NullString
		if err := conn.QueryRowContext(ctx, c.query).Scan(&inv.OK, &problem); err != nil {
			return nil, contextErr(ctx, err, "check "+c.name)
		}
		if !inv.OK {
			inv.Problem = problem.String
		}
		out = append(out, inv)
	}
	return out, nil
}
