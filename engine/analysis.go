package engine

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"custkpi/kpi"
	"custkpi/queries"
)

// compared is a KPI answered for the previous window and the window, in one
// statement: rows keyed by the dimension values.
type compared struct {
	def     *queries.Definition
	prev    map[string][]any // key → row
	cur     map[string][]any
	keys    []string
	dimCols []string
	col     map[string]int
	result  *Result
}

func (e *Engine) compare(ctx context.Context, q Query) (*compared, error) {
	if q.Grain != "" && q.Grain != GrainNone {
		return nil, invalidParam("grain", "comparisons use the whole window; leave grain out")
	}
	q.Grain = GrainNone
	q.Compare = true
	res, err := e.Run(ctx, q)
	if err != nil {
		return nil, err
	}
	k, _ := e.catalog.Lookup(q.KPI)
	def, _ := k.Version(res.Version)
	c := &compared{def: def, prev: map[string][]any{}, cur: map[string][]any{}, col: map[string]int{}, result: res}
	for i, name := range res.Columns {
		c.col[name] = i
	}
	c.dimCols = res.By
	for _, r := range res.Rows {
		var parts []string
		for _, d := range res.By {
			parts = append(parts, fmt.Sprint(r[c.col[d]]))
		}
		key := strings.Join(parts, "\x00")
		if r[c.col["period"]] == res.From {
			c.cur[key] = r
		} else {
			c.prev[key] = r
		}
		if !slices.Contains(c.keys, key) {
			c.keys = append(c.keys, key)
		}
	}
	return c, nil
}

func (c *compared) num(r []any, name string) *float64 {
	if r == nil {
		return nil
	}
	i, ok := c.col[name]
	if !ok {
		return nil
	}
	switch x := r[i].(type) {
	case float64:
		return finite(x)
	case int64: // a count: numerators and denominators keep DuckDB's type
		f := float64(x)
		return &f
	}
	return nil
}

// dims returns the dimension values of key's row.
func (c *compared) dims(key string) map[string]any {
	r := c.cur[key]
	if r == nil {
		r = c.prev[key]
	}
	out := map[string]any{}
	for _, d := range c.dimCols {
		out[d] = r[c.col[d]]
	}
	return out
}

// Variance explains a KPI's change against the previous window, per group.
type Variance struct {
	KPI          string           `json:"kpi"`
	Version      int              `json:"version"`
	Kind         string           `json:"kind"`
	From         string           `json:"from"`
	To           string           `json:"to"`
	PreviousFrom string           `json:"previous_from"`
	By           []string         `json:"by"`
	Value        *float64         `json:"value" extensions:"x-nullable"`
	Previous     *float64         `json:"previous" extensions:"x-nullable"`
	TotalChange  *float64         `json:"total_change" extensions:"x-nullable"`
	Rows         []map[string]any `json:"rows" extensions:"x-cells"`
	Fingerprint  string           `json:"fingerprint"`
}

