package kpi

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"custkpi/fault"
	"custkpi/queries"
)

// dimension is one by= group of a query: the expression it selects and the
// join that brings it in.
type dimension struct {
	name     string
	expr     string
	join     string
	joinArgs []any
	tier     bool
	// evaluation behind a tier dimension: its id is bound, its generation
	// keys the cache.
	evaluation Evaluation
	customer   bool   // a customers column, joined by customerJoin
	alias      string // its private name in that join
	// names of a KPI's own dimension in its datasets: the column and its
	// aliases (cac's acquisition_channel is channel in acquisition_spend).
	names []string
}

// Dimension columns of customers that are identifiers, not groups.
var notDimensions = []string{"customer_id", "referred_by"}

// IsIdentifier tells whether a customers column is an identifier, which
// no request is grouped by.
func IsIdentifier(column string) bool { return slices.Contains(notDimensions, column) }

// keyJoin is how a statement's rows join their customer dimensions.
type keyJoin struct {
	// table: the rows' customer_id is the integer key of that table
	// (fast_customer_keys, or fast_dim_combos for rows per combination
	// of dimensions), whose dims struct holds the dimensions (a
	// customer's row of customer_dims()): an integer join, not a string
	// one; "": the rows hold customer ids.
	table string
	// rowKey is the row's side of the join (r.customer_id, or the
	// combination's part of a keyCombos key, or a wide dimension's
	// value's position).
	rowKey string
	// part: of fast_dim_wide, the rows of the wide dimension numbered
	// part alone.
	part int64
	// onePeriod: the rows are of one period (buildSideHint).
	onePeriod bool
}

// lookup tells whether the table is one of combinations, whose keys are
// 1 to their number: its dimensions are then each read as a list
// indexed by the row's key (lookupDimensions), not joined. DuckDB
// estimates a window's rows at a fifth of their table and a fifth again
// per condition, so a join built its hash table on the rows it thought
// fewer: NPS by age over 2024-02-15..2024-11-20 at 1M customers took 35
// ms so, 27 ms with the combinations' side said smaller, 11 ms read from
// the lists.
func (k keyJoin) lookup() bool {
	return k.table == "fast_dim_combos" || k.table == "fast_dim_fine" || k.table == "fast_dim_wide"
}

// lookupDimensions has the customer dimensions read their values from
// customerJoin's lists, at the row's key, where k says so.
func lookupDimensions(dims []dimension, k keyJoin) {
	if !k.lookup() {
		return
	}
	for i, d := range dims {
		if d.customer {
			dims[i].expr = fmt.Sprintf("d.%s[%s]", d.alias, k.rowKey)
		}
	}
}

// customerJoin brings the customer dimensions of a query in under private
// names, so they can never clash with the KPI rows' own columns (the header
// aggregates read customer_id and measures unqualified), as k says.
func customerJoin(dims []dimension, k keyJoin) string {
	var cols []string
	for _, d := range dims {
		if !d.customer {
			continue
		}
		switch {
		case k.lookup():
			cols = append(cols, fmt.Sprintf("list(k.dims.%s ORDER BY k.ckey) AS %s", QuoteIdent(d.name), d.alias))
		case k.table != "":
			cols = append(cols, fmt.Sprintf("k.dims.%s AS %s", QuoteIdent(d.name), d.alias))
		default:
			cols = append(cols, fmt.Sprintf("%s AS %s", QuoteIdent(d.name), d.alias))
		}
	}
	if len(cols) == 0 {
		return ""
	}
	if k.lookup() {
		where := ""
		if k.part > 0 {
			where = fmt.Sprintf(" WHERE k.ckey // %d = %d", WideKeyFactor, k.part)
		}
		return fmt.Sprintf("CROSS JOIN (SELECT %s FROM %s k%s) d", strings.Join(cols, ", "), k.table, where)
	}
	if k.table != "" {
		return fmt.Sprintf("LEFT JOIN (SELECT k.ckey AS __dim_key, %s FROM %s k%s) d ON d.__dim_key = %s",
			strings.Join(cols, ", "), k.table, buildSideHint(k), k.rowKey)
	}
	return fmt.Sprintf("LEFT JOIN (SELECT customer_id AS __dim_key, %s FROM customer_dims()) d ON d.__dim_key = %s",
		strings.Join(cols, ", "), k.rowKey)
}

