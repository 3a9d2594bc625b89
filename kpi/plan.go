package kpi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"custkpi/fault"
	"custkpi/queries"
)

// Plan validates a query against the catalog and the data of one
// generation and composes its one statement: the periods of the window as
// VALUES, joined LATERAL to the version's macro, joined to the
// dimensions, grouped. The request's values are bound and the planner's
// own times written in (withLiterals); identifiers come from the
// catalog and from the data's own column lists. It does no I/O.
func Plan(cat *Catalog, data *Data, q Query, where *Filter) (*Statement, error) {
	def, err := resolve(cat, data, q)
	if err != nil {
		return nil, err
	}
	if q.Grain == "" {
		q.Grain = GrainNone
	}
	from, to, ps, err := windowPeriods(data, def, q)
	if err != nil {
		return nil, err
	}
	dims, err := dimensions(data, def, q.By)
	if err != nil {
		return nil, err
	}
	params, scope, err := rowInputs(data, def, q)
	if err != nil {
		return nil, err
	}
	var b statementBuilder
	b.periods(ps)
	filters, everyPeriod := []*Filter{where, scope}, len(dims) == 0 && len(def.Group) == 0
	path, agg, calendar := PathPlain, def, false
	var form *queries.Fast
	join := keyJoin{rowKey: "r.customer_id", onePeriod: len(ps) == 1}
	filtered := len(dims) > 0 || where != nil || scope != nil
	// Grouped by few-valued customer dimensions only (or not at all, when
	// scoped) and scoped by such dimensions only (or not at all): a form
	// of sums reads them per combination of those dimensions.
	// Grouped by dimensions of the finer combinations only (an age), or
	// by one wide dimension (a signup date) or one tier, with nothing
	// else narrowing it: a form of sums over whole calendar periods reads
	// them per period and finer combination, value, or tier.
	r, wide := noRollup, wideDimension(data, dims)
	switch {
	case where == nil && (scope == nil || scope.Combinations != nil) &&
		(comboDimensions(data, dims) || len(dims) == 0 && scope != nil):
		r = comboRollup
	case where == nil && scope == nil && fineDimensions(data, dims):
		r = fineRollup
	case where == nil && scope == nil && wide > 0:
		r = wideRollup
	case where == nil && scope == nil && len(dims) == 1 && dims[0].tier && dims[0].evaluation.Sums:
		r = tierRollup
	}
	f := (*queries.Fast)(nil)
	if r != noRollup {
		f = fastForm(def, q, params, ps, filtered, r)
	}
	if r == comboRollup && readsHistory(f) && where == nil && scope == nil && fineDimensions(data, dims) {
		// A history-wide KPI by few-valued dimensions sums, per
		// combination, every day before each period; of whole calendar
		// periods its state at each first of a month per finer
		// combination serves instead (at 1M customers by region and month
		// over 2024, recency 100-115 ms, 22 ms this way). The other
		// KPIs' combination sums are as quick or quicker than the finer
		// ones (revenue 12 against 19 ms, CSI 26 against 45 ms).
		if fine := fastForm(def, q, params, ps, filtered, fineRollup); fine != nil {
			r, f = fineRollup, fine
		}
	}
	if f == nil && (r == fineRollup || r == comboRollup && where == nil && scope == nil) && wide > 0 && slices.Contains(data.WideTopOnly, dims[0].name) && calendarKind(ps) == GrainMonth {
		// An age's or a region's top fifth is no sum of its (finer)
		// combinations': its own sums per calendar month serve the forms
		// of those sums alone.
		r = wideTopRollup
		f = fastForm(def, q, params, ps, filtered, r)
	}
	if f == nil {
		r = noRollup
		f = fastForm(def, q, params, ps, filtered, noRollup)
	}
	if f != nil {
		// Customer dimensions and tiers join on the integer key (a
		// combination's, or a customer's).
		keys := where == nil && scope == nil
		ids, sums := keyInts, groupSums{}
		switch {
		case r == comboRollup:
			join.table = "fast_dim_combos"
			if scope != nil {
				filters = []*Filter{nil, scope.Combinations}
			}
		case r == fineRollup:
			join.table, sums = "fast_dim_fine", fineSums
		case r == wideRollup || r == wideTopRollup:
			// The rows' keys are their values' in fast_dim_wide: the
			// dimension's values are read from its rows' list at their
			// position.
			join.table, join.part, sums = "fast_dim_wide", wide, wideSums(wide)
			join.rowKey = fmt.Sprintf("CAST(r.customer_id %% %d AS INTEGER)", WideKeyFactor)
		case r == tierRollup:
			sumTiers(dims)
			sums = tierSums(dims[0].evaluation.ID)
		case keys && fineDimensions(data, dims) && comboKeyedForm(f):
			// Per customer, grouped by dimensions of the finer
			// combinations: the rows' keys hold their combination's.
			join.table, ids, join.rowKey = "fast_dim_fine", keyCombos, fmt.Sprintf("CAST(r.customer_id %% %d AS INTEGER)", ComboFactor)
		case keys:
			join.table = "fast_customer_keys"
		default:
			// Filtered by customer: the filters' customers are turned
			// into keys once, and the rows keep theirs.
			join.table, filters = "fast_customer_keys", byKeys(filters)
		}
		if join.table == "fast_customer_keys" {
			keyTiers(dims)
		}
		calendar = b.fastSources([]*queries.Fast{f}, ps, false, ids, r, sums)
		b.WriteString("),\nkpi_rows AS (\n  ")
		// Of one window at grain none, with no dimension and no counted
		// grouping, the aggregate answers one row whether or not any row
		// is read: the period's row of nulls is not needed, and the join
		// adding it cost about 0.4–0.8 ms a request (DuckDB's nested
		// loop over the rows; at 1M customers the first-response p90 over
		// 2024-03-05..2024-04-20 took 2.9 → 2.0 ms as bare SQL). The
		// aggregates over no row and over one null row are equal (the
		// property tests compare empty windows with the macros).
		rowPerPeriod := everyPeriod && (q.Grain != GrainNone || q.Compare || len(f.Counted) > 0)
		b.fastRows(def, f, params, filters, rowPerPeriod, ps)
		b.WriteString("\n)\nSELECT ")
		path, agg, form = PathFast, fastDefinition(def, f), f
	} else {
		b.kpiRows(def, ps, params, filters, everyPeriod)
	}
	lookupDimensions(dims, join)
	b.aggregate(agg, dims, q.Grain != GrainNone || q.Compare, join, form)
	res := header(data, def, q, from, to, dims, params)
	key := strings.Join([]string{def.Name, fmt.Sprint(def.Version), res.From, res.To, string(q.Grain),
		strings.Join(res.By, ","), q.Where, fmt.Sprint(params), fmt.Sprint(q.Compare), scopeKey(q.Scope), res.Fingerprint, path}, "|")
	groups := make([]GroupRef, len(dims))
	for i, d := range dims {
		groups[i] = GroupRef{Name: d.name, Customer: d.customer, Evaluation: d.evaluation.ID}
		if !d.customer && !d.tier {
			groups[i].Datasets, groups[i].Columns = def.Requires, d.names
		}
	}
	sql, args := withLiterals(b.String(), b.args)
	return &Statement{Def: def, SQL: sql, Args: args, Key: key, Result: res, Periods: len(ps), Groups: groups, Path: path, Calendar: calendar}, nil
}