// Variance splits the change of a KPI between the previous window and the
// window into the contributions of the groups of by.
//
// Additive KPIs: a group's contribution is its delta; the deltas sum to the
// total change.
//
// Ratio KPIs (R = Σ N_g / Σ D_g): with each group's ratio r_g and share of
// the denominator s_g in the two windows (primes for the window),
//
//	rate_g = (r'_g − r_g) · (s_g + s'_g) / 2
//	mix_g  = (s'_g − s_g) · ((r_g + r'_g)/2 − (R + R')/2)
//
// Their sum over groups is exactly R' − R (the midpoint split is symmetric
// in the two windows; measuring mix against the average total rate makes a
// shift toward an above-average group count as a positive mix effect and
// changes no total, since Σ (s'_g − s_g) = 0). A group absent from one
// window takes its other window's ratio there: its rate effect is 0 and its
// entry or exit is all mix.
func (e *Engine) Variance(ctx context.Context, q Query) (*Variance, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	if len(q.By) == 0 {
		return nil, invalidParam("by", "variance needs at least one dimension to split the change by")
	}
	total, err := e.compare(ctx, Query{KPI: q.KPI, Version: q.Version, From: q.From, To: q.To, Where: q.Where, Params: q.Params})
	if err != nil {
		return nil, err
	}
	def := total.def
	if def.Kind == queries.Statistic || len(def.Group) > 0 {
		return nil, invalidParam("kpi", "%s is a %s; variance splits additive and ratio KPIs", def.Name, kindName(def))
	}
	groups, err := e.compare(ctx, q)
	if err != nil {
		return nil, err
	}
	v := &Variance{KPI: def.Name, Version: def.Version, Kind: string(def.Kind), From: total.result.From, To: total.result.To,
		By: groups.result.By, Rows: []map[string]any{}, Fingerprint: groups.result.Fingerprint}
	key := ""
	v.Value, v.Previous = total.num(total.cur[key], "value"), total.num(total.prev[key], "value")
	for _, r := range total.prev {
		v.PreviousFrom, _ = r[total.col["period"]].(string)
	}
	if v.Value != nil && v.Previous != nil {
		v.TotalChange = finite(def.RoundMoney(*v.Value - *v.Previous))
	}

	switch def.Kind {
	case queries.Additive:
		v.Rows = additiveVarianceRows(def, groups)
	default:
		if v.Rows, err = ratioVarianceRows(def, groups); err != nil {
			return nil, err
		}
	}
	for _, r := range v.Rows {
		finiteRow(r)
	}
	sort.SliceStable(v.Rows, func(i, j int) bool {
		ci, _ := v.Rows[i]["contribution"].(float64)
		cj, _ := v.Rows[j]["contribution"].(float64)
		return math.Abs(ci) > math.Abs(cj)
	})
	return v, nil
}