// buildSideHint is a condition that every customer's key row meets but
// that DuckDB 1.4.3's planner takes to keep a fifth of them (200,000 at
// 1M customers), for rows of one period. DuckDB builds a join's hash
// table on the side it estimates smaller, and estimates a window's rows
// at a fifth of their table, and a fifth again per condition: it took
// email open rate's 2.3M events over 2024-02-15..2024-11-20 for 311,000
// rows, built the table on them and probed it with every customer. With
// the hint it builds it on the keys: email open rate by signup date over
// that window 126–136 ms in the engine against 176–222, NPS 50–63
// against 59–80 (by age, before age had its finer combinations, 95–103
// against 139–150), where the rows are estimated fewer than 200,000
// (the surveys' or the tickets' days) the same plan as without. Over
// several periods the estimates of the rows are far lower (recency by
// age by week over 2024: 18,230 for 35.6M rows), the hint changed no
// plan but the grouping after the join took longer (3.4 s against 2.7).
func buildSideHint(k keyJoin) string {
	if k.table != "fast_customer_keys" || !k.onePeriod {
		return ""
	}
	return " WHERE k.ckey >= 0"
}

// CustomerDimensions lists the customer columns a KPI can be grouped by:
// every customers column (extra imported ones too) but the identifiers,
// plus age_band.
func CustomerDimensions(data *Data) []string {
	var out []string
	for _, c := range data.CustomerColumns {
		if !IsIdentifier(c) {
			out = append(out, c)
		}
	}
	return append(out, "age_band")
}

// Dimensions lists what a KPI version can be grouped by: its own
// dimensions and their aliases, or the customer dimensions.
func Dimensions(data *Data, d *queries.Definition) ([]string, error) {
	if d.Dimensions != nil {
		out := slices.Clone(d.Dimensions)
		for _, a := range slices.Sorted(maps.Keys(d.Aliases)) {
			out = append(out, a)
		}
		return out, nil
	}
	return CustomerDimensions(data), nil
}

// ownDimension is a KPI's own dimension asked by name or alias: the
// result's column is named as asked, the value read from the macro's column.
func ownDimension(def *queries.Definition, name string) dimension {
	col := name
	if c, ok := def.Aliases[name]; ok {
		col = c
	}
	names := []string{col}
	for _, a := range slices.Sorted(maps.Keys(def.Aliases)) {
		if def.Aliases[a] == col {
			names = append(names, a)
		}
	}
	return dimension{name: name, expr: "r." + QuoteIdent(col), names: names}
}

// dimensions resolves by= names against the KPI's dimensions. A name that is
// not one of them is an error naming the choices; nothing else reaches SQL.
func dimensions(data *Data, def *queries.Definition, by []string) ([]dimension, error) {
	if len(by) > maxDimensions {
		return nil, fault.InvalidParam("by", "at most %d dimensions", maxDimensions)
	}
	return resolveDimensions(data, def, by)
}

// resolveDimensions resolves by= names without the cap on their number (a
// split groups by each one alone, never by all together).
func resolveDimensions(data *Data, def *queries.Definition, by []string) ([]dimension, error) {
	var allowed []string
	var out []dimension
	for _, name := range by {
		if slices.ContainsFunc(out, func(d dimension) bool { return d.name == name }) {
			return nil, fault.InvalidParam("by", "dimension %q given twice", name)
		}
		if rs, ok := strings.CutPrefix(name, "tier:"); ok {
			if def.Dimensions != nil {
				return nil, unknownDimension(def, name, def.Dimensions)
			}
			d, err := tierDimension(data, name, rs, len(out))
			if err != nil {
				return nil, err
			}
			out = append(out, d)
			continue
		}
		if allowed == nil {
			var err error
			if allowed, err = Dimensions(data, def); err != nil {
				return nil, err
			}
		}
		if !slices.Contains(allowed, name) {
			return nil, unknownDimension(def, name, allowed)
		}
		if def.Dimensions != nil {
			d := ownDimension(def, name)
			if slices.ContainsFunc(out, func(o dimension) bool { return o.expr == d.expr }) {
				return nil, fault.InvalidParam("by", "dimension %q given twice (%s is another name of %s)", name, strings.Join(d.names[1:], ", "), d.names[0])
			}
			out = append(out, d)
		} else {
			alias := fmt.Sprintf("__dim_%d", len(out))
			out = append(out, dimension{name: name, expr: "d." + alias, customer: true, alias: alias})
		}
	}
	return out, nil
}

