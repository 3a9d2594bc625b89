package engine

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"custkpi/kpi"
)

// Thresholds of the satisfaction index system: a pair of attributes more
// correlated than redundantR measures one thing twice (the less important
// one is dropped from the weights); an attribute whose correlation with
// csat is below weakR in absolute value is too weakly related to overall
// satisfaction to weigh in it.
const (
	redundantR = 0.8
	weakR      = 0.2
	// maxLMGAttributes: the Shapley decomposition takes 2^k regressions;
	// beyond this many attributes the Pratt measure (β·r) is used instead.
	maxLMGAttributes = 12
	// maxDriverGroups bounds by= of the drivers (each group is a full
	// analysis).
	maxDriverGroups = 100
)

// DriversQuery asks for the satisfaction drivers of a window, optionally by
// one dimension and against the previous window.
type DriversQuery struct {
	From, To time.Time
	By       string
	Compare  bool
}

// SatisfactionDrivers is the driver analysis of the survey attributes.
type SatisfactionDrivers struct {
	From         string `json:"from"`
	To           string `json:"to"`
	PreviousFrom string `json:"previous_from,omitempty"`
	By           string `json:"by,omitempty"`
	// Method says how importance is measured.
	Method string `json:"method"`
	DriverSet
	Groups []DriverGroup `json:"groups,omitempty"`
}

// DriverGroup is the analysis of one group of by.
type DriverGroup struct {
	Value any `json:"value" extensions:"x-nullable"`
	DriverSet
}

// DriverSet is the analysis of one set of responses.
type DriverSet struct {
	Responses     int64    `json:"responses"`
	CompleteCases int64    `json:"complete_cases"`
	CSATMean      *float64 `json:"csat_mean" extensions:"x-nullable"`
	// RSquared of csat regressed on all attributes (complete cases).
	RSquared   *float64          `json:"r_squared" extensions:"x-nullable"`
	Attributes []DriverAttribute `json:"attributes"`
	// Weights are the derived CSI weights (column:weight), as csi's
	// weights parameter takes them; csi?weights=derived uses them.
	Weights string `json:"weights"`
	// Redundant pairs: |r| > 0.8 between two attributes.
	Redundant []RedundantPair `json:"redundant"`
}

// RedundantPair is two attributes so correlated that one adds little.
type RedundantPair struct {
	A       string  `json:"a"`
	B       string  `json:"b"`
	R       float64 `json:"r"`
	Dropped string  `json:"dropped"`
}

// DriverAttribute is one score_* attribute.
type DriverAttribute struct {
	Attribute string   `json:"attribute" example:"score_delivery"`
	Responses int64    `json:"responses"`
	Mean      *float64 `json:"mean" extensions:"x-nullable"`
	StdDev    *float64 `json:"stddev" extensions:"x-nullable"`
	Top2Box   *float64 `json:"top2_box" extensions:"x-nullable"`
	// Likert counts the answers 1, 2, 3, 4, 5.
	Likert   [5]int64 `json:"likert"`
	Pearson  *float64 `json:"pearson" extensions:"x-nullable"`
	Spearman *float64 `json:"spearman" extensions:"x-nullable"`
	// Importance is the attribute's share of R² (sums to 1 over the
	// attributes); LMG its part of R² itself; Beta its standardized
	// coefficient in the full regression.
	Importance *float64 `json:"importance" extensions:"x-nullable"`
	LMG        *float64 `json:"lmg" extensions:"x-nullable"`
	Beta       *float64 `json:"beta" extensions:"x-nullable"`
	Quadrant   string   `json:"quadrant" enums:"keep_up,concentrate_here,low_priority,possible_overkill,"`
	Redundant  bool     `json:"redundant"`
	Weak       bool     `json:"weak"`
	Weight     float64  `json:"weight"`
	// Against the previous window (compare=true): Welch's t-test of the
	// change of the mean.
	Previous *AttributeChange `json:"previous,omitempty"`
}

// AttributeChange is an attribute's mean in the previous window and the
// test of its change.
type AttributeChange struct {
	Responses   int64    `json:"responses"`
	Mean        *float64 `json:"mean" extensions:"x-nullable"`
	Change      *float64 `json:"change" extensions:"x-nullable"`
	T           *float64 `json:"t" extensions:"x-nullable"`
	DF          *float64 `json:"df" extensions:"x-nullable"`
	PValue      *float64 `json:"p_value" extensions:"x-nullable"`
	Significant *bool    `json:"significant" extensions:"x-nullable"`
}

