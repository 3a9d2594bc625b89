package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"custkpi/queries"
)

// Query asks for one KPI over a window.
type Query struct {
	KPI     string
	Version int       // 0: the KPI's default version
	From    time.Time // zero From and To: the default window
	To      time.Time
	Grain   Grain
	By      []string          // dimensions: customer columns, age_band, tier:<ruleset>
	Where   string            // CEL condition on customer features
	Params  map[string]string // the KPI's own parameters (cycle_multiplier=...)

	// compare, set by the engine's own analyses, asks for two periods in one
	// statement: the previous window (labelled by its start) and the window.
	compare bool
}

// Result is a KPI answer: a table whose columns are period (with a grain),
// the dimensions, value and, for ratios, numerator and denominator.
type Result struct {
	KPI         string         `json:"kpi"`
	Version     int            `json:"version"`
	From        string         `json:"from"`
	To          string         `json:"to"`
	Grain       Grain          `json:"grain"`
	By          []string       `json:"by"`
	Params      map[string]any `json:"params,omitempty"`
	Fingerprint string         `json:"fingerprint"`
	Columns     []string       `json:"-"`
	Rows        [][]any        `json:"-"`
	Cached      bool           `json:"-"`
	Elapsed     time.Duration  `json:"-"`
}

// maxDimensions bounds by=: more groups than this is a table export, not a KPI.
const maxDimensions = 5

// Run answers a KPI query in one SQL statement (or from the cache), read
// from one generation: the plan is made from the current snapshot and the
// statement runs pinned to that snapshot's generation; a write landing in
// between makes it plan again.
func (e *Engine) Run(ctx context.Context, q Query) (*Result, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	for range maxReplans {
		s := e.snap()
		plan, err := e.plan(ctx, s, q)
		if err != nil {
			return nil, err
		}
		if r, ok := e.cache.get(plan.cacheKey); ok {
			c := *r
			c.Cached = true
			return &c, nil
		}
		start := time.Now()
		var t *table
		ok, err := e.pinned(ctx, s, func(ctx context.Context, conn *sql.Conn) error {
			rows, err := conn.QueryContext(ctx, plan.sql, plan.args...)
			if err != nil {
				return err
			}
			t, err = scanTable(rows)
			return err
		})
		if err != nil {
			return nil, contextErr(ctx, err, "kpi "+q.KPI)
		}
		if !ok {
			continue
		}
		res := plan.result
		res.Columns = t.columns
		res.Rows = t.rows
		res.Elapsed = time.Since(start)
		e.cache.put(plan.cacheKey, res)
		out := *res
		return &out, nil
	}
	return nil, errBusy("kpi " + q.KPI)
}

// SQL returns the statement and arguments a query would run, for the
// catalog's "explain" and for tests.
func (e *Engine) SQL(ctx context.Context, q Query) (string, []any, error) {
	p, err := e.plan(ctx, e.snap(), q)
	if err != nil {
		return "", nil, err
	}
	return p.sql, p.args, nil
}

type plan struct {
	def      *queries.Definition
	sql      string
	args     []any
	cacheKey string
	result   *Result
}

