package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"custkpi/engine/demo"
	"custkpi/kpi"
	"custkpi/queries"
)

// fastDemo opens an engine on a small demo dataset (every kind) with the
// built-in lifecycle rule set evaluated, for the fast path's property test.
func fastDemo(t *testing.T) *Engine {
	t.Helper()
	ctx := context.Background()
	files, err := demo.Generate(ctx, t.TempDir(), demo.Options{Customers: 1500, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(ctx, Options{CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	var reqs []ImportRequest
	for _, k := range Kinds {
		reqs = append(reqs, ImportRequest{Kind: k.Name, Path: files[k.Name]})
	}
	if _, err := e.ImportBatch(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	if _, err := e.EvaluateRuleSet(ctx, "lifecycle", 0, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	return e
}

// fastKPIs are the KPIs whose default or other version has a fast form.
func fastKPIs(e *Engine) []Query {
	var out []Query
	for _, k := range e.catalog.List() {
		for _, v := range k.Versions {
			if len(v.Fast) > 0 {
				out = append(out, Query{KPI: k.Name, Version: v.Version})
			}
		}
	}
	return out
}

// randomQuery draws a request: a window that is a calendar month, quarter
// or year or any span of days, inside or across the data's three years
// (2022..2024) and beyond its ends; a grain; up to two dimensions among
// customer columns, the age band and lifecycle tiers; a where= condition
// translated to SQL or matched in Go; and the KPI's parameters.
func randomQuery(r *rand.Rand, q Query) Query {
	day := time.Date(2021, 10, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365*3+180))
	switch r.IntN(5) {
	case 0:
		q.From = time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
		q.To = q.From.AddDate(0, 1, 0)
	case 1:
		q.From = time.Date(day.Year(), day.Month()-(day.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
		q.To = q.From.AddDate(0, 3, 0)
	case 2:
		q.From = time.Date(day.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		q.To = q.From.AddDate(1, 0, 0)
	case 3:
		// Whole months, mostly no calendar period (the month rows).
		q.From = time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
		q.To = q.From.AddDate(0, 2+r.IntN(13), 0)
	default:
		q.From = day
		q.To = day.AddDate(0, 0, 1+r.IntN(500))
	}
	grains := []Grain{GrainNone, GrainNone, GrainMonth, GrainQuarter, GrainWeek, GrainYear}
	if q.To.Sub(q.From) < 100*24*time.Hour {
		grains = append(grains, GrainDay)
	}
	q.Grain = grains[r.IntN(len(grains))]
	dims := []string{"region", "segment", "age_band", "acquisition_channel", "age", "tier:lifecycle"}
	r.Shuffle(len(dims), func(i, j int) { dims[i], dims[j] = dims[j], dims[i] })
	q.By = dims[:[]int{0, 0, 1, 1, 2}[r.IntN(5)]]
	wheres := []string{"", "", "monetary > 300.0", "frequency >= 3 && region == \"north\"", `segment.matches("^c")`, "suspected_churn", "recency_days < 200"}
	q.Where = wheres[r.IntN(len(wheres))]
	if q.KPI == "suspected_churn_rate" && r.IntN(2) == 0 {
		q.Params = map[string]string{"cycle_multiplier": fmt.Sprint([]float64{0.5, 1.5, 2, 3.25}[r.IntN(4)])}
	}
	if q.KPI == "csi" && r.IntN(2) == 0 {
		q.Params = map[string]string{"weights": []string{"score_delivery:0.5,score_support:2", "score_product_quality:1", "score_support:0.25,score_delivery:0.25,score_product_quality:3"}[r.IntN(3)]}
	}
	return q
}

// TestFastPathEqualsPlain is the fast path's property test: on random
// requests over the demo data, every KPI with a fast form answers what its
// macro answers. Counts, periods, dimension values and types are equal
// exactly; floating-point values too up to the order in which amounts are
// added (relative 1e-9), which the plain path does not fix either (DuckDB
// adds in parallel).
func TestFastPathEqualsPlain(t *testing.T) {
	e := fastDemo(t)
	kpis := fastKPIs(e)
	if len(kpis) < 15 {
		t.Fatalf("only %d KPIs have a fast form", len(kpis))
	}
	// The order sums by these read the day totals per combination of
	// dimensions; the signup date has too many values to be one.
	if got := e.snap().data.ComboDimensions; !slices.Contains(got, "region") || !slices.Contains(got, "age_band") || slices.Contains(got, "signup_date") {
		t.Errorf("dimensions of the combinations: %v", got)
	}
	n := 400
	if testing.Short() {
		n = 120
	}
	fast, calendar := fastEqualsPlain(t, e, kpis, n, 11)
	if fast < n*3/4 {
		t.Errorf("only %d of %d requests took the fast path", fast, n)
	}
	if calendar < n/6 {
		t.Errorf("only %d of %d requests read the calendar rollups", calendar, n)
	}
	t.Logf("%d of %d requests took the fast path, %d of them from the calendar rollups", fast, n, calendar)
}

// TestCombinationsEqualPlain covers what the random draws reach only
// now and then: every fast KPI grouped by dimensions of the combinations
// (fast_dim_combos) or of the finer ones (fast_dim_fine), which the
// per-combination tables serve, at calendar periods of each kind and a
// window that is none, at grain none and month, against the macros.
func TestCombinationsEqualPlain(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	windows := [][2]time.Time{
		{day("2023-01-01"), day("2024-01-01")},
		{day("2023-04-01"), day("2023-07-01")},
		{day("2023-05-01"), day("2023-06-01")},
		{day("2023-02-15"), day("2023-11-20")},
		// Calendar quarters before the first order and long after the
		// last: the history's state per finer combination has no rows
		// before its first end, and its last (past every suspected
		// churn flag's day) serves every later end.
		{day("2021-10-01"), day("2022-04-01")},
		{day("2031-01-01"), day("2031-07-01")},
	}
	fast, n := 0, 0
	for _, k := range fastKPIs(e) {
		for _, w := range windows {
			for _, g := range []Grain{GrainNone, GrainMonth} {
				for _, by := range [][]string{{"region"}, {"segment", "age_band"}, {"age"}, {"region", "age"}} {
					q := k
					q.From, q.To, q.Grain, q.By = w[0], w[1], g, by
					n++
					if servedEqualsPlain(t, ctx, e, q) {
						fast++
					}
				}
			}
		}
	}
	// Most: the KPIs of customer dimensions' sums, or of their calendar
	// periods, per combination; the rest per customer.
	if fast < n/2 {
		t.Errorf("only %d of %d requests took the fast path", fast, n)
	}
	t.Logf("%d of %d requests took the fast path", fast, n)
}

// TestShortPeriodsEqualPlain covers the layouts a request's periods
// choose that the random draws reach only now and then: days (each
// window and previous window a day: the day rows as they are, and each
// day's joined to the day before's), a few weeks (a union of one
// grouping per period) and more periods than maxPeriodBranches' 64
// (the days paired with their periods), of every fast KPI, of everyone,
// by region and by a many-valued dimension, against the macros.
func TestShortPeriodsEqualPlain(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	requests := []struct {
		from, to time.Time
		grain    Grain
	}{
		{day("2023-03-01"), day("2023-03-20"), GrainDay},
		{day("2023-03-06"), day("2023-04-24"), GrainWeek},
		{day("2022-01-03"), day("2023-07-03"), GrainWeek}, // 78 weeks
		// Windows without any row, at grain none: the fast forms read no
		// row where the macros' join gives one of nulls.
		{day("2031-01-01"), day("2031-02-01"), GrainNone},
		{day("2031-01-05"), day("2031-03-20"), GrainNone},
		{day("2019-01-05"), day("2019-03-20"), GrainNone},
	}
	fast, n := 0, 0
	for _, k := range fastKPIs(e) {
		for _, r := range requests {
			for _, by := range [][]string{nil, {"region"}, {"age"}, {"signup_date"}} {
				q := k
				q.From, q.To, q.Grain, q.By = r.from, r.to, r.grain, by
				n++
				if servedEqualsPlain(t, ctx, e, q) {
					fast++
				}
			}
		}
	}
	if fast < n*3/4 {
		t.Errorf("only %d of %d requests took the fast path", fast, n)
	}
	t.Logf("%d of %d requests took the fast path", fast, n)
}

// TestSuspectTablesTakeTheDefault: fast_suspect_per_day_by is built with
// suspectMultiplier, which the form reading it takes for suspected churn's
// default multiplier.
func TestSuspectTablesTakeTheDefault(t *testing.T) {
	defs, err := queries.Load()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := kpi.NewCatalog(defs)
	if err != nil {
		t.Fatal(err)
	}
	k, err := cat.Lookup("suspected_churn_rate")
	if err != nil {
		t.Fatal(err)
	}
	def, err := k.Version(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range def.Params {
		if p.Name == "cycle_multiplier" && p.Default == fmt.Sprint(suspectMultiplier) && slices.ContainsFunc(def.Fast, func(f *queries.Fast) bool { return f.DefaultParams }) {
			return
		}
	}
	t.Errorf("suspected_churn_rate v1: cycle_multiplier's default is not %v, or no form takes params: default: %+v", suspectMultiplier, def.Params)
}

// TestResponseQuantilesBuilt: every q a fast form reads from
// fast_response_quantiles (WHERE q = ...) is one the table is built with
// (responseQuantiles), and it is its definition's quantile; and at least
// one form reads it.
func TestResponseQuantilesBuilt(t *testing.T) {
	defs, err := queries.Load()
	if err != nil {
		t.Fatal(err)
	}
	built := strings.Split(strings.Trim(responseQuantiles, "[]"), ", ")
	reads := regexp.MustCompile(`WHERE q = ([0-9.]+)$`)
	forms := 0
	for _, def := range defs {
		for _, f := range def.Fast {
			if !slices.Contains(f.Sources, "fast_response_quantiles") {
				continue
			}
			forms++
			m := reads.FindStringSubmatch(strings.TrimSpace(f.Body))
			if m == nil || !slices.Contains(built, m[1]) || def.Value != "quantile_cont(hours, "+m[1]+")" {
				t.Errorf("%s v%d: form reads q %v, built %v, value %s", def.Name, def.Version, m, built, def.Value)
			}
		}
	}
	if forms == 0 {
		t.Error("no form reads fast_response_quantiles")
	}
}

// TestResponseQuantilesEqualPlain covers each form of the first-response
// quantiles of everyone, which the random draws reach only now and then:
// whole calendar periods (the quantiles kept per period), long windows
// that are none (the equal-count buckets: a 64th of the tickets sorted,
// interpolated between two ranks that may fall in two buckets) and short
// ones (the hours), against the macros.
func TestResponseQuantilesEqualPlain(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	requests := []struct {
		from, to time.Time
		grain    Grain
	}{
		{day("2023-01-01"), day("2024-01-01"), GrainQuarter}, // calendar
		{day("2023-01-01"), day("2024-01-01"), GrainNone},
		{day("2023-05-01"), day("2023-06-01"), GrainNone},
		{day("2023-02-15"), day("2023-11-20"), GrainNone}, // buckets
		{day("2023-02-15"), day("2023-11-20"), GrainQuarter},
		{day("2022-07-01"), day("2024-07-01"), GrainYear},
		{day("2023-03-05"), day("2023-04-20"), GrainNone}, // hours
		{day("2023-03-06"), day("2023-04-24"), GrainWeek},
	}
	for _, name := range []string{"first_response_hours_p50", "first_response_hours_p90"} {
		for _, r := range requests {
			q := Query{KPI: name, From: r.from, To: r.to, Grain: r.grain}
			if !servedEqualsPlain(t, ctx, e, q) {
				t.Errorf("%s %s..%s grain %s took the plain path", name, q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), q.Grain)
			}
		}
	}
}

// TestSuspectChurnMultipliers: suspected churn of everyone or by region,
// which the per-day changes serve at the default multiplier only, answers
// as its macro at others too (each customer's history serves them).
func TestSuspectChurnMultipliers(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, m := range []string{"", "2", "1.5", "3.25"} {
		for _, by := range [][]string{nil, {"region"}} {
			q := Query{KPI: "suspected_churn_rate", From: day("2023-01-01"), To: day("2024-01-01"), Grain: GrainMonth, By: by}
			if m != "" {
				q.Params = map[string]string{"cycle_multiplier": m}
			}
			got, want := servedAndPlain(t, ctx, e, q)
			if got.Path != PathFast {
				t.Errorf("multiplier %q by %v: served by %s", m, by, got.Path)
			}
			if msg := sameResult(got, want); msg != "" {
				t.Errorf("multiplier %q by %v: %s", m, by, msg)
			}
		}
	}
}

// TestCombinationsFitTheKeys: a row's key holds its customer's and their
// finer combination's (kpi's keyCombos), so there are fewer finer
// combinations than kpi.ComboFactor; and the finer ones hold the
// dimensions of the others.
func TestCombinationsFitTheKeys(t *testing.T) {
	if maxFine >= kpi.ComboFactor || maxCombos > maxFine || maxComboValues > maxFineValues {
		t.Fatalf("maxFine %d, kpi.ComboFactor %d, maxCombos %d, values %d and %d", maxFine, kpi.ComboFactor, maxCombos, maxComboValues, maxFineValues)
	}
	e := fastDemo(t)
	data := e.snap().data
	for _, d := range data.ComboDimensions {
		if !slices.Contains(data.FineDimensions, d) {
			t.Errorf("the finer combinations lack %s: %v against %v", d, data.FineDimensions, data.ComboDimensions)
		}
	}
	if !slices.Contains(data.FineDimensions, "age") || slices.Contains(data.ComboDimensions, "age") {
		t.Errorf("age among the finer combinations' dimensions %v and not the others' %v: want so", data.FineDimensions, data.ComboDimensions)
	}
	// So each finer combination is in one combination: the
	// combinations' calendar activity is summed from the finer ones'.
	var split int
	if err := e.DB().QueryRow("SELECT count(*) FROM (SELECT fine FROM fast_customer_keys GROUP BY fine HAVING count(DISTINCT combo) > 1)").Scan(&split); err != nil || split > 0 {
		t.Errorf("%d finer combinations span several combinations (err %v)", split, err)
	}
	// The planner reads the combinations' dimensions from lists indexed by
	// their keys (kpi's keyJoin.lookup): 1 to their number.
	for _, table := range []string{"fast_dim_combos", "fast_dim_fine"} {
		var dense bool
		if err := e.DB().QueryRow("SELECT min(ckey) = 1 AND max(ckey) = count(*) AND count(DISTINCT ckey) = count(*) FROM " + table).Scan(&dense); err != nil || !dense {
			t.Errorf("%s's keys are not 1 to their number (err %v)", table, err)
		}
	}
}

// fastEqualsPlain runs n random requests of kpis on the fast and on the
// plain path and reports every difference; it counts those the fast path
// served and those it served from the calendar rollups.
func fastEqualsPlain(t *testing.T, e *Engine, kpis []Query, n int, seed uint64) (fast, calendar int) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 17))
	for i := range n {
		q := ownDimensions(e, randomQuery(r, kpis[i%len(kpis)]))
		got, want := servedAndPlain(t, ctx, e, q)
		if got.Path == PathFast {
			fast++
		}
		if got.Calendar {
			calendar++
		}
		if msg := sameResult(got, want); msg != "" {
			t.Errorf("%s v%d %s..%s grain %s by %v where %q params %v: %s", q.KPI, q.Version, q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), q.Grain, q.By, q.Where, q.Params, msg)
		}
	}
	return fast, calendar
}

// servedEqualsPlain checks that q (asked of a KPI of its own dimensions
// as ownDimensions says) answers as served what it answers on the plain
// path, and tells whether the fast path served it.
func servedEqualsPlain(t *testing.T, ctx context.Context, e *Engine, q Query) (fast bool) {
	t.Helper()
	q = ownDimensions(e, q)
	got, want := servedAndPlain(t, ctx, e, q)
	if msg := sameResult(got, want); msg != "" {
		t.Errorf("%s v%d %s..%s grain %s by %v: %s", q.KPI, q.Version, q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), q.Grain, q.By, msg)
	}
	return got.Path == PathFast
}

// ownDimensions rewrites a request for a KPI whose rows carry dimensions
// of their own (cac: the channel), which no customer filter applies to:
// grouped by its first such dimension where the request was grouped, and
// without where=; and for a matrix (cohort retention), which takes no
// grain: at grain none.
func ownDimensions(e *Engine, q Query) Query {
	k, err := e.catalog.Lookup(q.KPI)
	if err != nil {
		return q
	}
	def, err := k.Version(q.Version)
	if err != nil {
		return q
	}
	if len(def.Group) > 0 {
		q.Grain = GrainNone
	}
	if def.Dimensions == nil {
		return q
	}
	q.By = def.Dimensions[:min(len(q.By), 1)]
	q.Where = ""
	return q
}

// servedAndPlain runs q as served (with ctx) and on the plain path.
func servedAndPlain(t *testing.T, ctx context.Context, e *Engine, q Query) (got, want *Result) {
	t.Helper()
	got, err := e.Run(ctx, q)
	if err != nil {
		t.Fatalf("%+v: fast: %v", q, err)
	}
	want, err = e.Run(WithPlainPath(ctx), q)
	if err != nil {
		t.Fatalf("%+v: plain: %v", q, err)
	}
	if want.Path != PathPlain {
		t.Fatalf("%+v: the reference ran on %s", q, want.Path)
	}
	for _, ctx := range []context.Context{ctx, WithPlainPath(ctx)} {
		timesWritten(t, ctx, e, q)
	}
	return got, want
}

// timesWritten checks that the planner leaves none of q's times or
// integers (calendar months, tier and wide keys, evaluation ids) bound
// (kpi.withLiterals): a value left bound makes DuckDB plan the statement
// twice. (where= values and parameters, strings and floats, stay bound.)
func timesWritten(t *testing.T, ctx context.Context, e *Engine, q Query) {
	t.Helper()
	st, err := e.plan(ctx, e.snap(), q)
	if err != nil {
		t.Fatalf("%+v: plan: %v", q, err)
	}
	for _, a := range st.Args {
		switch a.(type) {
		case time.Time, int, int64:
			t.Errorf("%+v: %T %v left bound in\n%s", q, a, a, st.SQL)
		}
	}
}

// sameResult compares two answers cell by cell; "" when equal.
func sameResult(got, want *Result) string {
	if !slices.Equal(got.Columns, want.Columns) || !slices.Equal(got.Types, want.Types) {
		return fmt.Sprintf("columns %v %v, want %v %v", got.Columns, got.Types, want.Columns, want.Types)
	}
	if len(got.Rows) != len(want.Rows) {
		return fmt.Sprintf("%d rows, want %d", len(got.Rows), len(want.Rows))
	}
	for i := range want.Rows {
		for j := range want.Rows[i] {
			if !sameCell(got.Rows[i][j], want.Rows[i][j]) {
				return fmt.Sprintf("row %d column %s: %v, want %v (row %v, want %v)", i, want.Columns[j], got.Rows[i][j], want.Rows[i][j], got.Rows[i], want.Rows[i])
			}
		}
	}
	return ""
}

func sameCell(a, b any) bool {
	fa, aok := a.(float64)
	fb, bok := b.(float64)
	if aok && bok {
		if math.IsNaN(fa) || math.IsNaN(fb) {
			return math.IsNaN(fa) && math.IsNaN(fb)
		}
		return fa == fb || math.Abs(fa-fb) <= 1e-9*math.Max(1, math.Abs(fb))
	}
	return reflect.DeepEqual(a, b)
}

// TestFastScorecardEqualsPlain: the scorecard computed in one statement
// over the shared tables equals the one computed KPI by KPI on the plain
// path, on random windows, with a target (so the status is compared too).
func TestFastScorecardEqualsPlain(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	if _, err := e.SetTarget(ctx, Target{KPI: "revenue", Target: 1000, WarnWithin: 100}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 5))
	// Calendar windows (read from the calendar rollups) and others (from
	// the per-day tables), each without and with a scope.
	windows := [][2]time.Time{
		{date("2023-01-01"), date("2024-01-01")},
		{date("2023-04-01"), date("2023-07-01")},
	}
	for range 2 {
		q := randomQuery(r, Query{})
		windows = append(windows, [2]time.Time{q.From, q.From.AddDate(0, 0, 20+r.IntN(300))})
	}
	// Keys with a row scope: of whole combinations (the sums per
	// combination serve them), and by a column of the finer ones (the
	// scope's customers' keys filter the rows).
	scopes := []Scope{{"region": {"north", "east"}}, {"age": {"31", "32", "33", "47"}}}
	for i := range 2 * len(windows) {
		q := Query{From: windows[i/2][0], To: windows[i/2][1]}
		if i%2 == 1 {
			ctx = WithPrincipal(context.Background(), &Principal{Name: "scoped", Role: "reader", Scope: scopes[i/2%2]})
		} else {
			ctx = context.Background()
		}
		got, err := e.Scorecard(ctx, q.From, q.To)
		if err != nil {
			t.Fatal(err)
		}
		want, err := e.Scorecard(WithPlainPath(ctx), q.From, q.To)
		if err != nil {
			t.Fatal(err)
		}
		if got.Path != PathFast || want.Path != PathPlain {
			t.Fatalf("paths %s and %s", got.Path, want.Path)
		}
		if len(got.Rows) != len(want.Rows) {
			t.Fatalf("%d rows, want %d", len(got.Rows), len(want.Rows))
		}
		for i, w := range want.Rows {
			g := got.Rows[i]
			if g.KPI != w.KPI || !sameNum(g.Value, w.Value) || !sameNum(g.Previous, w.Previous) || !sameNum(g.Change, w.Change) ||
				!reflect.DeepEqual(g.Status, w.Status) {
				t.Errorf("%s..%s %s: value %v previous %v status %v, want %v %v %v", got.From, got.To, w.KPI,
					deref(g.Value), deref(g.Previous), g.Status, deref(w.Value), deref(w.Previous), w.Status)
			}
		}
	}
}

// TestScopedEqualsPlain: a key with a row scope gets on the fast path
// what it gets on the plain path, on random requests: scoped by the
// combinations' dimensions only (the sums per combination of the scope's
// combinations serve it, where the request is not filtered by where= or
// grouped by another dimension), or by another column (the scope's
// customers' keys filter the rows).
func TestScopedEqualsPlain(t *testing.T) {
	e := fastDemo(t)
	kpis := fastKPIs(e)
	scopes := []Scope{
		{"region": {"north", "east"}},
		{"region": {"south"}, "segment": {"b2b"}},
		{"acquisition_channel": {"organic", "referral"}},
		{"age": {"31", "32", "33", "47"}},
	}
	n := 160
	if testing.Short() {
		n = 60
	}
	r := rand.New(rand.NewPCG(13, 29))
	combos := 0
	for i := range n {
		q := randomQuery(r, kpis[i%len(kpis)])
		def, err := kpi.Definition(e.catalog, q)
		if err != nil || def.Dimensions != nil {
			continue // not per customer: a scoped key may not read it
		}
		if len(def.Group) > 0 {
			q.Grain = GrainNone // a matrix takes none
		}
		if r.IntN(2) == 0 {
			q.Where = ""
		}
		scope := scopes[r.IntN(len(scopes))]
		ctx := WithPrincipal(context.Background(), &Principal{Name: "scoped", Role: "reader", Scope: scope})
		got, want := servedAndPlain(t, ctx, e, q)
		if msg := sameResult(got, want); msg != "" {
			t.Errorf("%s v%d %s..%s grain %s by %v where %q scope %v: %s", q.KPI, q.Version, q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), q.Grain, q.By, q.Where, scope, msg)
		}
		q.Scope, q.Fast = scope, true
		if st, err := kpi.Plan(e.catalog, e.snap().data, q, nil); err == nil && strings.Contains(st.SQL, "FROM fast_dim_combos c WHERE") {
			combos++
		}
	}
	if combos < n/10 {
		t.Errorf("only %d of %d requests read the sums of the scope's combinations", combos, n)
	}
	t.Logf("%d of %d requests read the sums of the scope's combinations", combos, n)
}

func sameNum(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameCell(*a, *b)
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// TestFastTablesRebuiltWhenStale: tables left behind by a write that did
// not rebuild them (an older build's import) are rebuilt when the
// database opens, before any answer reads them.
func TestFastTablesRebuiltWhenStale(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/stale.duckdb"
	e, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, e, "customers", "testdata/handbuilt/customers.csv")
	mustImport(t, e, "orders", "testdata/handbuilt/orders.csv")
	// As an older build's import would leave them: data without its
	// days, and a table of an earlier layout.
	if _, err := e.DB().ExecContext(ctx, "DELETE FROM fast_order_days; UPDATE fast_stamp SET stamp = 'an older build'; CREATE TABLE fast_event_calendar AS SELECT 1 AS months"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	reopenRevenue(t, path)
	e, err = Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var retired int
	if err := e.DB().QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'fast_event_calendar'").Scan(&retired); err != nil || retired != 0 {
		t.Errorf("fast_event_calendar after the rebuild: %d table(s), err %v; want it dropped", retired, err)
	}
	e.Close()
	// As builds before the stamp left them: none.
	e, err = Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB().ExecContext(ctx, "DELETE FROM fast_order_days; DROP TABLE fast_stamp"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	reopenRevenue(t, path)
}

// reopenRevenue opens the file again and checks the fast revenue of the
// hand-built data.
func reopenRevenue(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	e, err := Open(ctx, Options{Path: path, CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	q := Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-04-01")}
	got, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// kpi_test.go: completed revenue in W is 420.
	if got.Path != PathFast || got.Rows[0][0] != 420.0 {
		t.Errorf("revenue %v on %s, want 420 on the fast path", got.Rows, got.Path)
	}
}

// TestScorecardWarmedAfterImport: with WarmScorecard (a server), the
// default scorecard of the new generation is computed in the background
// after an import, so the first request is the cache's; any write (a
// target) makes a new generation that computes it again.
func TestScorecardWarmedAfterImport(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, Options{WarmScorecard: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.ImportBatch(ctx, []ImportRequest{
		{Kind: "customers", Path: "testdata/handbuilt/customers.csv"},
		{Kind: "orders", Path: "testdata/handbuilt/orders.csv"},
	}); err != nil {
		t.Fatal(err)
	}
	e.warming.Wait()
	sc, err := e.Scorecard(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Path != PathCache || len(sc.Rows) == 0 {
		t.Errorf("first scorecard after the import: %d rows from %s, want the warmed one", len(sc.Rows), sc.Path)
	}
	if _, err := e.SetTarget(ctx, Target{KPI: "revenue", Target: 100}); err != nil {
		t.Fatal(err)
	}
	sc, err = e.Scorecard(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Path != PathFast {
		t.Errorf("scorecard after a target was set: from %s, want computed (fast)", sc.Path)
	}
}

// TestStaleFastTablesTakePlainPath: the fast path's tables are built after
// the write that committed the data; while their stamp is behind (being
// built, or a build failed), answers take the plain path, with the same
// numbers.
func TestStaleFastTablesTakePlainPath(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, Options{CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	mustImport(t, e, "customers", "testdata/handbuilt/customers.csv")
	mustImport(t, e, "orders", "testdata/handbuilt/orders.csv")
	// By region: the daily totals per combination of dimensions.
	q := Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-04-01"), By: []string{"region"}}
	fast, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if fast.Path != PathFast {
		t.Fatalf("a calendar quarter after an import took the %s path", fast.Path)
	}
	// Tables that would give a wrong answer, stamped behind the data; a
	// write that derives nothing publishes a snapshot that sees the stamp.
	if _, err := e.DB().ExecContext(ctx, "DELETE FROM fast_calendar; DELETE FROM fast_order_totals; DELETE FROM fast_order_totals_by; UPDATE fast_stamp SET stamp = 'an older build'"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SetTarget(ctx, Target{KPI: "revenue", Target: 1, Direction: "higher_is_better"}); err != nil {
		t.Fatal(err)
	}
	plain, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Path != PathPlain {
		t.Fatalf("stale fast tables served the answer (%s)", plain.Path)
	}
	if msg := sameResult(plain, fast); msg != "" {
		t.Fatal(msg)
	}
	sc, err := e.Scorecard(ctx, q.From, q.To)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Path != PathPlain {
		t.Errorf("the scorecard over stale fast tables took the %s path", sc.Path)
	}
}

// TestFastTablesFollowTheirDatasets: a write that changes none of the
// datasets the fast path's tables read (a CLV fit rebuilds the features
// only) leaves them as they are; an import of one of them rebuilds them.
func TestFastTablesFollowTheirDatasets(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	// A mark a rebuild would remove.
	if _, err := e.DB().ExecContext(ctx, "INSERT INTO fast_ticket_calendar SELECT * FROM fast_ticket_calendar LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	rows := func() (n int) {
		if err := e.DB().QueryRow("SELECT count(*) FROM fast_ticket_calendar").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	marked := rows()
	if _, err := e.FitCLV(ctx, CLVFitRequest{CalibrationEnd: date("2024-06-30"), Unit: "week"}); err != nil {
		t.Fatal(err)
	}
	if got := rows(); got != marked {
		t.Errorf("a CLV fit rebuilt the fast path's tables (%d rows, marked %d)", got, marked)
	}
	if !e.snap().fastCurrent {
		t.Error("after a CLV fit the fast path's tables count as stale")
	}
	mustImport(t, e, "customers", "testdata/handbuilt/customers.csv")
	mustImport(t, e, "orders", "testdata/handbuilt/orders.csv")
	if got := rows(); got == marked {
		t.Error("an import left the fast path's tables as they were")
	}
	if !e.snap().fastCurrent {
		t.Error("after an import the fast path's tables count as stale")
	}
}

// An import rebuilds only the fast tables that read what it changed (and
// all of them when it changed the customers, whose keys every table
// carries), and the fast path still answers as the plain one.
func TestFastTablesRebuiltPerDataset(t *testing.T) {
	ctx := context.Background()
	e := fastDemo(t)
	other, err := demo.Generate(ctx, t.TempDir(), demo.Options{Customers: 1500, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	oids := func() map[string]int64 {
		t.Helper()
		rows, err := e.DB().QueryContext(ctx, "SELECT table_name, table_oid FROM duckdb_tables() WHERE table_name LIKE 'fast%' AND NOT temporary")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var name string
			var oid int64
			if err := rows.Scan(&name, &oid); err != nil {
				t.Fatal(err)
			}
			out[name] = oid
		}
		return out
	}
	r := rand.New(rand.NewPCG(11, 13))
	for _, c := range []struct {
		kind    string
		rebuilt []string // every other fast table must be kept
	}{
		{"surveys", []string{"fast_survey_days", "fast_survey_totals_by", "fast_survey_day_totals", "fast_survey_calendar_fine", "fast_survey_calendar_wide", "fast_survey_calendar_tiers", "fast_score_days_by", "fast_score_days", "fast_score_calendar_fine", "fast_score_calendar_wide", "fast_score_calendar_tiers", "fast_stamp"}},
		{"events", []string{"fast_event_rows", "fast_event_totals_by", "fast_event_day_totals", "fast_event_calendar_fine", "fast_event_calendar_wide", "fast_event_calendar_tiers", "fast_stamp"}},
		{"tickets", []string{"fast_ticket_rows", "fast_ticket_calendar", "fast_ticket_totals_by", "fast_ticket_day_totals", "fast_ticket_hours_by",
			"fast_ticket_hours_bucketed", "fast_ticket_hour_buckets", "fast_ticket_hour_quantiles",
			"fast_ticket_totals_calendar_fine", "fast_ticket_totals_calendar_wide", "fast_ticket_totals_calendar_tiers",
			"fast_calendar_active", "fast_calendar_activity_fine", "fast_calendar_activity_by", "fast_calendar_activity", "fast_calendar_activity_wide", "fast_calendar_activity_tiers", "fast_stamp"}},
		{"contracts", []string{"fast_contract_rows", "fast_stamp"}},
		{"customers", []string{"*"}},
	} {
		before := oids()
		if _, err := e.Import(ctx, ImportRequest{Kind: c.kind, Path: other[c.kind], Orphans: "drop"}); err != nil {
			t.Fatalf("import %s: %v", c.kind, err)
		}
		after := oids()
		for name, oid := range before {
			want := slices.Contains(c.rebuilt, name) || slices.Equal(c.rebuilt, []string{"*"})
			if got := after[name] != oid; got != want {
				t.Errorf("import %s: %s rebuilt %v, want %v", c.kind, name, got, want)
			}
		}
		if !e.snap().fastCurrent {
			t.Fatalf("import %s: the fast tables are not current", c.kind)
		}
		for _, q := range fastKPIs(e) {
			servedEqualsPlain(t, ctx, e, randomQuery(r, q))
		}
	}
}

func TestStaleDatasets(t *testing.T) {
	stamp := func(layout, customers, orders, surveys int) string {
		return fmt.Sprintf("layout %d, customers %d, orders %d, events 4, surveys %d, tickets 6, contracts 7", layout, customers, orders, surveys)
	}
	now := stamp(fastLayout, 1, 2, 3)
	for _, c := range []struct {
		built string
		stale []string
		all   bool
	}{
		{now, nil, false},
		{stamp(fastLayout, 1, 2, 2), []string{"surveys"}, false},
		{stamp(fastLayout, 1, 1, 2), []string{"orders", "surveys"}, false},
		{stamp(fastLayout, 0, 2, 3), nil, true},
		{stamp(fastLayout-1, 1, 2, 3), nil, true},
		{"", nil, true},
		{"an older build", nil, true},
		{fmt.Sprintf("layout %d, customers 1, orders 2", fastLayout), nil, true},
	} {
		stale, all := staleDatasets(c.built, now)
		if !slices.Equal(stale, c.stale) || all != c.all {
			t.Errorf("built %q: stale %v all %v, want %v %v", c.built, stale, all, c.stale, c.all)
		}
	}
}

// The tier assignments keyed for the fast path (fast_tier_lists) follow the
// keys: an evaluation after the fast tables were built adds its own, a
// customers import that renumbers every key rebuilds them, and an
// evaluation replacing another replaces its rows; by a tier, the fast
// path answers as the plain one throughout.
func TestTiersKeyedAcrossImports(t *testing.T) {
	ctx := context.Background()
	e := fastDemo(t) // lifecycle evaluated after the fast tables' build
	check := func(when, tiers string) {
		t.Helper()
		var keyed, assigned int64
		if err := e.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (SELECT unnest(codes) AS c FROM fast_tier_lists) WHERE c IS NOT NULL),
			(SELECT count(*) FROM tier_assignments JOIN customers USING (customer_id))`).Scan(&keyed, &assigned); err != nil {
			t.Fatal(err)
		}
		if keyed != assigned || keyed == 0 {
			t.Errorf("%s: %d keyed assignments, %d assignments of known customers", when, keyed, assigned)
		}
		for _, k := range []string{"nps", "revenue", "churn_rate", "email_open_rate", "resolution_rate"} {
			q := Query{KPI: k, From: date("2024-02-15"), To: date("2024-11-20"), Grain: GrainMonth, By: []string{tiers}}
			got, want := servedAndPlain(t, ctx, e, q)
			if got.Path != PathFast {
				t.Errorf("%s: %s by %s took the %s path", when, k, tiers, got.Path)
			}
			if msg := sameResult(got, want); msg != "" {
				t.Errorf("%s: %s by %s: %s", when, k, tiers, msg)
			}
		}
	}
	check("evaluated after the build", "tier:lifecycle")
	// One customer more, first in customer_id order: every key moves.
	path := filepath.Join(t.TempDir(), "customers.parquet")
	if _, err := e.DB().ExecContext(ctx, fmt.Sprintf(`COPY (SELECT * FROM customers UNION ALL BY NAME
		SELECT '0-first' AS customer_id, DATE '2023-03-01' AS signup_date, 'north' AS region) TO '%s' (FORMAT parquet)`, path)); err != nil {
		t.Fatal(err)
	}
	mustImport(t, e, "customers", path)
	check("keys renumbered", "tier:lifecycle")
	for range 2 { // the second replaces the first
		if _, err := e.EvaluateRuleSet(ctx, "value_tiers", 0, date("2024-06-01"), false); err != nil {
			t.Fatal(err)
		}
	}
	check("evaluated again", "tier:value_tiers")
}

// The sums per calendar period and tier answer every fast KPI by a tier
// as the macros do: of an evaluation made after the fast tables were
// built (addTierSums), after an import rebuilt them (tierSumStatements),
// and after a second rule set's evaluation and a re-evaluation of the
// first, which replaces its sums. Requests the tier sums must not serve
// (a non-calendar window, a tier with another dimension, where=) still
// answer as the macros do.
func TestTierSumsEqualPlain(t *testing.T) {
	e := fastDemo(t) // lifecycle evaluated after the fast tables' build
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	readsTierSums := func(q Query) bool { return planReads(t, e, q, "_tiers d") }
	check := func(when string, tiers ...string) {
		t.Helper()
		groupSumsEqualPlain(t, e, when, "_tiers d", tiers...)
	}
	check("evaluated after the build", "tier:lifecycle")
	for _, q := range []Query{
		{KPI: "churn_rate", From: day("2023-02-15"), To: day("2023-11-20"), By: []string{"tier:lifecycle"}},
		{KPI: "churn_rate", From: day("2023-01-01"), To: day("2024-01-01"), By: []string{"tier:lifecycle", "region"}},
		{KPI: "recency_days", From: day("2023-01-01"), To: day("2024-01-01"), By: []string{"tier:lifecycle"}, Where: "frequency >= 3"},
		{KPI: "suspected_churn_rate", From: day("2023-01-01"), To: day("2024-01-01"), By: []string{"tier:lifecycle"}, Params: map[string]string{"cycle_multiplier": "3"}},
	} {
		if readsTierSums(q) {
			t.Errorf("%+v read the sums per tier", q)
		}
		servedEqualsPlain(t, ctx, e, q)
	}
	// A new customer, without a tier (first in customer_id order: every
	// key moves), with an order: the customers' import rebuilds every
	// table; then a new order import rebuilds the sums per tier with the
	// order tables, the new customer's in the group of no tier.
	dir := t.TempDir()
	customers, orders := filepath.Join(dir, "customers.parquet"), filepath.Join(dir, "orders.parquet")
	for _, copy := range []string{
		`COPY (SELECT * FROM customers UNION ALL BY NAME
		 SELECT '0-first' AS customer_id, DATE '2023-03-01' AS signup_date, 'north' AS region) TO '%s' (FORMAT parquet)`,
		`COPY (SELECT * FROM orders WHERE order_date < DATE '2024-07-01' UNION ALL
		 (SELECT * REPLACE ('o-first' AS order_id, '0-first' AS customer_id) FROM orders WHERE status = 'completed' ORDER BY order_id LIMIT 1))
		 TO '%s' (FORMAT parquet)`,
	} {
		path := customers
		if strings.Contains(copy, "FROM orders") {
			path = orders
		}
		if _, err := e.DB().ExecContext(ctx, fmt.Sprintf(copy, path)); err != nil {
			t.Fatal(err)
		}
	}
	mustImport(t, e, "customers", customers)
	check("a customer without a tier imported", "tier:lifecycle")
	mustImport(t, e, "orders", orders)
	check("orders imported again", "tier:lifecycle")
	var untiered int64
	if err := e.DB().QueryRowContext(ctx, `SELECT count(*) FROM fast_order_calendar_tiers WHERE ckey % 256 = 0`).Scan(&untiered); err != nil {
		t.Fatal(err)
	}
	if untiered == 0 {
		t.Error("no sums of the customers without a tier")
	}
	for range 2 { // the second replaces the first
		if _, err := e.EvaluateRuleSet(ctx, "value_tiers", 0, day("2024-06-01"), false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.EvaluateRuleSet(ctx, "lifecycle", 0, day("2024-03-01"), false); err != nil {
		t.Fatal(err)
	}
	check("evaluated again", "tier:lifecycle", "tier:value_tiers")
	// Only the latest evaluation of each rule set keeps its sums.
	var evaluations int64
	if err := e.DB().QueryRowContext(ctx, `SELECT count(DISTINCT ckey // 256) FROM fast_history_ends_tiers`).Scan(&evaluations); err != nil {
		t.Fatal(err)
	}
	if evaluations != 2 {
		t.Errorf("the history ends per tier hold %d evaluations, want 2", evaluations)
	}
}

// topOnlyEqualPlain checks the sums kept per value of a top-only wide
// dimension (age, region): by it over calendar periods, at grain none and
// month, the top-20% share and customer profitability answer as their
// macros and read those sums exactly where revenue by age reads the sums
// per finer combination over calendar months, and no other fast KPI
// reads them.
func topOnlyEqualPlain(t *testing.T, e *Engine, when string) {
	t.Helper()
	for _, by := range []string{"age", "region"} {
		topOnlyByEqualPlain(t, e, when, by)
	}
}

// topOnlyByEqualPlain is topOnlyEqualPlain by one top-only dimension: of
// the finer combinations alone (an age), or of the coarser ones too (a
// region), whose other KPIs read their combinations' sums.
func topOnlyByEqualPlain(t *testing.T, e *Engine, when, by string) {
	t.Helper()
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	sums := "_fine d"
	if slices.Contains(e.snap().data.ComboDimensions, by) {
		sums = "fast_dim_combos"
	}
	top := 0
	for _, k := range fastKPIs(e) {
		for _, w := range [][2]time.Time{{day("2023-01-01"), day("2024-01-01")}, {day("2023-04-01"), day("2023-07-01")},
			{day("2023-05-01"), day("2023-06-01")}, {day("2023-02-15"), day("2023-11-20")}} {
			for _, g := range []Grain{GrainNone, GrainMonth} {
				q := k
				q.From, q.To, q.Grain, q.By = w[0], w[1], g, []string{by}
				wide, want := planReads(t, e, q, "_wide d"), false
				if k.KPI == "top20_revenue_share" || k.KPI == "customer_profitability" {
					servedEqualsPlain(t, ctx, e, q)
					q.KPI = "revenue"
					// By an age revenue reads its finer combinations' sums
					// of whole calendar periods alone; by a region its
					// combinations' per day at any window.
					whole := sums == "_fine d" || w[0].Day() == 1 && w[1].Day() == 1
					want = whole && planReads(t, e, q, sums) && (g == GrainMonth || w[1].Sub(w[0]) < 32*24*time.Hour)
				}
				if wide != want {
					t.Errorf("%s: %s v%d by %s %v grain %s: read the sums per %s %v, want %v", when, k.KPI, k.Version, by, w, g, by, wide, want)
				}
				if wide {
					top++
				}
			}
		}
	}
	// Two KPIs by month over the year, the quarter and the month, and
	// over the month at grain none.
	if top != 2*4 {
		t.Errorf("%s: %d requests read the sums per %s, want 8", when, top, by)
	}
}

// planReads tells whether the statement planned for q reads table.
func planReads(t *testing.T, e *Engine, q Query, table string) bool {
	t.Helper()
	st, err := e.plan(context.Background(), e.snap(), ownDimensions(e, q))
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	return strings.Contains(st.SQL, table)
}

// groupSumsEqualPlain checks every fast KPI by each of the groupings
// (tiers, or wide dimensions) over calendar periods of each kind and
// windows before and after the data, at grain none and month, against
// the macros; and that the sums per group (table, in the statement) are
// read exactly where the sums per finer combination serve the same
// request by an age, the sums kept per group alone (the top fifth's
// revenue, the costed customers) where revenue by age reads its sums.
func groupSumsEqualPlain(t *testing.T, e *Engine, when, table string, groupings ...string) {
	t.Helper()
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	windows := [][2]time.Time{
		{day("2023-01-01"), day("2024-01-01")},
		{day("2023-04-01"), day("2023-07-01")},
		{day("2024-12-01"), day("2025-01-01")},
		{day("2021-10-01"), day("2022-04-01")},
		{day("2031-01-01"), day("2031-07-01")},
	}
	wholeOnly := map[string]bool{"top20_revenue_share": true, "customer_profitability": true}
	summed := 0
	for _, by := range groupings {
		for _, k := range fastKPIs(e) {
			for _, w := range windows {
				for _, g := range []Grain{GrainNone, GrainMonth} {
					q := k
					q.From, q.To, q.Grain, q.By = w[0], w[1], g, []string{by}
					servedEqualsPlain(t, ctx, e, q)
					grouped := planReads(t, e, q, table)
					q.By = []string{"age"}
					if wholeOnly[k.KPI] {
						q.KPI = "revenue"
					}
					if fine := planReads(t, e, q, "_fine d"); grouped != fine {
						t.Errorf("%s: %s v%d by %s %v grain %s: read %s %v, want %v", when, k.KPI, k.Version, by, w, g, table, grouped, fine)
					}
					if grouped {
						summed++
					}
				}
			}
		}
	}
	// revenue, orders, AOV, gross profit, profit margin, on-time
	// delivery, return rate, the top-20% share and customer
	// profitability; churn, retention, active customers, purchase
	// frequency, repeat purchase, complaint rate, the four engagement
	// rates, csi, NPS, the two CSAT KPIs, the resolution rate and mean
	// resolution hours, recency, historic CLV, suspected churn, new
	// customers and their growth: at each window but the half years'
	// grain none (not a calendar period).
	if want := 30 * len(groupings) * (2*len(windows) - 2); summed != want {
		t.Errorf("%s: %d requests read %s, want %d", when, summed, table, want)
	}
}

// TestWideSumsEqualPlain checks the sums per value of a wide dimension
// (the signup date: more values than the finer combinations take) as
// TestTierSumsEqualPlain checks the tiers', after the build, after a
// customers import that adds a value (every key moves) and after an
// orders import (their tables alone rebuilt); and that requests they
// cannot serve do not read them.
func TestWideSumsEqualPlain(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	// The dimensions of the finer combinations, fewest values first, are
	// top-only (the coarser ones too).
	wantTop := []string{"segment", "region", "acquisition_channel", "age_band", "age"}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	if got, top := e.snap().data.WideDimensions, e.snap().data.WideTopOnly; !slices.Equal(got, slices.Concat([]string{"signup_date"}, wantTop)) || !slices.Equal(top, wantTop) {
		t.Fatalf("wide dimensions %v, top-only %v, want [signup_date] and %v", got, top, wantTop)
	}
	groupSumsEqualPlain(t, e, "built", "_wide d", "signup_date")
	topOnlyEqualPlain(t, e, "built")
	for _, q := range []Query{
		{KPI: "churn_rate", From: day("2023-02-15"), To: day("2023-11-20"), By: []string{"signup_date"}},
		{KPI: "churn_rate", From: day("2023-01-01"), To: day("2024-01-01"), By: []string{"signup_date", "region"}},
		{KPI: "recency_days", From: day("2023-01-01"), To: day("2024-01-01"), By: []string{"signup_date"}, Where: "frequency >= 3"},
		{KPI: "suspected_churn_rate", From: day("2023-01-01"), To: day("2024-01-01"), By: []string{"signup_date"}, Params: map[string]string{"cycle_multiplier": "3"}},
	} {
		if planReads(t, e, q, "_wide d") {
			t.Errorf("%+v read the sums per wide dimension's value", q)
		}
		servedEqualsPlain(t, ctx, e, q)
	}
	// A new customer, of a signup date before every other (every key
	// moves, and every value's position), with an order, and a second
	// wide dimension of fewer values (a postcode: the signup date is now
	// the second, its keys and values the second range): the customers'
	// import rebuilds every table, an orders import the order tables.
	dir := t.TempDir()
	customers, orders := filepath.Join(dir, "customers.parquet"), filepath.Join(dir, "orders.parquet")
	for path, copy := range map[string]string{
		customers: `COPY (SELECT *, 'P' || (hash(customer_id) %% 300) AS postcode FROM customers UNION ALL BY NAME
		 SELECT '0-first' AS customer_id, DATE '2019-03-01' AS signup_date, 'north' AS region) TO '%s' (FORMAT parquet)`,
		orders: `COPY (SELECT * FROM orders WHERE order_date < DATE '2024-07-01' UNION ALL
		 (SELECT * REPLACE ('o-first' AS order_id, '0-first' AS customer_id) FROM orders WHERE status = 'completed' ORDER BY order_id LIMIT 1))
		 TO '%s' (FORMAT parquet)`,
	} {
		if _, err := e.DB().ExecContext(ctx, fmt.Sprintf(copy, path)); err != nil {
			t.Fatal(err)
		}
	}
	mustImport(t, e, "customers", customers)
	// (The new customer's nulls add a value to some dimensions, which
	// reorders the top-only ones.)
	if got := e.snap().data.WideDimensions; len(got) < 2 || !slices.Equal(got[:2], []string{"postcode", "signup_date"}) ||
		!slices.Equal(slices.Sorted(slices.Values(got[2:])), slices.Sorted(slices.Values(wantTop))) {
		t.Fatalf("wide dimensions %v, want [postcode signup_date] and %v in some order", got, wantTop)
	}
	groupSumsEqualPlain(t, e, "a customer of a new signup date imported", "_wide d", "signup_date", "postcode")
	topOnlyEqualPlain(t, e, "a customer of a new signup date imported")
	mustImport(t, e, "orders", orders)
	groupSumsEqualPlain(t, e, "orders imported again", "_wide d", "signup_date")
	var first int64
	if err := e.DB().QueryRowContext(ctx, `SELECT count(*) FROM fast_order_calendar_wide WHERE ckey = ?`, 2*kpi.WideKeyFactor+1).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if first == 0 {
		t.Error("no order sums of the first signup date")
	}
}

// TestHistoryByComboReadsFineSums: a history-wide KPI by few-valued
// dimensions over whole calendar periods reads the state at each first
// of a month per finer combination (fast_history_ends_fine), not every
// day before each period per combination, and answers as its macro;
// over a window that is no calendar period it reads the days.
func TestHistoryByComboReadsFineSums(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	history := []string{"recency_days", "historic_clv", "suspected_churn_rate"}
	for _, name := range history {
		for _, c := range []struct {
			from, to string
			grain    Grain
			by       []string
			fine     bool
		}{
			{"2023-01-01", "2024-01-01", GrainMonth, []string{"region"}, true},
			{"2023-04-01", "2023-07-01", GrainNone, []string{"region", "segment"}, true},
			{"2023-01-01", "2024-01-01", GrainQuarter, []string{"age_band"}, true},
			{"2023-02-15", "2023-11-20", GrainMonth, []string{"region"}, false},
		} {
			q := Query{KPI: name, From: day(c.from), To: day(c.to), Grain: c.grain, By: c.by}
			if got := planReads(t, e, q, "fast_history_ends_fine"); got != c.fine {
				t.Errorf("%s %s..%s grain %s by %v: read the state per finer combination %v, want %v", name, c.from, c.to, c.grain, c.by, got, c.fine)
			}
			if !servedEqualsPlain(t, ctx, e, q) {
				t.Errorf("%s %s..%s by %v: not served by the fast path", name, c.from, c.to, c.by)
			}
		}
	}
}