// DriversMethod names the importance measure.
const DriversMethod = "importance: LMG (Shapley decomposition of R² of csat regressed on the attributes, averaged over every order of entry; exact over the 2^k subsets of the attributes' correlation matrix, on the responses with csat and every attribute) — it shares R² fairly between correlated attributes where regression weights would not; Pratt's β·r beyond 12 attributes. Quadrants split at the mean importance (1/k) and the mean of the attribute means. Redundant: |r| > 0.8 between two attributes (the less important is dropped from the weights); weak: |Pearson r with csat| < 0.2. Weights: the importances of the rest, summing to 1. Change against the previous window: Welch's t-test, two-sided, level 0.05."

// SatisfactionDrivers analyses the score_* attributes of the surveys
// against csat: the moments, frequency tables and correlations come from
// one DuckDB statement per grouping (overall, and by the dimension), the
// small regressions on the correlation matrix are done in Go.
func (e *Engine) SatisfactionDrivers(ctx context.Context, q DriversQuery) (*SatisfactionDrivers, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	s := e.snap()
	attrs, err := surveyAttributes(s)
	if err != nil {
		return nil, err
	}
	from, to, err := kpi.Window(s.dataEnd, q.From, q.To)
	if err != nil {
		return nil, err
	}
	out := &SatisfactionDrivers{From: kpi.Date(from), To: kpi.Date(to), By: q.By, Method: DriversMethod}
	prev := from
	if q.Compare {
		prev = kpi.PreviousStart(from, to)
		out.PreviousFrom = kpi.Date(prev)
	}
	overall, err := e.driverMoments(ctx, s, attrs, prev, from, to, "")
	if err != nil {
		return nil, err
	}
	out.DriverSet = analyseDrivers(attrs, overall[driverKey{cur: true}], overall[driverKey{}], q.Compare)
	if q.By == "" {
		return out, nil
	}
	groups, err := e.driverMoments(ctx, s, attrs, prev, from, to, q.By)
	if err != nil {
		return nil, err
	}
	out.Groups = []DriverGroup{}
	for _, k := range slices.SortedFunc(maps.Keys(groups), func(a, b driverKey) int { return strings.Compare(a.group, b.group) }) {
		if !k.cur {
			continue
		}
		pk := k
		pk.cur = false
		m := groups[k]
		out.Groups = append(out.Groups, DriverGroup{Value: m.value, DriverSet: analyseDrivers(attrs, m, groups[pk], q.Compare)})
	}
	return out, nil
}

// surveyAttributes are the score_* columns of the loaded surveys; the
// surveys, csat and at least one attribute must be there.
func surveyAttributes(s *snapshot) ([]string, error) {
	ds := s.datasets["surveys"]
	if ds == nil {
		return nil, &Error{Code: CodeMissingDataset, Message: "satisfaction drivers need the surveys dataset; import it first",
			Details: map[string]any{"datasets": []string{"surveys"}}}
	}
	if !slices.Contains(ds.Columns, "csat") {
		return nil, &Error{Code: CodeMissingColumn, Message: "satisfaction drivers need the csat column of surveys (overall satisfaction, 1..5), which the imported surveys do not have; re-import surveys with it",
			Details: map[string]any{"dataset": "surveys", "column": "csat"}}
	}
	var attrs []string
	for _, c := range ds.Columns {
		if strings.HasPrefix(c, "score_") {
			attrs = append(attrs, c)
		}
	}
	if len(attrs) == 0 {
		return nil, &Error{Code: CodeMissingColumn, Message: "satisfaction drivers need attribute scores (score_* columns, 1..5) in surveys, which the imported surveys do not have; re-import surveys with them",
			Details: map[string]any{"dataset": "surveys", "column": "score_*"}}
	}
	return attrs, nil
}

// driverKey identifies a window (cur: the window, else the previous one)
// and a group.
type driverKey struct {
	cur   bool
	group string
}

// moments are what DuckDB computes for one window and group.
type moments struct {
	value          any
	responses      int64
	csatN          int64
	csatMean       *float64
	complete       int64
	n              []int64
	mean, sd, top2 []*float64
	likert         [][5]int64
	pearson, spear []*float64
	corrCSAT       []*float64   // complete cases
	corr           [][]*float64 // complete cases, attribute × attribute
}

