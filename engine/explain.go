package engine

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"custkpi/kpi"
	"custkpi/queries"
	"custkpi/store"
)

// maxExplainGroups: a dimension with more distinct values than this (a
// signup date, an imported e-mail column) is left out of an explanation; its
// groups would be too small to explain anything and would flood the list.
const maxExplainGroups = 50

// NoiseLevel is the significance level of the noise flag: a group's own
// change whose two-sided p-value is above it is within noise.
const NoiseLevel = 0.05

// Explanation is a KPI's change against the previous window, split over
// every dimension at once.
type Explanation struct {
	KPI          string          `json:"kpi"`
	Version      int             `json:"version"`
	Kind         string          `json:"kind"`
	From         string          `json:"from"`
	To           string          `json:"to"`
	PreviousFrom string          `json:"previous_from"`
	Value        *float64        `json:"value" extensions:"x-nullable"`
	Previous     *float64        `json:"previous" extensions:"x-nullable"`
	TotalChange  *float64        `json:"total_change" extensions:"x-nullable"`
	Dimensions   []string        `json:"dimensions"`
	Skipped      []SkippedSplit  `json:"skipped"`
	Test         string          `json:"test" example:"two-proportion z-test (pooled), two-sided, level 0.05"`
	Drivers      []ExplainDriver `json:"drivers"`
	Fingerprint  string          `json:"fingerprint"`
}

// SkippedSplit is a dimension left out of an explanation, and why.
type SkippedSplit struct {
	Dimension string `json:"dimension"`
	Reason    string `json:"reason"`
}

// ExplainDriver is one group of one dimension: its part of the change.
type ExplainDriver struct {
	Dimension string `json:"dimension" example:"region"`
	// Value is the group: the dimension's value (null: customers without one).
	Value          any      `json:"value" extensions:"x-nullable"`
	KPIValue       *float64 `json:"kpi_value" extensions:"x-nullable"`
	KPIPrevious    *float64 `json:"kpi_previous" extensions:"x-nullable"`
	RateEffect     *float64 `json:"rate_effect" extensions:"x-nullable"`
	MixEffect      *float64 `json:"mix_effect" extensions:"x-nullable"`
	Contribution   *float64 `json:"contribution" extensions:"x-nullable"`
	ShareOfChange  *float64 `json:"share_of_change" extensions:"x-nullable"`
	Share          *float64 `json:"share,omitempty"`
	PreviousShare  *float64 `json:"previous_share,omitempty"`
	Numerator      *float64 `json:"numerator,omitempty"`
	Denominator    *float64 `json:"denominator,omitempty"`
	PrevNumerator  *float64 `json:"previous_numerator,omitempty"`
	PrevDenom      *float64 `json:"previous_denominator,omitempty"`
	Z              *float64 `json:"z" extensions:"x-nullable"`
	PValue         *float64 `json:"p_value" extensions:"x-nullable"`
	WithinNoise    *bool    `json:"within_noise" extensions:"x-nullable"`
	SignificantAt  float64  `json:"level"`
	rankMagnitude  float64
	dimensionOrder int
}

// Explain splits a KPI's change between the previous window and the window
// over every customer dimension (age_band included) and the tiers of every
// evaluated rule set — or, for a KPI with dimensions of its own, over those
// — in one statement: the KPI rows are computed once and aggregated with
// GROUPING SETS. Each dimension's groups carry the rate and mix effects of
// Variance (ratio KPIs) or their deltas (additive KPIs), and all groups
// are ranked together by absolute contribution. Dimensions with one value
// or more than maxExplainGroups values are skipped and listed.
func (e *Engine) Explain(ctx context.Context, q Query) (*Explanation, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	q.Scope = scopeOf(ctx)
	def, err := kpi.Definition(e.catalog, q)
	if err != nil {
		return nil, err
	}
	if q, err = e.resolveDerivedWeights(ctx, q); err != nil {
		return nil, err
	}
	for range store.MaxReplans {
		s := e.snap()
		st, skipped, err := e.planExplain(ctx, s, def, q)
		if err != nil {
			return nil, err
		}
		var t *table
		ok, err := e.pinnedStatement(ctx, s, func(ctx context.Context, conn *sql.Conn) error {
			rows, err := conn.QueryContext(ctx, st.SQL, st.Args...)
			if err != nil {
				return err
			}
			t, err = scanTable(rows)
			return err
		})
		if err != nil {
			return nil, contextErr(ctx, err, "explain "+def.Name)
		}
		if ok {
			return explainRows(st, t, skipped)
		}
	}
	return nil, errBusy("explain " + q.KPI)
}