// Definition resolves the KPI version a query asks for.
func Definition(cat *Catalog, q Query) (*queries.Definition, error) {
	k, err := cat.Lookup(q.KPI)
	if err != nil {
		return nil, err
	}
	return k.Version(q.Version)
}

// resolve finds the version and checks that its data is present.
func resolve(cat *Catalog, data *Data, q Query) (*queries.Definition, error) {
	def, err := Definition(cat, q)
	if err != nil {
		return nil, err
	}
	if err := RequireData(data, def); err != nil {
		return nil, err
	}
	return def, nil
}

// windowPeriods resolves the window and cuts it into the grain's periods;
// a comparison asks for the window and the one before it.
func windowPeriods(data *Data, def *queries.Definition, q Query) (time.Time, time.Time, []Period, error) {
	if len(def.Group) > 0 && q.Grain != GrainNone {
		return time.Time{}, time.Time{}, nil, fault.InvalidParam("grain", "KPI %s is a matrix grouped by %s; it takes no grain", def.Name, strings.Join(def.Group, ", "))
	}
	from, to, err := Window(data.DataEnd, q.From, q.To)
	if err != nil {
		return from, to, nil, err
	}
	ps, err := Periods(from, to, q.Grain)
	if err != nil {
		return from, to, nil, err
	}
	if q.Compare {
		// Grain none: W and W_prev. The previous window is computed as it
		// would be asked on its own, so its own previous window follows the
		// same rule (the quarter before the previous quarter).
		ps = compared(ps[0])
	}
	return from, to, ps, nil
}