// driverMoments runs the moments statement: per window and group (one
// group without by), every attribute's count, mean, standard deviation,
// Likert counts, top-2-box share, Pearson and Spearman correlation with
// csat (pairwise complete), and the correlation matrix of csat and the
// attributes over the complete cases.
func (e *Engine) driverMoments(ctx context.Context, s *snapshot, attrs []string, prev, from, to time.Time, by string) (map[driverKey]*moments, error) {
	groupExpr, join, args, err := e.driverGroup(ctx, s, by)
	if err != nil {
		return nil, err
	}
	scope, err := kpi.ScopeFilter(s.data, nil, scopeOf(ctx))
	if err != nil {
		return nil, err
	}
	k := len(attrs)
	var src, ranks, aggs strings.Builder
	fmt.Fprintf(&src, "SELECT (sv.survey_date >= ?) AS w, %s AS g, sv.csat AS csat", groupExpr)
	allArgs := []any{from}
	complete := []string{"csat IS NOT NULL"}
	for i, a := range attrs {
		fmt.Fprintf(&src, ", sv.%s AS a%d", quoteIdent(a), i)
		complete = append(complete, fmt.Sprintf("a%d IS NOT NULL", i))
	}
	fmt.Fprintf(&src, " FROM surveys sv%s WHERE sv.survey_date >= ? AND sv.survey_date < ?", join)
	allArgs = append(allArgs, args...)
	allArgs = append(allArgs, prev, to)
	if scope != nil {
		fmt.Fprintf(&src, " AND sv.customer_id IN (%s)", scope.SQL)
		allArgs = append(allArgs, scope.Args...)
	}
	ranks.WriteString("SELECT *")
	for i := range attrs {
		// Average ranks (ties share the mean of their positions) among the
		// responses with both scores, per window and group.
		pair := fmt.Sprintf("w, g, (a%d IS NULL OR csat IS NULL)", i)
		fmt.Fprintf(&ranks, ", CASE WHEN a%[1]d IS NOT NULL AND csat IS NOT NULL THEN rank() OVER (PARTITION BY %[2]s ORDER BY a%[1]d) + (count(*) OVER (PARTITION BY %[2]s, a%[1]d) - 1) / 2.0 END AS ra%[1]d", i, pair)
		fmt.Fprintf(&ranks, ", CASE WHEN a%[1]d IS NOT NULL AND csat IS NOT NULL THEN rank() OVER (PARTITION BY %[2]s ORDER BY csat) + (count(*) OVER (PARTITION BY %[2]s, csat) - 1) / 2.0 END AS rc%[1]d", i, pair)
	}
	fmt.Fprintf(&ranks, ", (%s) AS complete FROM src", strings.Join(complete, " AND "))
	aggs.WriteString("SELECT w, g, count(*), count(csat), avg(csat), count(*) FILTER (WHERE complete)")
	for i := range attrs {
		fmt.Fprintf(&aggs, ", count(a%[1]d), avg(a%[1]d), stddev_samp(a%[1]d), avg((a%[1]d >= 4)::DOUBLE)", i)
		for v := 1; v <= 5; v++ {
			fmt.Fprintf(&aggs, ", count(*) FILTER (WHERE a%d = %d)", i, v)
		}
		fmt.Fprintf(&aggs, ", corr(a%[1]d, csat), corr(ra%[1]d, rc%[1]d), corr(a%[1]d, csat) FILTER (WHERE complete)", i)
		for j := i + 1; j < k; j++ {
			fmt.Fprintf(&aggs, ", corr(a%d, a%d) FILTER (WHERE complete)", i, j)
		}
	}
	aggs.WriteString(" FROM ranked GROUP BY w, g")
	query := "WITH src AS (" + src.String() + "), ranked AS (" + ranks.String() + ") " + aggs.String()
	var t *table
	err = e.read(ctx, func(ctx context.Context, conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, query, allArgs...)
		if err != nil {
			return err
		}
		t, err = scanTable(rows)
		return err
	})
	if err != nil {
		return nil, contextErr(ctx, err, "satisfaction drivers")
	}
	out := map[driverKey]*moments{}
	for _, r := range t.Rows {
		m := readMoments(r, k)
		out[driverKey{cur: r[0] == true, group: fmt.Sprintf("%T:%v", r[1], r[1])}] = m
	}
	if by == "" {
		for _, cur := range []bool{true, false} {
			if out[driverKey{cur: cur}] == nil {
				out[driverKey{cur: cur}] = out[driverKey{cur: cur, group: "<nil>:<nil>"}]
			}
		}
	}
	return out, nil
}

