package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"custkpi/queries"
)

// dimension is one by= column of a KPI query: the expression it selects and
// the join that brings it in.
type dimension struct {
	name     string
	expr     string
	join     string
	joinArgs []any
	tier     bool
	// evaluation behind a tier dimension: its id is bound, its generation
	// keys the cache.
	evaluation evaluationRef
	customer   bool   // a customers column, joined by customerJoin
	alias      string // its private name in that join
}

// Dimension columns of customers that are identifiers, not groups.
var notDimensions = []string{"customer_id", "referred_by"}

// customerJoin brings the customer dimensions of a query in under private
// names, so they can never clash with the KPI rows' own columns (the header
// aggregates read customer_id and measures unqualified).
func customerJoin(dims []dimension) string {
	var cols []string
	for _, d := range dims {
		if d.customer {
			cols = append(cols, fmt.Sprintf("%s AS %s", quoteIdent(d.name), d.alias))
		}
	}
	if len(cols) == 0 {
		return ""
	}
	return fmt.Sprintf("LEFT JOIN (SELECT customer_id AS __dim_key, %s FROM customer_dims()) d ON d.__dim_key = r.customer_id",
		strings.Join(cols, ", "))
}

// CustomerDimensions lists the customer columns a KPI can be grouped by:
// every customers column (extra imported ones too) but the identifiers,
// plus age_band.
func (e *Engine) CustomerDimensions(ctx context.Context) ([]string, error) {
	return customerDimensions(e.snap()), nil
}

func customerDimensions(s *snapshot) []string {
	var out []string
	for _, c := range s.customerColumns {
		if !slices.Contains(notDimensions, c) {
			out = append(out, c)
		}
	}
	return append(out, "age_band")
}

// Dimensions lists what a KPI version can be grouped by.
func (e *Engine) Dimensions(ctx context.Context, d *queries.Definition) ([]string, error) {
	return dimensionsOf(e.snap(), d)
}

func dimensionsOf(s *snapshot, d *queries.Definition) ([]string, error) {
	if d.Dimensions != nil {
		return d.Dimensions, nil
	}
	return customerDimensions(s), nil
}

// dimensions resolves by= names against the KPI's dimensions. A name that is
// not one of them is an error naming the choices; nothing else reaches SQL.
func (e *Engine) dimensions(ctx context.Context, s *snapshot, def *queries.Definition, by []string) ([]dimension, error) {
	if len(by) > maxDimensions {
		return nil, invalidParam("by", "at most %d dimensions", maxDimensions)
	}
	var allowed []string
	var out []dimension
	for _, name := range by {
		if slices.ContainsFunc(out, func(d dimension) bool { return d.name == name }) {
			return nil, invalidParam("by", "dimension %q given twice", name)
		}
		if rs, ok := strings.CutPrefix(name, "tier:"); ok {
			if def.Dimensions != nil {
				return nil, unknownDimension(def, name, def.Dimensions)
			}
			d, err := tierDimension(s, name, rs, len(out))
			if err != nil {
				return nil, err
			}
			out = append(out, d)
			continue
		}
		if allowed == nil {
			var err error
			if allowed, err = dimensionsOf(s, def); err != nil {
				return nil, err
			}
		}
		if !slices.Contains(allowed, name) {
			return nil, unknownDimension(def, name, allowed)
		}
		if def.Dimensions != nil {
			out = append(out, dimension{name: name, expr: "r." + quoteIdent(name)})
		} else {
			alias := fmt.Sprintf("__dim_%d", len(out))
			out = append(out, dimension{name: name, expr: "d." + alias, customer: true, alias: alias})
		}
	}
	return out, nil
}

func unknownDimension(def *queries.Definition, name string, allowed []string) error {
	return &Error{
		Code:    CodeUnknownDimension,
		Message: fmt.Sprintf("unknown dimension %q for KPI %s; one of: %s, or tier:<ruleset>", name, def.Name, strings.Join(allowed, ", ")),
		Details: map[string]any{"parameter": "by", "dimension": name, "dimensions": allowed},
	}
}

func hasTier(dims []dimension) bool {
	return slices.ContainsFunc(dims, func(d dimension) bool { return d.tier })
}
