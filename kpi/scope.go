package kpi

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"custkpi/fault"
	"custkpi/queries"
)

// ScopeFilter is the customer filter of a key's scope (customers column →
// allowed values; all must hold), or nil for no scope. A KPI whose rows are
// not customers' (spend by channel) cannot be scoped: a scoped key may not
// read it. A scope column the customers no longer have matches nobody:
// a scope fails closed.
func ScopeFilter(data *Data, def *queries.Definition, scope map[string][]string) (*Filter, error) {
	if len(scope) == 0 {
		return nil, nil
	}
	if def != nil && def.Dimensions != nil {
		return nil, &fault.Error{Code: fault.CodeForbidden,
			Message: fmt.Sprintf("KPI %s is not computed per customer; a key with a row scope cannot read it", def.Name),
			Details: map[string]any{"kpi": def.Name}}
	}
	cols := slices.Sorted(maps.Keys(scope))
	var conds, comboConds []string
	var args []any
	for _, c := range cols {
		if !slices.Contains(data.CustomerColumns, c) {
			return &Filter{SQL: "SELECT customer_id FROM customers WHERE false"}, nil
		}
		conds = append(conds, fmt.Sprintf("CAST(%s AS VARCHAR) IN (SELECT unnest(?::VARCHAR[]))", QuoteIdent(c)))
		comboConds = append(comboConds, fmt.Sprintf("CAST(c.dims.%s AS VARCHAR) IN (SELECT unnest(?::VARCHAR[]))", QuoteIdent(c)))
		args = append(args, scope[c])
	}
	f := &Filter{SQL: "SELECT customer_id FROM customers WHERE " + strings.Join(conds, " AND "), Args: args}
	if !slices.ContainsFunc(cols, func(c string) bool { return !slices.Contains(data.ComboDimensions, c) }) {
		// The combinations hold the customers' values of these columns
		// (customer_dims() is customers' columns and age_band), so the
		// combinations whose values pass are exactly the customers'.
		f.Combinations = &Filter{SQL: "SELECT c.ckey FROM fast_dim_combos c WHERE " + strings.Join(comboConds, " AND "), Args: args}
	}
	return f, nil
}

// scopeKey is a canonical text of a scope, for cache keys.
func scopeKey(scope map[string][]string) string {
	cols := slices.Sorted(maps.Keys(scope))
	var b strings.Builder
	for _, c := range cols {
		vals := slices.Clone(scope[c])
		sort.Strings(vals)
		fmt.Fprintf(&b, "%q=%q;", c, vals)
	}
	return b.String()
}

// ScopeKey is the canonical text of a key's scope, for the engine's cache
// keys of answers the planner does not key (the scorecard).
func ScopeKey(scope map[string][]string) string { return scopeKey(scope) }