// plan validates a query and composes its statement. Every value is bound;
// identifiers come from the catalog and from DuckDB's own column lists.
func (e *Engine) plan(ctx context.Context, s *snapshot, q Query) (*plan, error) {
	kpi, err := e.catalog.Lookup(q.KPI)
	if err != nil {
		return nil, err
	}
	def, err := kpi.Version(q.Version)
	if err != nil {
		return nil, err
	}
	if err := requireData(s, def); err != nil {
		return nil, err
	}
	if q.Grain == "" {
		q.Grain = GrainNone
	}
	if len(def.Group) > 0 && q.Grain != GrainNone {
		return nil, invalidParam("grain", "KPI %s is a matrix grouped by %s; it takes no grain", def.Name, strings.Join(def.Group, ", "))
	}
	from, to, err := window(s, q.From, q.To)
	if err != nil {
		return nil, err
	}
	ps, err := periods(from, to, q.Grain)
	if err != nil {
		return nil, err
	}
	if q.compare {
		// Grain none: W and W_prev; the previous window's own previous
		// window is the same length again before it.
		w := ps[0]
		prev := period{Label: w.PrevStart, Start: w.PrevStart, End: w.Start, PrevStart: w.PrevStart.Add(-w.Start.Sub(w.PrevStart))}
		ps = []period{prev, w}
	}
	dims, err := e.dimensions(ctx, s, def, q.By)
	if err != nil {
		return nil, err
	}
	params, err := kpiParams(s, def, q.Params)
	if err != nil {
		return nil, err
	}
	if q.Where != "" && def.Dimensions != nil {
		// Its rows are not all customers' (spend rows have none): a
		// customer filter would silently drop them.
		return nil, invalidParam("where", "KPI %s is not computed per customer; where= does not apply to it", def.Name)
	}
	where, err := e.whereFilter(ctx, q.Where)
	if err != nil {
		return nil, err
	}

	var b strings.Builder
	var args []any
	b.WriteString("WITH periods(period, win_start, win_end, prev_start) AS (VALUES ")
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP)")
		args = append(args, fmtDate(p.Label), p.Start, p.End, p.PrevStart)
	}
	b.WriteString("),\nkpi_rows AS (\n  SELECT p.period, k.* FROM periods p\n  ")
	// Without dimensions every period answers, even one without rows (its
	// count is 0, its ratio null); with dimensions only groups that exist do.
	if len(dims) == 0 && len(def.Group) == 0 {
		b.WriteString("LEFT ")
	}
	fmt.Fprintf(&b, "JOIN LATERAL (SELECT * FROM %s(p.win_start, p.win_end, p.prev_start", def.MacroName())
	for _, p := range params {
		fmt.Fprintf(&b, ", %s := ?", p.name)
		args = append(args, p.value)
	}
	b.WriteString(")")
	if where != nil {
		fmt.Fprintf(&b, " WHERE customer_id IN (%s)", where.sql)
		args = append(args, where.args...)
	}
	b.WriteString(") k ON true\n)\nSELECT ")

	var cols, group []string
	if q.Grain != GrainNone || q.compare {
		cols = append(cols, "r.period AS period")
		group = append(group, "1")
	}
	for _, g := range def.Group {
		cols = append(cols, "r."+quoteIdent(g)+" AS "+quoteIdent(g))
		group = append(group, fmt.Sprint(len(group)+1))
	}
	var joins []string
	var joinArgs []any
	if j := customerJoin(dims); j != "" {
		joins = append(joins, j)
	}
	for _, d := range dims {
		cols = append(cols, fmt.Sprintf("%s AS %s", d.expr, quoteIdent(d.name)))
		group = append(group, fmt.Sprint(len(group)+1))
		if d.join != "" && !slices.Contains(joins, d.join) {
			joins = append(joins, d.join)
			joinArgs = append(joinArgs, d.joinArgs...)
		}
	}
	cols = append(cols, valueColumns(def)...)
	for _, x := range def.Extra {
		cols = append(cols, fmt.Sprintf("CAST(%s AS DOUBLE) AS %s", x.Aggregate, quoteIdent(x.Name)))
	}
	b.WriteString(strings.Join(cols, ", "))
	b.WriteString("\nFROM kpi_rows r")
	for _, j := range joins {
		b.WriteString("\n" + j)
	}
	args = append(args, joinArgs...)
	if len(group) > 0 {
		b.WriteString("\nGROUP BY " + strings.Join(group, ", "))
		order := make([]string, len(group))
		for i, g := range group {
			order[i] = g + " NULLS LAST"
		}
		b.WriteString("\nORDER BY " + strings.Join(order, ", "))
	}

	by := make([]string, len(dims))
	for i, d := range dims {
		by[i] = d.name
	}
	paramOut := map[string]any{}
	for _, p := range params {
		paramOut[p.name] = p.value
	}
	res := &Result{
		KPI: def.Name, Version: def.Version, From: fmtDate(from), To: fmtDate(to),
		Grain: q.Grain, By: by, Fingerprint: fingerprint(s, def, q.Where != "", dims),
	}
	if len(paramOut) > 0 {
		res.Params = paramOut
	}
	key := strings.Join([]string{def.Name, fmt.Sprint(def.Version), res.From, res.To, string(q.Grain),
		strings.Join(by, ","), q.Where, fmt.Sprint(params), fmt.Sprint(q.compare), res.Fingerprint}, "|")
	return &plan{def: def, sql: b.String(), args: args, cacheKey: key, result: res}, nil
}

// valueColumns are the aggregate columns of the KPI, cast to DOUBLE so every
// KPI answers numbers of one type. A ratio is recomputed from its sums for
// each group and period; a zero denominator gives null.
func valueColumns(d *queries.Definition) []string {
	if d.Kind == queries.Ratio {
		scale := ""
		if d.Scale != 1 {
			scale = fmt.Sprintf("%g * ", d.Scale)
		}
		return []string{
			fmt.Sprintf("CAST(%s(%s) / nullif(%s, 0) AS DOUBLE) AS value", scale, d.Numerator, d.Denominator),
			fmt.Sprintf("CAST(%s AS DOUBLE) AS numerator", d.Numerator),
			fmt.Sprintf("CAST(%s AS DOUBLE) AS denominator", d.Denominator),
		}
	}
	return []string{fmt.Sprintf("CAST(%s AS DOUBLE) AS value", d.Value)}
}

type boundParam struct {
	name  string
	value any
}