// compared is window w and the previous window before it, the latter as
// it would be asked on its own (its own previous window follows the same
// rule).
func compared(w Period) []Period {
	return []Period{{Label: w.PrevStart, Start: w.PrevStart, End: w.Start, PrevStart: PreviousStart(w.PrevStart, w.Start)}, w}
}

// header is the answer's description, which names the data it read.
func header(data *Data, def *queries.Definition, q Query, from, to time.Time, dims []dimension, params []boundParam) *Result {
	by := make([]string, len(dims))
	for i, d := range dims {
		by[i] = d.name
	}
	res := &Result{
		KPI: def.Name, Version: def.Version, From: Date(from), To: Date(to),
		Grain: q.Grain, By: by, Fingerprint: fingerprint(data, def, q.Where != "", dims, q.Scope),
	}
	if len(params) > 0 {
		res.Params = map[string]any{}
		for _, p := range params {
			res.Params[p.name] = p.value
		}
	}
	return res
}

// statementBuilder writes a statement and collects its arguments in the
// order of their placeholders (withLiterals then writes the planner's
// times and integers in).
type statementBuilder struct {
	strings.Builder
	args []any
}

// periods writes the CTE of the request's periods, a row of values each.
func (b *statementBuilder) periods(ps []Period) {
	b.WriteString("WITH periods(period, win_start, win_end, prev_start) AS (VALUES ")
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?::DATE, ?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP)")
		b.args = append(b.args, p.Label, p.Start, p.End, p.PrevStart)
	}
}

// kpiRows joins each period to the version's macro. Without dimensions
// every period answers, even one without rows (its count is 0, its ratio
// null): the join is a LEFT one.
//
// A request of one period calls the macro with its bounds as values (the
// statement's constants): DuckDB then filters the scans by them, skipping
// the row groups outside them, where the lateral join compares every row
// with the period's bounds. (Binding them for each of two periods, as a union,
// ran their aggregates at once; under the memory limit at a million
// customers DuckDB 1.4.3's spilling hash aggregate then failed with an
// internal error in one run of three.)
func (b *statementBuilder) kpiRows(def *queries.Definition, ps []Period, params []boundParam, filters []*Filter, everyPeriod bool) {
	join := "JOIN"
	if everyPeriod {
		join = "LEFT JOIN"
	}
	fmt.Fprintf(b, "),\nkpi_rows AS (\n  SELECT p.period, k.* FROM periods p\n  %s ", join)
	if len(ps) == 1 {
		b.WriteString("(SELECT * FROM ")
		b.args = append(b.args, ps[0].Start, ps[0].End, ps[0].PrevStart)
		b.macroCall(def, "?::TIMESTAMP, ?::TIMESTAMP, ?::TIMESTAMP", params)
	} else {
		b.WriteString("LATERAL (SELECT * FROM ")
		b.macroCall(def, "p.win_start, p.win_end, p.prev_start", params)
	}
	b.customerFilters(filters)
	b.WriteString(") k ON true\n)\nSELECT ")
}

// macroCall writes a call of the version's macro with the bounds given and
// its parameters bound.
func (b *statementBuilder) macroCall(def *queries.Definition, bounds string, params []boundParam) {
	fmt.Fprintf(b, "%s(%s", def.MacroName(), bounds)
	for _, p := range params {
		fmt.Fprintf(b, ", %s := ?", p.name)
		b.args = append(b.args, p.value)
	}
	b.WriteString(")")
}