// readMoments reads one row of the moments statement, in its column order.
func readMoments(r []any, k int) *moments {
	c := 2
	next := func() any { v := r[c]; c++; return v }
	m := &moments{value: r[1], corr: make([][]*float64, k)}
	m.responses, m.csatN = toInt(next()), toInt(next())
	m.csatMean = toFloat(next())
	m.complete = toInt(next())
	for i := range k {
		m.corr[i] = make([]*float64, k)
		m.n = append(m.n, toInt(next()))
		m.mean = append(m.mean, toFloat(next()))
		m.sd = append(m.sd, toFloat(next()))
		m.top2 = append(m.top2, toFloat(next()))
		var l [5]int64
		for v := range 5 {
			l[v] = toInt(next())
		}
		m.likert = append(m.likert, l)
		m.pearson = append(m.pearson, toFloat(next()))
		m.spear = append(m.spear, toFloat(next()))
		m.corrCSAT = append(m.corrCSAT, toFloat(next()))
		for j := i + 1; j < k; j++ {
			m.corr[i][j] = toFloat(next())
		}
	}
	for i := range k {
		one := 1.0
		m.corr[i][i] = &one
		for j := range i {
			m.corr[i][j] = m.corr[j][i]
		}
	}
	return m
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	}
	n, _ := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	return n
}

func toFloat(v any) *float64 {
	if f, ok := v.(float64); ok {
		return finite(f)
	}
	return nil
}

// driverGroup resolves by= of the drivers to a grouping expression and its
// join: a customer dimension or a rule set's tier.
func (e *Engine) driverGroup(ctx context.Context, s *snapshot, by string) (string, string, []any, error) {
	if by == "" {
		return "NULL::VARCHAR", "", nil, nil
	}
	allowed := kpi.CustomerDimensions(s.data)
	var ref kpi.GroupRef
	var expr, join string
	var args []any
	if rs, ok := strings.CutPrefix(by, "tier:"); ok {
		ev, ok := s.data.Evaluations[rs]
		if !ok {
			return "", "", nil, &Error{Code: CodeUnknownDimension, Message: fmt.Sprintf("unknown dimension %q: rule set %q has no evaluation; evaluate it first", by, rs),
				Details: map[string]any{"parameter": "by", "dimension": by}}
		}
		expr, join, args = "t.tier", " LEFT JOIN (SELECT customer_id, tier FROM tier_assignments WHERE evaluation = ?) t ON t.customer_id = sv.customer_id", []any{ev.ID}
		ref = kpi.GroupRef{Name: by, Evaluation: ev.ID}
	} else {
		if !slices.Contains(allowed, by) {
			return "", "", nil, &Error{Code: CodeUnknownDimension,
				Message: fmt.Sprintf("unknown dimension %q; one of: %s, or tier:<ruleset>", by, strings.Join(allowed, ", ")),
				Details: map[string]any{"parameter": "by", "dimension": by, "dimensions": allowed}}
		}
		expr, join = "d."+quoteIdent(by), " LEFT JOIN customer_dims() d ON d.customer_id = sv.customer_id"
		ref = kpi.GroupRef{Name: by, Customer: true}
	}
	n, err := e.distinctValues(ctx, s, ref)
	if err != nil {
		return "", "", nil, err
	}
	if n > maxDriverGroups {
		return "", "", nil, invalidParam("by", "%s has %d values, more than %d; each group is a full driver analysis, choose a coarser dimension", by, n, maxDriverGroups)
	}
	return expr, join, args, nil
}

// DerivedWeights is the value of a weights parameter that asks for the
// satisfaction drivers' weights.
const DerivedWeights = "derived"

// resolveDerivedWeights replaces weights=derived of a KPI with a weights
// parameter (csi) by the CSI weights the satisfaction drivers derive over
// the query's window, so the answer (and its cache key) names the weights
// it used.
func (e *Engine) resolveDerivedWeights(ctx context.Context, q Query) (Query, error) {
	def, err := kpi.Definition(e.catalog, q)
	if err != nil {
		return q, nil // the planner names the error
	}
	for _, p := range def.Params {
		if p.Type != "weights" || q.Params[p.Name] != DerivedWeights {
			continue
		}
		d, err := e.SatisfactionDrivers(ctx, DriversQuery{From: q.From, To: q.To})
		if err != nil {
			return q, err
		}
		if d.Weights == "" {
			return q, invalidParam(p.Name, "no attribute qualifies for derived weights over %s..%s (too few complete responses, or every attribute weak or redundant); see /v1/satisfaction/drivers", d.From, d.To)
		}
		params := maps.Clone(q.Params)
		params[p.Name] = d.Weights
		q.Params = params
	}
	return q, nil
}