// kpiParams checks the caller's KPI parameters against the definition.
func kpiParams(s *snapshot, d *queries.Definition, raw map[string]string) ([]boundParam, error) {
	var out []boundParam
	for _, p := range d.Params {
		v, ok := raw[p.Name]
		if !ok {
			continue
		}
		val, err := parseParam(p, v)
		if err != nil {
			return nil, err
		}
		if p.Type == "weights" {
			if err := checkWeights(s, d, p.Name, v); err != nil {
				return nil, err
			}
		}
		out = append(out, boundParam{p.Name, val})
	}
	for name := range raw {
		if !slices.ContainsFunc(d.Params, func(p queries.Param) bool { return p.Name == name }) {
			return nil, invalidParam(name, "KPI %s v%d has no parameter %q", d.Name, d.Version, name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// requireData refuses a KPI whose datasets or optional columns are absent:
// an answer of zeros would look like a fact.
func requireData(s *snapshot, d *queries.Definition) error {
	var missing []string
	for _, kind := range d.Datasets() {
		if kind == modelKind && s.datasets[kind] == nil {
			return &Error{Code: CodeMissingDataset,
				Message: fmt.Sprintf("KPI %s reads the CLV model's scores; fit the CLV model first", d.Name),
				Details: map[string]any{"kpi": d.Name, "datasets": []string{modelKind}}}
		}
		if s.datasets[kind] == nil {
			missing = append(missing, kind)
		}
	}
	if len(missing) > 0 {
		return &Error{Code: CodeMissingDataset,
			Message: fmt.Sprintf("KPI %s needs the %s dataset(s); import them first", d.Name, strings.Join(missing, ", ")),
			Details: map[string]any{"kpi": d.Name, "datasets": missing}}
	}
	for _, col := range d.Columns() {
		kind, name, _ := strings.Cut(col, ".")
		have := s.datasets[kind].Columns
		if prefix, ok := strings.CutSuffix(name, "*"); ok {
			// A pattern: at least one such column (score_* attribute scores).
			if !slices.ContainsFunc(have, func(c string) bool { return strings.HasPrefix(c, prefix) }) {
				return &Error{Code: CodeMissingColumn,
					Message: fmt.Sprintf("KPI %s needs at least one %s column in %s, which the imported data does not have; re-import %s with them", d.Name, name, kind, kind),
					Details: map[string]any{"kpi": d.Name, "dataset": kind, "column": name}}
			}
			continue
		}
		if !slices.Contains(have, name) {
			return &Error{Code: CodeMissingColumn,
				Message: fmt.Sprintf("KPI %s needs column %s of %s, which the imported data does not have; re-import %s with it", d.Name, name, kind, kind),
				Details: map[string]any{"kpi": d.Name, "dataset": kind, "column": name}}
		}
	}
	return nil
}

// fingerprint identifies the data a KPI reads: the generation that last
// changed each dataset it needs, plus customers (dimensions), and the
// evaluation behind each tier dimension. Features read every dataset and the
// model, so a where= condition depends on all of them.
func fingerprint(s *snapshot, d *queries.Definition, features bool, dims []dimension) string {
	kinds := append([]string{"customers"}, d.Datasets()...)
	if features {
		kinds = slices.Collect(maps.Keys(s.datasets))
	}
	sort.Strings(kinds)
	kinds = slices.Compact(kinds)
	h := sha256.New()
	for _, k := range kinds {
		var gen int64
		if d := s.datasets[k]; d != nil {
			gen = d.Generation
		}
		fmt.Fprintf(h, "%s:%d;", k, gen)
	}
	for _, dim := range dims {
		if dim.tier {
			fmt.Fprintf(h, "%s:%d;", dim.name, dim.evaluation.generation)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// checkWeights validates a weights parameter (`score_a:0.4,score_b:0.6`)
// against the pattern columns of the KPI's dataset, so a misspelt column
// is an error naming it and not a silent weight of 0.
func checkWeights(s *snapshot, d *queries.Definition, param, raw string) error {
	if !strings.Contains(raw, ":") {
		return nil // equal weights
	}
	var available []string
	for _, kind := range d.Datasets() {
		k, err := LookupKind(kind)
		if err != nil || len(k.Patterns) == 0 {
			continue
		}
		if ds := s.datasets[kind]; ds != nil {
			for _, c := range ds.Columns {
				for _, p := range k.Patterns {
					if strings.HasPrefix(c, p.Name) {
						available = append(available, c)
					}
				}
			}
		}
	}
	for _, pair := range strings.Split(raw, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(pair), ":")
		name = strings.TrimSpace(name)
		f, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		switch {
		case !ok || err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0):
			return invalidParam(param, "%q is not column:weight with a non-negative weight", pair)
		case !slices.Contains(available, name):
			return invalidParam(param, "%q is not an attribute score column of the loaded data (%s)", name, strings.Join(available, ", "))
		}
	}
	return nil
}
