package engine

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"custkpi/kpi"
)

// ChurnDrivers is the churn of the previous window's active customers,
// split by what they lived through and who they are.
type ChurnDrivers struct {
	From         string         `json:"from"`
	To           string         `json:"to"`
	PreviousFrom string         `json:"previous_from"`
	Definition   string         `json:"definition"`
	Test         string         `json:"test"`
	Customers    int64          `json:"customers"`
	Churned      int64          `json:"churned"`
	ChurnRate    *float64       `json:"churn_rate" extensions:"x-nullable"`
	Splits       []ChurnSplit   `json:"splits"`
	Skipped      []SkippedSplit `json:"skipped"`
}

// ChurnSplit is one group of one split.
type ChurnSplit struct {
	Split     string   `json:"split" example:"complained"`
	Value     any      `json:"value" extensions:"x-nullable"`
	Customers int64    `json:"customers"`
	Churned   int64    `json:"churned"`
	ChurnRate *float64 `json:"churn_rate" extensions:"x-nullable"`
	// Lift is the group's churn rate over the overall rate.
	Lift *float64 `json:"lift" extensions:"x-nullable"`
	// The group against the other customers: two-proportion z-test.
	Z           *float64 `json:"z" extensions:"x-nullable"`
	PValue      *float64 `json:"p_value" extensions:"x-nullable"`
	Significant *bool    `json:"significant" extensions:"x-nullable"`
}

const churnDefinition = "customers with a completed order in the previous window (the previous calendar month, quarter or year when the window is exactly one, otherwise the same length just before) and none in the window count as churned, as churn_rate v1. complained: a complaint ticket opened in the previous window; ticket_category: the categories of their tickets opened in the previous window (a customer is in each of theirs; no ticket: none); satisfaction_band: their mean csat over the previous window's surveys (dissatisfied < 3, neutral 3 to < 4, satisfied >= 4, no survey); purchase_cycle: suspected churn as of the window start (no order for over twice their median gap between order days); tier:RULESET: their tier in the rule set's latest evaluation; the customer dimensions as they are."

// ChurnDriversOf splits the churn of the window's starting customers.
func (e *Engine) ChurnDriversOf(ctx context.Context, from, to time.Time) (*ChurnDrivers, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	s := e.snap()
	if s.datasets["orders"] == nil {
		return nil, &Error{Code: CodeMissingDataset, Message: "churn drivers need the orders dataset; import it first", Details: map[string]any{"datasets": []string{"orders"}}}
	}
	from, to, err := kpi.Window(s.dataEnd, from, to)
	if err != nil {
		return nil, err
	}
	prev := kpi.PreviousStart(from, to)
	out := &ChurnDrivers{From: kpi.Date(from), To: kpi.Date(to), PreviousFrom: kpi.Date(prev), Definition: churnDefinition,
		Test:   fmt.Sprintf("two-proportion z-test (pooled) of the group against the other customers, two-sided, level %g", NoiseLevel),
		Splits: []ChurnSplit{}, Skipped: []SkippedSplit{}}
	splits, err := e.churnSplits(ctx, s, out)
	if err != nil {
		return nil, err
	}
	query, args, err := churnQuery(s, splits, prev, from, to, scopeOf(ctx))
	if err != nil {
		return nil, err
	}
	var t *table
	if err := e.read(ctx, func(ctx context.Context, conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		t, err = scanTable(rows)
		return err
	}); err != nil {
		return nil, contextErr(ctx, err, "churn drivers")
	}
	churnRows(out, splits, t)
	return out, nil
}

// churnSplit is one split: its name and the expression of its value over
// the joined customer row x.
type churnSplit struct {
	name string
	expr string
}

// churnSplits lists the splits: the fixed ones whose data is loaded, every
// evaluated rule set's tier and the customer dimensions (those with one
// value or more than maxExplainGroups left out, as in Explain).
func (e *Engine) churnSplits(ctx context.Context, s *snapshot, out *ChurnDrivers) ([]churnSplit, error) {
	var splits []churnSplit
	if s.datasets["tickets"] != nil {
		splits = append(splits, churnSplit{"complained", "CASE WHEN tk.complained THEN 'yes' ELSE 'no' END"})
	}
	if ds := s.datasets["surveys"]; ds != nil && slices.Contains(ds.Columns, "csat") {
		splits = append(splits, churnSplit{"satisfaction_band", `CASE WHEN sv.csat IS NULL THEN 'no survey' WHEN sv.csat < 3 THEN 'dissatisfied'
			WHEN sv.csat < 4 THEN 'neutral' ELSE 'satisfied' END`})
	}
	splits = append(splits, churnSplit{"purchase_cycle", "CASE WHEN ft.suspected_churn THEN 'suspected churn' ELSE 'in cycle' END"})
	for _, rs := range slices.Sorted(maps.Keys(s.data.Evaluations)) {
		splits = append(splits, churnSplit{"tier:" + rs, fmt.Sprintf("(SELECT tier FROM tier_assignments WHERE evaluation = %d AND customer_id = b.customer_id)", s.data.Evaluations[rs].ID)})
	}
	for _, name := range kpi.CustomerDimensions(s.data) {
		if name == "age" {
			out.Skipped = append(out.Skipped, SkippedSplit{Dimension: name, Reason: "split by its bands, age_band"})
			continue
		}
		n, err := e.distinctValues(ctx, s, kpi.GroupRef{Name: name, Customer: true})
		if err != nil {
			return nil, err
		}
		if n <= 1 || n > maxExplainGroups {
			out.Skipped = append(out.Skipped, SkippedSplit{Dimension: name, Reason: fmt.Sprintf("%d values: one splits nothing, more than %d make groups too small", n, maxExplainGroups)})
			continue
		}
		splits = append(splits, churnSplit{name, "d." + quoteIdent(name)})
	}
	return splits, nil
}