// byKeys is the filters as sets of integer keys (fast_customer_keys'),
// for rows keyed so: their customers are looked up once, where keying
// every row back to its customer_id and comparing strings took longer
// (at 1M customers over 2024-02-15..2024-11-20 with frequency > 3, email
// open rate's 2.3M events 193 ms against 285 in the engine, churn 276
// against 309, NPS 135 against 145).
func byKeys(filters []*Filter) []*Filter {
	out := make([]*Filter, len(filters))
	for i, f := range filters {
		if f != nil {
			out[i] = &Filter{SQL: "SELECT k.ckey FROM fast_customer_keys k WHERE k.customer_id IN (" + f.SQL + ")", Args: f.Args}
		}
	}
	return out
}

// customerFilters keeps the rows of the customers every filter (nil: none)
// selects.
func (b *statementBuilder) customerFilters(filters []*Filter) {
	word := " WHERE"
	for _, f := range filters {
		if f == nil {
			continue
		}
		fmt.Fprintf(b, "%s customer_id IN (%s)", word, f.SQL)
		b.args = append(b.args, f.Args...)
		word = " AND"
	}
}

// aggregate writes the select list, the dimension joins (as join says)
// and the grouping. A fast form (f; nil for none) that says counted has
// its rows grouped first by the request's groups and its counted
// columns (counted), and the aggregates read those.
func (b *statementBuilder) aggregate(def *queries.Definition, dims []dimension, byPeriod bool, join keyJoin, f *queries.Fast) {
	var cols, names []string
	add := func(expr, name string) { // name quoted
		cols = append(cols, expr+" AS "+name)
		names = append(names, name)
	}
	if byPeriod {
		add("r.period", "period")
	}
	for _, g := range def.Group {
		add("r."+QuoteIdent(g), QuoteIdent(g))
	}
	var joins []string
	var joinArgs []any
	if j := customerJoin(dims, join); j != "" {
		joins = append(joins, j)
	}
	for _, d := range dims {
		add(d.expr, QuoteIdent(d.name))
		if d.join != "" && !slices.Contains(joins, d.join) {
			joins = append(joins, d.join)
			joinArgs = append(joinArgs, d.joinArgs...)
		}
	}
	values := valueColumns(def)
	for _, x := range def.Extra {
		values = append(values, fmt.Sprintf("%s AS %s", x.Aggregate, QuoteIdent(x.Name)))
	}
	group := positions(0, len(cols))
	if f != nil && len(f.Counted) > 0 {
		b.WriteString(strings.Join(append(qualified(names), values...), ", "))
		b.WriteString("\nFROM (SELECT " + strings.Join(append(cols, counted(f)...), ", ") + "\nFROM kpi_rows r")
		b.writeJoins(joins, joinArgs)
		b.WriteString("\nGROUP BY " + strings.Join(positions(0, len(cols)+len(f.Counted)), ", ") + ") r")
	} else {
		b.WriteString(strings.Join(append(cols, values...), ", "))
		b.WriteString("\nFROM kpi_rows r")
		b.writeJoins(joins, joinArgs)
	}
	if len(group) > 0 {
		b.WriteString("\nGROUP BY " + strings.Join(group, ", "))
		order := make([]string, len(group))
		for i, g := range group {
			order[i] = g + " NULLS LAST"
		}
		b.WriteString("\nORDER BY " + strings.Join(order, ", "))
	}
}

// counted is the select list of a form's rows (r) grouped by its
// counted columns, after the request's groups: those columns, the sums
// of its summed ones under their own names, and the count, n (each row
// counted as its Count column says, if the form names one).
func counted(f *queries.Fast) []string {
	var out []string
	for _, c := range f.Counted {
		out = append(out, "r."+QuoteIdent(c))
	}
	times, n := "", "count(*) AS n"
	if f.Count != "" {
		times, n = " * r."+QuoteIdent(f.Count), "sum(r."+QuoteIdent(f.Count)+") AS n"
	}
	for _, c := range f.Summed {
		out = append(out, fmt.Sprintf("sum(r.%[1]s%[2]s) AS %[1]s", QuoteIdent(c), times))
	}
	return append(out, n)
}