func unknownDimension(def *queries.Definition, name string, allowed []string) error {
	return &fault.Error{
		Code:    fault.CodeUnknownDimension,
		Message: fmt.Sprintf("unknown dimension %q for KPI %s; one of: %s, or tier:<ruleset>", name, def.Name, strings.Join(allowed, ", ")),
		Details: map[string]any{"parameter": "by", "dimension": name, "dimensions": allowed},
	}
}

// tierDimension resolves by=tier:<ruleset> to the latest evaluation of that
// rule set in the snapshot, joined under a private alias like the customer
// dimensions.
func tierDimension(data *Data, name, ruleset string, index int) (dimension, error) {
	ev, ok := data.Evaluations[ruleset]
	if !ok {
		return dimension{}, &fault.Error{Code: fault.CodeUnknownDimension,
			Message: fmt.Sprintf("unknown dimension %q: rule set %q has no evaluation; evaluate it first", name, ruleset),
			Details: map[string]any{"parameter": "by", "dimension": name}}
	}
	alias := fmt.Sprintf("t%d", index)
	return dimension{
		name:       name,
		expr:       alias + ".__tier",
		join:       fmt.Sprintf("LEFT JOIN (SELECT customer_id AS __tier_key, tier AS __tier FROM tier_assignments WHERE evaluation = ?::BIGINT) %s ON %s.__tier_key = r.customer_id", alias, alias),
		joinArgs:   []any{ev.ID},
		tier:       true,
		evaluation: ev,
		alias:      alias,
	}, nil
}

// keyTiers has the tier dimensions of rows keyed by fast_customer_keys'
// integer keys read each row's tier at its key in their evaluation's
// lists (engine's fast_tier_lists: the tiers, and each key's position
// among them), where each row was keyed back to its customer_id to join
// the assignments (at 1M customers over 2024-02-15..2024-11-20 by the
// lifecycle tiers, NPS took 0.64 of the filing build's time, email open
// rate 0.68), then joined the keyed assignments (a hash table of a
// million rows: by month over calendar 2024, email open rate 232-263 ms
// against 167-185 ms read from the lists). An evaluation without lists
// leaves its rows' tiers null, as one without assignments does.
func keyTiers(dims []dimension) {
	for i, d := range dims {
		if d.tier {
			dims[i].join = fmt.Sprintf("LEFT JOIN (SELECT t.tiers, t.codes FROM fast_tier_lists t WHERE t.evaluation = ?::BIGINT) %[1]s ON true", d.alias)
			dims[i].expr = fmt.Sprintf("%[1]s.tiers[%[1]s.codes[r.customer_id]]", d.alias)
		}
	}
}

// sumTiers has the tier dimension of rows of sums per tier (tierRollup)
// name each row's tier from its group key (TierKeyFactor): the position
// of the tier among its evaluation's, 0 (null: no tier) for the
// customers without one.
func sumTiers(dims []dimension) {
	for i, d := range dims {
		if d.tier {
			dims[i].join = fmt.Sprintf("LEFT JOIN (SELECT t.tiers FROM fast_tier_lists t WHERE t.evaluation = ?::BIGINT) %s ON true", d.alias)
			dims[i].expr = fmt.Sprintf("%s.tiers[CAST(r.customer_id %% %d AS INTEGER)]", d.alias, TierKeyFactor)
		}
	}
}

// CheckDimensions checks by= names as a query would, without planning one.
func CheckDimensions(data *Data, def *queries.Definition, by []string) error {
	_, err := dimensions(data, def, by)
	return err
}