// finite is f, or nil (null: no answer) for NaN and ±Inf, which Go
// arithmetic on huge values can produce and JSON cannot write.
func finite(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// finiteRow makes a row's non-finite numbers null.
func finiteRow(r map[string]any) {
	for k, x := range r {
		if f, ok := x.(float64); ok && finite(f) == nil {
			r[k] = nil
		}
	}
}

// additiveVarianceRows returns a row per group: its delta is all rate
// effect.
func additiveVarianceRows(def *queries.Definition, groups *compared) []map[string]any {
	rows := []map[string]any{}
	for _, k := range groups.keys {
		row := groups.dims(k)
		cur, prev := groups.num(groups.cur[k], "value"), groups.num(groups.prev[k], "value")
		delta := def.RoundMoney(orZero(cur) - orZero(prev))
		row["value"], row["previous"] = cur, prev
		row["rate_effect"], row["mix_effect"], row["contribution"] = delta, 0.0, delta
		rows = append(rows, row)
	}
	return rows
}

// ratioVarianceRows returns a row per group with the rate and mix effects
// of Variance's comment.
func ratioVarianceRows(def *queries.Definition, groups *compared) ([]map[string]any, error) {
	var sumD, sumDp, sumN, sumNp float64
	for _, k := range groups.keys {
		sumN += orZero(groups.num(groups.cur[k], "numerator"))
		sumD += orZero(groups.num(groups.cur[k], "denominator"))
		sumNp += orZero(groups.num(groups.prev[k], "numerator"))
		sumDp += orZero(groups.num(groups.prev[k], "denominator"))
	}
	scale := def.Scale
	if sumD == 0 || sumDp == 0 {
		return nil, &Error{Code: CodeInvalidParameter,
			Message: fmt.Sprintf("variance of %s: the %s window has a zero denominator, so there is no change to split", def.Name, map[bool]string{true: "current", false: "previous"}[sumD == 0]),
			Details: map[string]any{"parameter": "from"}}
	}
	R, Rp := scale*sumN/sumD, scale*sumNp/sumDp
	avgTotal := (R + Rp) / 2
	rows := []map[string]any{}
	for _, k := range groups.keys {
		row := groups.dims(k)
		n, d := orZero(groups.num(groups.cur[k], "numerator")), orZero(groups.num(groups.cur[k], "denominator"))
		np, dp := orZero(groups.num(groups.prev[k], "numerator")), orZero(groups.num(groups.prev[k], "denominator"))
		row["value"], row["previous"] = groups.num(groups.cur[k], "value"), groups.num(groups.prev[k], "value")
		row["numerator"], row["denominator"] = n, d
		row["previous_numerator"], row["previous_denominator"] = np, dp
		if d == 0 && dp == 0 {
			row["rate_effect"], row["mix_effect"], row["contribution"] = 0.0, 0.0, 0.0
			rows = append(rows, row)
			continue
		}
		r, rp := groupRatios(scale, n, d, np, dp)
		s, sp := d/sumD, dp/sumDp
		rate := (r - rp) * (s + sp) / 2
		mix := (s - sp) * ((r+rp)/2 - avgTotal)
		row["share"], row["previous_share"] = s, sp
		row["rate_effect"], row["mix_effect"], row["contribution"] = rate, mix, rate+mix
		rows = append(rows, row)
	}
	return rows, nil
}

// groupRatios returns a group's ratio in the window and the previous one;
// a group absent from one window (zero denominator) takes its other
// window's ratio there.
func groupRatios(scale, n, d, np, dp float64) (r, rp float64) {
	switch {
	case d == 0:
		rp = scale * np / dp
		r = rp
	case dp == 0:
		r = scale * n / d
		rp = r
	default:
		r, rp = scale*n/d, scale*np/dp
	}
	return r, rp
}

func kindName(d *queries.Definition) string {
	if len(d.Group) > 0 {
		return "matrix"
	}
	return string(d.Kind)
}

func orZero(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

// Diff answers two versions of a KPI side by side.
type Diff struct {
	KPI         string           `json:"kpi"`
	FromVersion int              `json:"from_version"`
	ToVersion   int              `json:"to_version"`
	From        string           `json:"from"`
	To          string           `json:"to"`
	Grain       Grain            `json:"grain"`
	By          []string         `json:"by"`
	Rows        []map[string]any `json:"rows" extensions:"x-cells"`
	FromResult  *Result          `json:"from_result"`
	ToResult    *Result          `json:"to_result"`
}

// Diff runs two versions of a KPI over the same window and groups and pairs
// their rows: from_value, to_value and difference per period and group.
func (e *Engine) Diff(ctx context.Context, q Query, fromVersion, toVersion int) (*Diff, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	if fromVersion == 0 || toVersion == 0 {
		return nil, invalidParam("from_version", "from_version and to_version are both required")
	}
	qa, qb := q, q
	qa.Version, qb.Version = fromVersion, toVersion
	a, err := e.Run(ctx, qa)
	if err != nil {
		return nil, err
	}
	money, err := kpi.Definition(e.catalog, qb) // the unit, for rounding
	if err != nil {
		return nil, err
	}
	b, err := e.Run(ctx, qb)
	if err != nil {
		return nil, err
	}
	d := &Diff{KPI: a.KPI, FromVersion: fromVersion, ToVersion: toVersion, From: a.From, To: a.To, Grain: a.Grain, By: a.By,
		Rows: []map[string]any{}, FromResult: a, ToResult: b}
	keyCols := slices.Clone(a.By)
	if a.Grain != GrainNone {
		keyCols = append([]string{"period"}, keyCols...)
	}
	index := func(r *Result) (map[string][]any, []string, map[string]int) {
		col := map[string]int{}
		for i, c := range r.Columns {
			col[c] = i
		}
		m := map[string][]any{}
		var order []string
		for _, row := range r.Rows {
			var parts []string
			for _, k := range keyCols {
				parts = append(parts, fmt.Sprint(row[col[k]]))
			}
			key := strings.Join(parts, "\x00")
			m[key] = row
			order = append(order, key)
		}
		return m, order, col
	}
	am, aorder, acol := index(a)
	bm, border, bcol := index(b)
	for _, k := range border {
		if _, ok := am[k]; !ok {
			aorder = append(aorder, k)
		}
	}
	for _, k := range aorder {
		ra, rb := am[k], bm[k]
		row := map[string]any{}
		src, col := ra, acol
		if src == nil {
			src, col = rb, bcol
		}
		for _, c := range keyCols {
			row[c] = src[col[c]]
		}
		var va, vb any
		if ra != nil {
			va = ra[acol["value"]]
		}
		if rb != nil {
			vb = rb[bcol["value"]]
		}
		row["from_value"], row["to_value"] = va, vb
		fa, oka := va.(float64)
		fb, okb := vb.(float64)
		if oka && okb {
			row["difference"] = money.RoundMoney(fb - fa)
		} else {
			row["difference"] = nil
		}
		finiteRow(row)
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}