// planExplain chooses the dimensions (dropping those with one value or too
// many) and plans the split.
func (e *Engine) planExplain(ctx context.Context, s *snapshot, def *queries.Definition, q Query) (*kpi.SplitStatement, []SkippedSplit, error) {
	if err := kpi.RequireData(s.data, def); err != nil {
		return nil, nil, err
	}
	candidates := slices.Clone(def.Dimensions)
	if def.Dimensions == nil {
		candidates = kpi.CustomerDimensions(s.data)
		for _, rs := range slices.Sorted(maps.Keys(s.data.Evaluations)) {
			candidates = append(candidates, "tier:"+rs)
		}
	}
	var by []string
	skipped := []SkippedSplit{}
	for _, name := range candidates {
		ref := kpi.GroupRef{Name: name, Customer: def.Dimensions == nil}
		if rs, ok := strings.CutPrefix(name, "tier:"); ok {
			ref = kpi.GroupRef{Name: name, Evaluation: s.data.Evaluations[rs].ID}
		} else if def.Dimensions != nil {
			ref.Datasets = def.Requires
		}
		var n int64
		if name != "age" {
			var err error
			if n, err = e.distinctValues(ctx, s, ref); err != nil {
				return nil, nil, err
			}
		}
		switch {
		case name == "age" && slices.Contains(candidates, "age_band"):
			skipped = append(skipped, SkippedSplit{Dimension: name, Reason: "split by its bands, age_band"})
			continue
		case n <= 1:
			skipped = append(skipped, SkippedSplit{Dimension: name, Reason: "one value for every customer: it splits nothing"})
		case n > maxExplainGroups:
			skipped = append(skipped, SkippedSplit{Dimension: name, Reason: fmt.Sprintf("%d values, more than %d: groups too small to explain a change; use variance with by=%s", n, maxExplainGroups, name)})
		default:
			by = append(by, name)
		}
	}
	var where *kpi.Filter
	if q.Where != "" && def.Dimensions == nil {
		var err error
		if where, err = e.whereFilter(ctx, s, q.Where); err != nil {
			return nil, nil, err
		}
	}
	st, err := kpi.PlanSplit(e.catalog, s.data, q, where, by)
	return st, skipped, err
}

// explainRows reads the split's rows into one compared table per
// dimension and computes each group's effects with Variance's arithmetic.
func explainRows(st *kpi.SplitStatement, t *table, skipped []SkippedSplit) (*Explanation, error) {
	def, res := st.Def, st.Result
	col := map[string]int{}
	for i, c := range t.Columns {
		col[c] = i
	}
	x := &Explanation{KPI: def.Name, Version: def.Version, Kind: string(def.Kind), From: res.From, To: res.To,
		Dimensions: res.By, Skipped: skipped, Drivers: []ExplainDriver{}, Fingerprint: res.Fingerprint}
	// One compared per dimension, its rows in Variance's layout.
	layout := map[string]int{"period": 0, "group": 1, "value": 2, "numerator": 3, "denominator": 4}
	per := make([]*compared, len(res.By))
	for i := range per {
		per[i] = &compared{def: def, prev: map[string][]any{}, cur: map[string][]any{}, col: layout, dimCols: []string{"group"}}
	}
	var total = &compared{def: def, prev: map[string][]any{}, cur: map[string][]any{}, col: layout}
	for _, r := range t.Rows {
		row := []any{r[col["period"]], nil, r[col["value"]], nil, nil}
		if def.Kind == queries.Ratio {
			row[3], row[4] = r[col["numerator"]], r[col["denominator"]]
		}
		cur := r[col["period"]] == res.From
		if !cur {
			x.PreviousFrom, _ = r[col["period"]].(string)
		}
		dim := -1
		for i := range res.By {
			if g, _ := r[col[fmt.Sprintf("__grouped_%d", i)]].(int64); g == 0 {
				dim = i
			}
		}
		c, key := total, ""
		if dim >= 0 {
			c = per[dim]
			row[1] = r[col[res.By[dim]]]
			key = fmt.Sprintf("%T:%v", row[1], row[1])
			if !slices.Contains(c.keys, key) {
				c.keys = append(c.keys, key)
			}
		}
		if cur {
			c.cur[key] = row
		} else {
			c.prev[key] = row
		}
	}
	x.Value, x.Previous = total.num(total.cur[""], "value"), total.num(total.prev[""], "value")
	if x.Value != nil && x.Previous != nil {
		x.TotalChange = finite(def.RoundMoney(*x.Value - *x.Previous))
	}
	x.Test = noiseTestName(def)
	for i, c := range per {
		var rows []map[string]any
		var err error
		if def.Kind == queries.Additive {
			rows = additiveVarianceRows(def, c)
		} else if rows, err = ratioVarianceRows(def, c); err != nil {
			return nil, err
		}
		for _, r := range rows {
			finiteRow(r)
			x.Drivers = append(x.Drivers, explainDriver(def, res.By[i], i, r, x.TotalChange))
		}
	}
	sort.SliceStable(x.Drivers, func(i, j int) bool {
		if x.Drivers[i].rankMagnitude != x.Drivers[j].rankMagnitude {
			return x.Drivers[i].rankMagnitude > x.Drivers[j].rankMagnitude
		}
		return x.Drivers[i].dimensionOrder < x.Drivers[j].dimensionOrder
	})
	return x, nil
}

