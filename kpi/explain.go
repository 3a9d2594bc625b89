package kpi

import (
	"fmt"
	"slices"
	"strings"

	"custkpi/fault"
	"custkpi/queries"
)

// SplitStatement answers a KPI for the window and the previous one, in
// total and per group of each of several dimensions, in one statement: the
// KPI rows are computed once, the dimensions joined once, and GROUPING SETS
// aggregate them per (period), (period, dimension 1), (period, dimension
// 2), ... Each row carries a __grouped_<i> column per dimension, 0 when the
// row is a group of that dimension, so a null group is told apart from a
// total.
type SplitStatement struct {
	Def    *queries.Definition
	SQL    string
	Args   []any
	Result *Result // From, To, By (the dimensions), Fingerprint
	Groups []GroupRef
}

// PlanSplit plans a SplitStatement over the dimensions by (customer
// columns, age_band, tier:<ruleset>, or the KPI's own dimensions). Matrices
// and statistics cannot be split: a statistic (a median) of a group does
// not add up to the whole.
func PlanSplit(cat *Catalog, data *Data, q Query, where *Filter, by []string) (*SplitStatement, error) {
	def, err := resolve(cat, data, q)
	if err != nil {
		return nil, err
	}
	if len(def.Group) > 0 || def.Kind == queries.Statistic {
		kind := string(def.Kind)
		if len(def.Group) > 0 {
			kind = "matrix (one value per " + strings.Join(def.Group, " and ") + ")"
		}
		return nil, fault.InvalidParam("kpi", "%s is a %s; a change can be split only for additive and ratio KPIs, which have one value per window that sums or divides over groups", def.Name, kind)
	}
	if q.Grain != "" && q.Grain != GrainNone {
		return nil, fault.InvalidParam("grain", "a split compares whole windows; leave grain out")
	}
	q.Grain, q.Compare = GrainNone, true
	from, to, ps, err := windowPeriods(data, def, q)
	if err != nil {
		return nil, err
	}
	dims, err := resolveDimensions(data, def, by)
	if err != nil {
		return nil, err
	}
	params, scope, err := rowInputs(data, def, q)
	if err != nil {
		return nil, err
	}
	var b statementBuilder
	b.periods(ps)
	b.kpiRows(def, ps, params, []*Filter{where, scope}, false)
	b.groupingSets(def, dims)
	res := header(data, def, q, from, to, dims, params)
	groups := make([]GroupRef, len(dims))
	for i, d := range dims {
		groups[i] = GroupRef{Name: d.name, Customer: d.customer, Evaluation: d.evaluation.ID}
		if !d.customer && !d.tier {
			groups[i].Datasets, groups[i].Columns = def.Requires, d.names
		}
	}
	sql, args := withLiterals(b.String(), b.args)
	return &SplitStatement{Def: def, SQL: sql, Args: args, Result: res, Groups: groups}, nil
}

// groupingSets writes the select list, the joins and GROUPING SETS of a
// split: the totals per period and each dimension's groups per period.
func (b *statementBuilder) groupingSets(def *queries.Definition, dims []dimension) {
	cols := []string{"r.period AS period"}
	sets := []string{"(r.period)"}
	var joins []string
	var joinArgs []any
	if j := customerJoin(dims, keyJoin{rowKey: "r.customer_id"}); j != "" {
		joins = append(joins, j)
	}
	for i, d := range dims {
		cols = append(cols, fmt.Sprintf("%s AS %s", d.expr, QuoteIdent(d.name)),
			fmt.Sprintf("GROUPING(%s) AS __grouped_%d", d.expr, i))
		sets = append(sets, fmt.Sprintf("(r.period, %s)", d.expr))
		if d.join != "" && !slices.Contains(joins, d.join) {
			joins = append(joins, d.join)
			joinArgs = append(joinArgs, d.joinArgs...)
		}
	}
	cols = append(cols, valueColumns(def)...)
	b.WriteString(strings.Join(cols, ", "))
	b.WriteString("\nFROM kpi_rows r")
	for _, j := range joins {
		b.WriteString("\n" + j)
	}
	b.args = append(b.args, joinArgs...)
	b.WriteString("\nGROUP BY GROUPING SETS (" + strings.Join(sets, ", ") + ")")
}
