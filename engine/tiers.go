package engine

import (
	"context"
)

// tierDimension resolves by=tier:<ruleset>. Rule sets arrive with the rules
// capability; until one is saved and evaluated the name is unknown.
func (e *Engine) tierDimension(ctx context.Context, name, ruleset string, index int) (dimension, error) {
	return dimension{}, &Error{Code: CodeUnknownDimension,
		Message: "unknown dimension " + quoteString(name) + ": no evaluated rule set named " + quoteString(ruleset),
		Details: map[string]any{"parameter": "by", "dimension": name}}
}

// filter is a SQL fragment selecting customer ids, with its bound arguments.
type filter struct {
	sql  string
	args []any
}

// whereFilter translates a CEL where= condition into a customer-id subquery.
func (e *Engine) whereFilter(ctx context.Context, where string) (*filter, error) {
	if where == "" {
		return nil, nil
	}
	return nil, invalidParam("where", "where= conditions need the rules capability, which this build does not have yet")
}

// customerTiers lists a customer's tier in every evaluated rule set.
func (e *Engine) customerTiers(ctx context.Context, id string) ([]map[string]any, error) {
	return []map[string]any{}, nil
}
