package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"custkpi/kpi"
	"custkpi/rules"
)

// whereFilter compiles a where= condition with the rules compiler (the same
// checks and errors as a rule) and translates it to a customer-id subquery
// over the features. A condition the translator cannot express is
// evaluated in Go over the features and bound as a list of ids.
func (e *Engine) whereFilter(ctx context.Context, snap *snapshot, where string) (*kpi.Filter, error) {
	cond, err := rules.CompileCondition(where, snap.schema)
	if err != nil {
		var ee *Error
		if errors.As(invalidRuleset(err), &ee) {
			ee.Code = CodeInvalidParameter
			ee.Message = "invalid parameter \"where\": " + ee.Message
			ee.Details["parameter"] = "where"
			return nil, ee
		}
		return nil, err
	}
	asOf := snap.featuresAsOf
	s, err := cond.SQL(rules.SQLOptions{Alias: "f", Relation: "customer_features", AsOf: asOf})
	if err == nil {
		return &kpi.Filter{SQL: "SELECT f.customer_id FROM customer_features f WHERE " + s}, nil
	}
	if !errors.Is(err, rules.ErrNotTranslatable) {
		return nil, err
	}
	ids, err := e.matchInGo(ctx, cond, asOf)
	if err != nil {
		return nil, err
	}
	return &kpi.Filter{SQL: "SELECT unnest(?::VARCHAR[])", Args: []any{ids}}, nil
}

// matchInGo evaluates a condition over every customer's features in Go.
func (e *Engine) matchInGo(ctx context.Context, cond *rules.Condition, asOf time.Time) ([]string, error) {
	pct, err := sqlPercentiles(ctx, e.db, cond.Percentiles(), "customer_features")
	if err != nil {
		return nil, err
	}
	env := rules.EvalEnv{AsOf: asOf, Percentiles: pct}
	inputs := cond.Inputs()
	rows, err := e.db.QueryContext(ctx, "SELECT "+quoteIdents(append([]string{"customer_id"}, inputs...))+" FROM customer_features")
	if err != nil {
		return nil, contextErr(ctx, err, "where")
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		vals, err := scanValues(rows, len(inputs)+1)
		if err != nil {
			return nil, fmt.Errorf("where: %w", err)
		}
		row := make(map[string]any, len(inputs))
		for i, in := range inputs {
			row[in] = vals[i+1]
		}
		o, err := cond.Eval(ctx, row, env)
		if err != nil {
			return nil, contextErr(ctx, err, "where")
		}
		if o == rules.Match {
			ids = append(ids, vals[0].(string))
		}
	}
	return ids, rows.Err()
}

// customerTiers lists a customer's tier in the latest evaluation of every
// rule set, with the rule that matched.
func (e *Engine) customerTiers(ctx context.Context, id string) ([]map[string]any, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT a.ruleset, a.version, a.as_of, a.tier, a.rule
		FROM tier_assignments a
		WHERE a.customer_id = ? AND a.evaluation IN (SELECT max(id) FROM meta_evaluations GROUP BY ruleset)
		ORDER BY a.ruleset`, id)
	if err != nil {
		return nil, contextErr(ctx, err, "customer tiers")
	}
	t, err := scanTable(rows)
	if err != nil {
		return nil, contextErr(ctx, err, "customer tiers")
	}
	return t.Objects(), nil
}