// writeJoins writes the dimensions' joins and adds their arguments.
func (b *statementBuilder) writeJoins(joins []string, args []any) {
	for _, j := range joins {
		b.WriteString("\n" + j)
	}
	b.args = append(b.args, args...)
}

// positions are the select list positions from+1 through to, for a GROUP BY.
func positions(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from + 1; i <= to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

// qualified is each quoted name as a column of r, under its own name.
func qualified(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "r." + n + " AS " + n
	}
	return out
}

// valueColumns are the aggregate columns of the KPI. The value is cast to
// DOUBLE so every KPI answers a value of one type; a numerator and a
// denominator keep the type DuckDB gives their expression (BIGINT for a
// count, DOUBLE for a sum of amounts), so counts stay integers in every
// format. A ratio is recomputed from its sums for each group and period; a
// zero denominator gives null. Money (unit currency) is rounded to cents
// here, at the edge, so no format shows float noise (53723.52, not
// 53723.519999999975): the value and a ratio's numerator, which is then a
// sum of money too.
func valueColumns(d *queries.Definition) []string {
	money := func(expr string) string {
		if d.Money() {
			return "round(" + expr + ", 2)"
		}
		return expr
	}
	if d.Kind == queries.Ratio {
		scale := ""
		if d.Scale != 1 {
			scale = fmt.Sprintf("%g * ", d.Scale)
		}
		return []string{
			// The value divides the numerator as answered (to the cent,
			// for money): a sum of amounts differs in its last bits with
			// the order DuckDB adds them in, and at a half cent (50640.51
			// / 38 = 1332.645) those bits would decide the cent.
			fmt.Sprintf("CAST(%s AS DOUBLE) AS value", money(fmt.Sprintf("%s(%s) / nullif(%s, 0)", scale, money(d.Numerator), d.Denominator))),
			fmt.Sprintf("%s AS numerator", money(d.Numerator)),
			fmt.Sprintf("%s AS denominator", d.Denominator),
		}
	}
	return []string{fmt.Sprintf("CAST(%s AS DOUBLE) AS value", money(d.Value))}
}

type boundParam struct {
	name  string
	value any
}

// rowInputs checks what a KPI's rows need besides the dimensions: its
// parameters bound, that where= applies to it, and the key's scope as a
// filter.
func rowInputs(data *Data, def *queries.Definition, q Query) ([]boundParam, *Filter, error) {
	params, err := kpiParams(data, def, q.Params)
	if err != nil {
		return nil, nil, err
	}
	if q.Where != "" && def.Dimensions != nil {
		// Its rows are not all customers' (spend rows have none): a
		// customer filter would silently drop them.
		return nil, nil, fault.InvalidParam("where", "KPI %s is not computed per customer; where= does not apply to it", def.Name)
	}
	scope, err := ScopeFilter(data, def, q.Scope)
	if err != nil {
		return nil, nil, err
	}
	return params, scope, nil
}