// explainDriver turns a variance row into a driver with its share of the
// change and its noise test.
func explainDriver(def *queries.Definition, dim string, order int, r map[string]any, total *float64) ExplainDriver {
	f := func(k string) *float64 {
		if v, ok := r[k].(float64); ok {
			return &v
		}
		if v, ok := r[k].(*float64); ok {
			return v
		}
		return nil
	}
	d := ExplainDriver{Dimension: dim, Value: r["group"], KPIValue: f("value"), KPIPrevious: f("previous"),
		RateEffect: f("rate_effect"), MixEffect: f("mix_effect"), Contribution: f("contribution"),
		Share: f("share"), PreviousShare: f("previous_share"), Numerator: f("numerator"), Denominator: f("denominator"),
		PrevNumerator: f("previous_numerator"), PrevDenom: f("previous_denominator"), SignificantAt: NoiseLevel, dimensionOrder: order}
	if d.Contribution != nil {
		d.rankMagnitude = math.Abs(*d.Contribution)
		if total != nil && *total != 0 {
			d.ShareOfChange = finite(*d.Contribution / *total)
		}
	}
	switch {
	case def.Kind == queries.Ratio && proportionKPI(def):
		d.Z, d.PValue = twoProportionZ(orZero(d.PrevNumerator), orZero(d.PrevDenom), orZero(d.Numerator), orZero(d.Denominator))
	case def.Kind == queries.Additive && def.Unit == "count":
		d.Z, d.PValue = poissonZ(orZero(d.KPIPrevious), orZero(d.KPIValue))
	}
	if d.PValue != nil {
		noise := *d.PValue > NoiseLevel
		d.WithinNoise = &noise
	}
	return d
}

// proportionKPI: a ratio of counts of entities, the numerator a subset of
// the denominator (churn, retention, complaint rates), where a change of a
// group's rate can be tested as a change of a proportion.
func proportionKPI(def *queries.Definition) bool {
	return def.Unit == "ratio" && def.Scale == 1
}

func noiseTestName(def *queries.Definition) string {
	switch {
	case def.Kind == queries.Ratio && proportionKPI(def):
		return fmt.Sprintf("two-proportion z-test (pooled), two-sided, level %g: a group whose rate change has p > %g is within noise", NoiseLevel, NoiseLevel)
	case def.Kind == queries.Additive && def.Unit == "count":
		return fmt.Sprintf("two-count z-test (Poisson, (c' - c)/sqrt(c' + c)), two-sided, level %g", NoiseLevel)
	}
	return "none: the KPI is not a proportion or a count, so no test applies (within_noise is null)"
}

// twoProportionZ tests p' = n'/d' against p = n/d with the pooled variance.
// Counts that are not counts (fractions, a numerator above its
// denominator) or an empty window give no test.
func twoProportionZ(n, d, n2, d2 float64) (*float64, *float64) {
	whole := func(x float64) bool { return x == math.Trunc(x) }
	if d <= 0 || d2 <= 0 || n < 0 || n2 < 0 || n > d || n2 > d2 || !whole(n) || !whole(d) || !whole(n2) || !whole(d2) {
		return nil, nil
	}
	p := (n + n2) / (d + d2)
	se := math.Sqrt(p * (1 - p) * (1/d + 1/d2))
	if se == 0 {
		return nil, nil
	}
	return zAndP((n2/d2 - n/d) / se)
}

// poissonZ tests two counts for a change, as two Poisson draws.
func poissonZ(c, c2 float64) (*float64, *float64) {
	if c < 0 || c2 < 0 || c+c2 == 0 {
		return nil, nil
	}
	return zAndP((c2 - c) / math.Sqrt(c+c2))
}

func zAndP(z float64) (*float64, *float64) {
	p := 2 * distuv.UnitNormal.Survival(math.Abs(z))
	return finite(z), finite(p)
}