// churnQuery composes the one statement: the starting customers, their
// previous window's tickets and surveys, their features as of the window
// start and their dimensions joined once, every split's value cast to
// text, unpivoted and counted; the ticket categories (several per
// customer) are counted from the list of each customer's categories.
func churnQuery(s *snapshot, splits []churnSplit, prev, from, to time.Time, scope Scope) (string, []any, error) {
	filter, err := kpi.ScopeFilter(s.data, nil, scope)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	args := []any{from, from, prev, to}
	b.WriteString(`WITH act AS (
	SELECT customer_id, bool_or(order_date < ?) AS in_prev, bool_or(order_date >= ?) AS in_window
	FROM orders
	WHERE coalesce(status, 'completed') = 'completed' AND order_date >= ? AND order_date < ?
	GROUP BY customer_id
), base AS (
	SELECT customer_id, NOT in_window AS churned FROM act WHERE in_prev`)
	if filter != nil {
		fmt.Fprintf(&b, " AND customer_id IN (%s)", filter.SQL)
		args = append(args, filter.Args...)
	}
	b.WriteString(")")
	joins := ""
	if s.datasets["tickets"] != nil {
		b.WriteString(`, tk AS (
	SELECT customer_id, bool_or(category = 'complaint') AS complained, list(DISTINCT coalesce(category, '(no category)')) AS cats
	FROM tickets WHERE opened_at >= ? AND opened_at < ? GROUP BY customer_id)`)
		args = append(args, prev, from)
		joins += " LEFT JOIN tk ON tk.customer_id = b.customer_id"
	}
	if ds := s.datasets["surveys"]; ds != nil && slices.Contains(ds.Columns, "csat") {
		b.WriteString(`, sv AS (
	SELECT customer_id, avg(csat) AS csat FROM surveys WHERE survey_date >= ? AND survey_date < ? GROUP BY customer_id)`)
		args = append(args, prev, from)
		joins += " LEFT JOIN sv ON sv.customer_id = b.customer_id"
	}
	b.WriteString(`, ft AS (SELECT customer_id, suspected_churn FROM customer_features_at(?::TIMESTAMP))`)
	args = append(args, from)
	joins += " LEFT JOIN ft ON ft.customer_id = b.customer_id LEFT JOIN customer_dims() d ON d.customer_id = b.customer_id"
	b.WriteString(", x AS (SELECT b.churned")
	var on []string
	for i, sp := range splits {
		fmt.Fprintf(&b, ", CAST(%s AS VARCHAR) AS __s%d", sp.expr, i)
		on = append(on, fmt.Sprintf("__s%d", i))
	}
	if s.datasets["tickets"] != nil {
		b.WriteString(", tk.cats")
	}
	b.WriteString(" FROM base b" + joins + ")\n")
	b.WriteString("SELECT '' AS split, NULL::VARCHAR AS value, count(*) AS customers, count(*) FILTER (WHERE churned) AS churned FROM x")
	if len(on) > 0 {
		fmt.Fprintf(&b, "\nUNION ALL SELECT split, value, count(*), count(*) FILTER (WHERE churned) FROM x UNPIVOT INCLUDE NULLS (value FOR split IN (%s)) GROUP BY split, value",
			strings.Join(on, ", "))
	}
	if s.datasets["tickets"] != nil {
		b.WriteString("\nUNION ALL SELECT 'ticket_category', cat, count(*), count(*) FILTER (WHERE churned) FROM (SELECT churned, unnest(coalesce(cats, ['(no ticket)'])) AS cat FROM x) GROUP BY cat")
	}
	return b.String(), args, nil
}

// churnRows reads the counts into the answer: the overall rate, and each
// group's rate, lift and test against the rest.
func churnRows(out *ChurnDrivers, splits []churnSplit, t *table) {
	names := map[string]string{"ticket_category": "ticket_category"}
	order := map[string]int{}
	for i, sp := range splits {
		names[fmt.Sprintf("__s%d", i)] = sp.name
		order[sp.name] = 2 * i
	}
	order["ticket_category"] = 1 // right after complained
	var rows []ChurnSplit
	for _, r := range t.Rows {
		split, _ := r[0].(string)
		n, c := toInt(r[2]), toInt(r[3])
		if split == "" {
			out.Customers, out.Churned = n, c
			continue
		}
		rows = append(rows, ChurnSplit{Split: names[split], Value: r[1], Customers: n, Churned: c})
	}
	var overall float64
	if out.Customers > 0 {
		overall = float64(out.Churned) / float64(out.Customers)
		out.ChurnRate = &overall
	}
	for i := range rows {
		g := &rows[i]
		if g.Customers == 0 {
			continue
		}
		rate := float64(g.Churned) / float64(g.Customers)
		g.ChurnRate = &rate
		if overall > 0 {
			g.Lift = finite(rate / overall)
		}
		g.Z, g.PValue = twoProportionZ(float64(out.Churned-g.Churned), float64(out.Customers-g.Customers), float64(g.Churned), float64(g.Customers))
		if g.PValue != nil {
			sig := *g.PValue <= NoiseLevel
			g.Significant = &sig
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if order[a.Split] != order[b.Split] {
			return order[a.Split] < order[b.Split]
		}
		return orZero(a.ChurnRate) > orZero(b.ChurnRate)
	})
	out.Splits = append(out.Splits, rows...)
}