// kpiParams checks the caller's KPI parameters against the definition.
func kpiParams(data *Data, d *queries.Definition, raw map[string]string) ([]boundParam, error) {
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
			if val, err = checkWeights(data, d, p.Name, v); err != nil {
				return nil, err
			}
		}
		out = append(out, boundParam{p.Name, val})
	}
	for name := range raw {
		if !slices.ContainsFunc(d.Params, func(p queries.Param) bool { return p.Name == name }) {
			return nil, fault.InvalidParam(name, "KPI %s v%d has no parameter %q", d.Name, d.Version, name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// RequireData refuses a KPI whose datasets or optional columns are absent:
// an answer of zeros would look like a fact.
func RequireData(data *Data, d *queries.Definition) error {
	var missing []string
	for _, kind := range d.Datasets() {
		if kind == ModelKind && !data.has(kind) {
			return &fault.Error{Code: fault.CodeMissingDataset,
				Message: fmt.Sprintf("KPI %s reads the CLV model's scores; fit the CLV model first", d.Name),
				Details: map[string]any{"kpi": d.Name, "datasets": []string{ModelKind}}}
		}
		if !data.has(kind) {
			missing = append(missing, kind)
		}
	}
	if len(missing) > 0 {
		return &fault.Error{Code: fault.CodeMissingDataset,
			Message: fmt.Sprintf("KPI %s needs the %s dataset(s); import them first", d.Name, strings.Join(missing, ", ")),
			Details: map[string]any{"kpi": d.Name, "datasets": missing}}
	}
	for _, col := range d.Columns() {
		kind, name, _ := strings.Cut(col, ".")
		have := data.Datasets[kind].Columns
		if prefix, ok := strings.CutSuffix(name, "*"); ok {
			// A pattern: at least one such column (score_* attribute scores).
			if !slices.ContainsFunc(have, func(c string) bool { return strings.HasPrefix(c, prefix) }) {
				return &fault.Error{Code: fault.CodeMissingColumn,
					Message: fmt.Sprintf("KPI %s needs at least one %s column in %s, which the imported data does not have; re-import %s with them", d.Name, name, kind, kind),
					Details: map[string]any{"kpi": d.Name, "dataset": kind, "column": name}}
			}
			continue
		}
		if !slices.Contains(have, name) {
			return &fault.Error{Code: fault.CodeMissingColumn,
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
func fingerprint(data *Data, d *queries.Definition, features bool, dims []dimension, scope map[string][]string) string {
	kinds := append([]string{"customers"}, d.Datasets()...)
	if features {
		kinds = slices.Collect(maps.Keys(data.Datasets))
	}
	sort.Strings(kinds)
	kinds = slices.Compact(kinds)
	h := sha256.New()
	for _, k := range kinds {
		fmt.Fprintf(h, "%s:%d;", k, data.Datasets[k].Generation)
	}
	fmt.Fprintf(h, "scope:%s;", scopeKey(scope))
	for _, dim := range dims {
		if dim.tier {
			fmt.Fprintf(h, "%s:%d;", dim.name, dim.evaluation.Generation)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// maxWeightSum bounds the sum of csi's weights: the macro multiplies each
// weight by a mean distance of up to 4 and sums, so a sum near the largest
// double (1e308) overflows to Inf and the index to NaN. 1e300 leaves that
// headroom and is far beyond any meaningful weight.
const maxWeightSum = 1e300

// checkWeights validates a weights parameter (`score_a:0.4,score_b:0.6`)
// against the pattern columns of the KPI's dataset, so a misspelt column
// is an error naming it and not a silent weight of 0. Each column is named
// once (the macro's map refuses a duplicate key), and the weights are
// finite, non-negative and sum to at most maxWeightSum. It returns the
// value to bind: the weights as Go read them, written back canonically, so
// the macro (which splits and casts the text) never reads a number or a
// name differently (hex floats, tabs around names).
func checkWeights(data *Data, d *queries.Definition, param, raw string) (string, error) {
	if !strings.Contains(raw, ":") {
		return raw, nil // equal weights
	}
	var available []string
	for _, kind := range d.Datasets() {
		ds := data.Datasets[kind]
		for _, c := range ds.Columns {
			for _, p := range ds.Patterns {
				if strings.HasPrefix(c, p) {
					available = append(available, c)
				}
			}
		}
	}
	seen := map[string]bool{}
	var sum float64
	var canonical []string
	for _, pair := range strings.Split(raw, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(pair), ":")
		name = strings.TrimSpace(name)
		f, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		switch {
		case !ok || err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0):
			return "", fault.InvalidParam(param, "%q is not column:weight with a finite, non-negative weight", pair)
		case !slices.Contains(available, name):
			return "", fault.InvalidParam(param, "%q is not an attribute score column of the loaded data (%s)", name, strings.Join(available, ", "))
		case seen[name]:
			return "", fault.InvalidParam(param, "column %s is weighted twice; name each column once", name)
		}
		seen[name] = true
		sum += f
		if sum > maxWeightSum {
			return "", fault.InvalidParam(param, "the weights sum to more than %g; scale them down (only their ratios matter)", maxWeightSum)
		}
		canonical = append(canonical, name+":"+strconv.FormatFloat(f, 'g', -1, 64))
	}
	return strings.Join(canonical, ","), nil
}
