package kpi

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"custkpi/fault"
	"custkpi/queries"
)

var update = flag.Bool("update", false, "rewrite the golden SQL files in testdata/")

// The planner is pure: these tests run without DuckDB, on the real catalog
// and a hand-made description of the data.

func catalog(t *testing.T) *Catalog {
	t.Helper()
	defs, err := queries.Load()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCatalog(defs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func data() *Data {
	return &Data{
		Generation: 7,
		Datasets: map[string]Dataset{
			"customers": {Generation: 3, Columns: []string{"customer_id", "signup_date", "region", "segment"}},
			"orders":    {Generation: 5, Columns: []string{"order_id", "customer_id", "order_date", "amount", "status"}},
			"contracts": {Generation: 2, Columns: []string{"contract_id", "customer_id", "start_date", "end_date", "renewed"}},
		},
		DataEnd:         day("2024-07-16"),
		CustomerColumns: []string{"customer_id", "signup_date", "region", "segment", "acquisition_channel", "age", "referred_by"},
		Evaluations:     map[string]Evaluation{"value_tiers": {ID: 42, Generation: 6}},
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".sql")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./kpi -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("%s: the SQL changed; if on purpose, go test ./kpi -update\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestPlanGoldenSQL(t *testing.T) {
	cat := catalog(t)
	// The cases whose data has combinations of few-valued dimensions.
	combos := map[string][]string{"repeat_region_links_fast": {"region"}}
	for _, c := range []struct {
		name  string
		q     Query
		where *Filter
		// The values left bound: the times and integers the planner
		// computes are literals of the SQL (withLiterals).
		bound []any
	}{
		// Three months: 3 periods, the macro joined laterally.
		{"revenue_month_region", Query{KPI: "revenue", From: day("2024-01-01"), To: day("2024-04-01"), Grain: GrainMonth, By: []string{"region"}}, nil, nil},
		// The default window (12 months before August 2024), one period: the
		// macro's call takes its bounds too; the where= value stays bound,
		// the tier join's evaluation id is written in.
		{"churn_tier_where", Query{KPI: "churn_rate", By: []string{"tier:value_tiers"}, Where: "monetary > 1.0"},
			&Filter{SQL: "SELECT f.customer_id FROM customer_features f WHERE (f.monetary > ?)", Args: []any{1.0}}, []any{1.0}},
		{"suspected_churn_param", Query{KPI: "suspected_churn_rate", From: day("2024-01-01"), To: day("2024-07-01"), Params: map[string]string{"cycle_multiplier": "2.5"}}, nil, []any{2.5}},
		// The year to date by quarter by age on the fast path: the third quarter
		// ends in July, so its window and previous one are whole months but
		// no quarter, and the window's sums come from the month rows, a
		// branch per quarter.
		{"repeat_quarter_months_fast", Query{KPI: "repeat_purchase_rate", From: day("2024-01-01"), To: day("2024-08-01"), Grain: GrainQuarter, By: []string{"age"}, Fast: true}, nil, nil},
		// Three weeks by age on the fast path (two would read the day lists):
		// fast_orders is the union of each week's days grouped per
		// customer, each branch with its period, window start, previous
		// window start and end.
		{"churn_weeks_branches_fast", Query{KPI: "churn_rate", From: day("2024-01-01"), To: day("2024-01-22"), Grain: GrainWeek, By: []string{"age"}, Fast: true}, nil, nil},
		// The same of everyone, and by region, count fast_order_links'
		// rows a week at a time (fast_activity_totals): each branch has
		// its period, then its bounds 15 times.
		{"churn_weeks_links_fast", Query{KPI: "churn_rate", From: day("2024-01-01"), To: day("2024-01-22"), Grain: GrainWeek, Fast: true}, nil, nil},
		// Beyond four weeks, the links' rows of the span paired with the
		// weeks through the day map.
		{"churn_weeks_joined_fast", Query{KPI: "churn_rate", From: day("2024-01-01"), To: day("2024-02-12"), Grain: GrainWeek, Fast: true}, nil, nil},
		// The top-20% share over a window that is no calendar period: the
		// customers' sums of its whole months from their month rows, of
		// the days before and after from their days.
		{"top20_mixed_months_fast", Query{KPI: "top20_revenue_share", From: day("2024-01-15"), To: day("2024-05-10"), Fast: true}, nil, nil},
		// One period: the signups of its window paired with the one row
		// of periods without the day map, and the form's rows with it
		// without a condition.
		{"acquired_one_period_fast", Query{KPI: "acquired_customers", From: day("2024-01-15"), To: day("2024-05-10"), Fast: true}, nil, nil},
		// (by region where region is a combinations' dimension: combos)
		{"repeat_region_links_fast", Query{KPI: "repeat_purchase_rate", From: day("2024-01-01"), To: day("2024-08-01"), Grain: GrainQuarter, By: []string{"region"}, Fast: true}, nil, nil},
		// The contracts, keyed, each end day paired with the periods'
		// days.
		// csi by age, on its per-response form: the rows counted per
		// group, attribute, weight and score before the aggregates
		// (counted); its weights parameter stays bound.
		{"csi_age_counted_fast", Query{KPI: "csi", From: day("2024-01-01"), To: day("2024-04-01"), Grain: GrainMonth, By: []string{"age"}, Fast: true}, nil, []any{"equal"}},
		{"contract_renewal_age_fast", Query{KPI: "contract_renewal_rate", From: day("2024-01-01"), To: day("2024-04-01"), Grain: GrainMonth, By: []string{"age"}, Fast: true}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := data()
			d.ComboDimensions = combos[c.name]
			d.Datasets["surveys"] = Dataset{Generation: 4, Columns: []string{"response_id", "customer_id", "survey_date", "nps_score", "csat_score", "score_price", "score_service"}}
			st, err := Plan(cat, d, c.q, c.where)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, st.SQL)
			if !slices.Equal(st.Args, c.bound) {
				t.Errorf("bound %v, want %v", st.Args, c.bound)
			}
		})
	}
}

func TestPlanWindowAndArgs(t *testing.T) {
	st, err := Plan(catalog(t), data(), Query{KPI: "churn_rate", By: []string{"tier:value_tiers"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Latest order 2024-07-15: the 12 months before August 2024.
	if st.Result.From != "2023-08-01" || st.Result.To != "2024-08-01" {
		t.Errorf("default window %s..%s", st.Result.From, st.Result.To)
	}
	// The period and the evaluation id are written into the SQL.
	if !strings.Contains(st.SQL, "VALUES (DATE '2023-08-01', TIMESTAMP '2023-08-01 00:00:00', TIMESTAMP '2024-08-01 00:00:00', TIMESTAMP '2022-07-31 00:00:00')") || !strings.Contains(st.SQL, "evaluation = 42::BIGINT") || len(st.Args) != 0 {
		t.Errorf("args %v, SQL:\n%s", st.Args, st.SQL)
	}
}

// The cache key names the generations of what the query reads, and nothing
// else: a write to data it does not read keeps its cached answer.
func TestPlanKeyFollowsGenerations(t *testing.T) {
	cat := catalog(t)
	q := Query{KPI: "revenue", From: day("2024-01-01"), To: day("2024-04-01"), By: []string{"tier:value_tiers"}}
	key := func(d *Data) string {
		st, err := Plan(cat, d, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st.Key
	}
	base := key(data())
	surveys := data()
	surveys.Datasets["surveys"] = Dataset{Generation: 8}
	surveys.Generation = 8
	if key(surveys) != base {
		t.Error("a surveys import changed the key of a revenue query")
	}
	orders := data()
	orders.Datasets["orders"] = Dataset{Generation: 8, Columns: orders.Datasets["orders"].Columns}
	if key(orders) == base {
		t.Error("an orders import kept the key of a revenue query")
	}
	tiers := data()
	tiers.Evaluations["value_tiers"] = Evaluation{ID: 43, Generation: 8}
	if key(tiers) == base {
		t.Error("a new evaluation kept the key of a query by its tiers")
	}
}

func TestPlanRefusals(t *testing.T) {
	cat := catalog(t)
	for _, c := range []struct {
		q    Query
		code fault.Code
	}{
		{Query{KPI: "nope"}, fault.CodeUnknownKPI},
		{Query{KPI: "revenue", Version: 9}, fault.CodeUnknownVersion},
		{Query{KPI: "csat_avg"}, fault.CodeMissingDataset},
		{Query{KPI: "revenue", By: []string{"planet"}}, fault.CodeUnknownDimension},
		{Query{KPI: "revenue", By: []string{"tier:abc"}}, fault.CodeUnknownDimension},
		{Query{KPI: "revenue", Grain: GrainDay, From: day("1990-01-01"), To: day("2024-01-01")}, fault.CodeInvalidParameter},
		{Query{KPI: "revenue", Params: map[string]string{"k": "1"}}, fault.CodeInvalidParameter},
		{Query{KPI: "suspected_churn_rate", Params: map[string]string{"cycle_multiplier": "x"}}, fault.CodeInvalidParameter},
		// Issue 9: parameters must be finite.
		{Query{KPI: "suspected_churn_rate", Params: map[string]string{"cycle_multiplier": "NaN"}}, fault.CodeInvalidParameter},
		{Query{KPI: "suspected_churn_rate", Params: map[string]string{"cycle_multiplier": "-Inf"}}, fault.CodeInvalidParameter},
		{Query{KPI: "churn_rate", Version: 2, Params: map[string]string{"inactive_days": "NaN"}}, fault.CodeInvalidParameter},
	} {
		_, err := Plan(cat, data(), c.q, nil)
		if fault.ErrorCode(err) != c.code {
			t.Errorf("%+v: %v, want %s", c.q, err, c.code)
		}
	}
}

// The previous window of a window asked without a grain (KPIS.md): the
// calendar period before a window that is exactly one calendar month,
// quarter or year; otherwise the same length just before.
func TestPreviousWindow(t *testing.T) {
	for _, c := range []struct{ from, to, prev string }{
		{"2024-03-01", "2024-04-01", "2024-02-01"}, // March compares with February's 29 days, not 31
		{"2024-02-01", "2024-03-01", "2024-01-01"}, // February with January's 31, not 29
		{"2024-01-01", "2024-04-01", "2023-10-01"}, // Q1 with Q4 (92 days), not the 91 before
		{"2024-04-01", "2024-07-01", "2024-01-01"}, // Q2 (91 days) with Q1 (91)
		{"2024-01-01", "2025-01-01", "2023-01-01"}, // 2024 (366 days) with 2023
		{"2025-01-01", "2026-01-01", "2024-01-01"}, // 2025 with leap 2024
		// Not a calendar period: the same length just before.
		{"2024-02-01", "2024-05-01", "2023-11-03"}, // three months, not a quarter: 90 days
		{"2024-03-02", "2024-04-01", "2024-02-01"}, // 30 days
		{"2024-03-01", "2024-03-31", "2024-01-31"}, // 30 days, one short of March
		{"2024-01-01", "2024-01-08", "2023-12-25"}, // a week
		{"2024-01-01", "2024-03-01", "2023-11-02"}, // two months: 60 days
		{"2024-07-01", "2025-07-01", "2023-07-02"}, // twelve months, not a calendar year: 365 days (the year before holds Feb 29)
		{"2023-08-01", "2024-08-01", "2022-07-31"}, // the default window's shape, across a leap day: 366 days
	} {
		got := Date(PreviousStart(day(c.from), day(c.to)))
		if got != c.prev {
			t.Errorf("previous window of %s..%s starts %s, want %s", c.from, c.to, got, c.prev)
		}
		ps, err := Periods(day(c.from), day(c.to), GrainNone)
		if err != nil || len(ps) != 1 || Date(ps[0].PrevStart) != c.prev {
			t.Errorf("Periods(%s..%s, none) = %+v, %v", c.from, c.to, ps, err)
		}
	}
}

// A calendar window and the same period as a grain row bind the same
// window and previous window, so every KPI computes the same number for
// them; a comparison's previous row is the previous calendar period with
// its own previous calendar period.
func TestCalendarWindowMatchesGrainRow(t *testing.T) {
	for _, c := range []struct {
		from, to string
		g        Grain
	}{
		{"2024-03-01", "2024-04-01", GrainMonth},
		{"2024-01-01", "2024-04-01", GrainQuarter},
		{"2024-10-01", "2025-01-01", GrainQuarter},
		{"2024-01-01", "2025-01-01", GrainYear},
	} {
		whole, _ := Periods(day(c.from), day(c.to), GrainNone)
		rows, _ := Periods(day(c.from), day(c.to), c.g)
		if len(rows) != 1 || whole[0].Start != rows[0].Start || whole[0].End != rows[0].End || whole[0].PrevStart != rows[0].PrevStart {
			t.Errorf("%s..%s: window %+v, %s row %+v", c.from, c.to, whole, c.g, rows)
		}
	}
	st, err := Plan(catalog(t), data(), Query{KPI: "churn_rate", From: day("2024-01-01"), To: day("2024-04-01"), Compare: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// (label, start, end, previous start) of Q4 2023, then of Q1 2024.
	want := "VALUES (DATE '2023-10-01', TIMESTAMP '2023-10-01 00:00:00', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2023-07-01 00:00:00'), " +
		"(DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-04-01 00:00:00', TIMESTAMP '2023-10-01 00:00:00'))"
	if !strings.Contains(st.SQL, want) {
		t.Errorf("periods not %s in\n%s", want, st.SQL)
	}
}

// A form reading a source of customers' days must take them (rows: days):
// a count of its customers would count their days.
func TestCatalogRefusesDayRowsUntaken(t *testing.T) {
	form := &queries.Fast{Sources: []string{"fast_events"}, File: "engagement/x.v1.fast.sql", Body: "SELECT 1"}
	def := &queries.Definition{Name: "x", Version: 1, Fast: []*queries.Fast{form}}
	if _, err := NewCatalog([]*queries.Definition{def}); err == nil || !strings.Contains(err.Error(), "engagement/x.v1.fast.sql: source fast_events gives a row per customer and day") {
		t.Fatalf("NewCatalog: %v, want the form refused", err)
	}
	form.DayRows = true
	if _, err := NewCatalog([]*queries.Definition{def}); err != nil {
		t.Fatalf("NewCatalog with rows: days: %v", err)
	}
}

// TestBranched checks which periods read a source's rows as a union of
// one grouping per period.
func TestBranched(t *testing.T) {
	for _, c := range []struct {
		from, to string
		grain    Grain
		want     bool
	}{
		{"2024-03-01", "2024-03-02", GrainNone, true}, // one period, a day long
		{"2024-01-01", "2024-12-31", GrainWeek, true}, // 53 weeks, the last a day long
		{"2024-01-01", "2024-08-01", GrainQuarter, true},
		{"2024-01-01", "2024-03-01", GrainDay, false},  // days: a row per customer already
		{"2022-01-03", "2024-01-01", GrainWeek, false}, // 104 periods > maxPeriodBranches
	} {
		ps, err := Periods(day(c.from), day(c.to), c.grain)
		if err != nil {
			t.Fatal(err)
		}
		if got := branched(ps); got != c.want {
			t.Errorf("%s..%s by %s (%d periods): branched %v, want %v", c.from, c.to, c.grain, len(ps), got, c.want)
		}
	}
}

// TestDayWindows checks which periods' customer rows are their day rows.
func TestDayWindows(t *testing.T) {
	for _, c := range []struct {
		from, to string
		grain    Grain
		want     bool
	}{
		{"2024-03-01", "2024-04-01", GrainDay, true},
		{"2024-03-01", "2024-03-02", GrainNone, true},
		{"2024-03-01", "2024-03-03", GrainNone, false},
		{"2024-01-01", "2024-12-31", GrainWeek, false}, // the last week is a day long, the others are not
	} {
		ps, err := Periods(day(c.from), day(c.to), c.grain)
		if err != nil {
			t.Fatal(err)
		}
		if got := dayWindows(ps); got != c.want {
			t.Errorf("%s..%s by %s: dayWindows %v, want %v", c.from, c.to, c.grain, got, c.want)
		}
	}
}

// TestFastSourcesKnown: the sources a fast form may name (queries'
// list, which the queries package checks forms against) are the planner's,
// each of the day tables or of the calendar rollups, and the planner has
// none that a form could not name.
func TestFastSourcesKnown(t *testing.T) {
	for _, s := range queries.FastSources {
		_, day := sources[s]
		_, cal := calendarSources[s]
		_, fine := fineSources[s]
		if !day && !cal && !fine {
			t.Errorf("%s: named by queries.FastSources, unknown to the planner", s)
		}
	}
	for s := range sources {
		if !slices.Contains(queries.FastSources, s) {
			t.Errorf("%s: a planner source no form may name (not in queries.FastSources)", s)
		}
	}
	for s := range calendarSources {
		if !slices.Contains(queries.FastSources, s) {
			t.Errorf("%s: a calendar source no form may name (not in queries.FastSources)", s)
		}
	}
	for s := range fineSources {
		if !slices.Contains(queries.FastSources, s) {
			t.Errorf("%s: a source of the finer combinations no form may name (not in queries.FastSources)", s)
		}
	}
}

// The customers' keys carry the build side's hint where the rows are of
// one period, and only there.
func TestBuildSideHint(t *testing.T) {
	cat := catalog(t)
	for _, c := range []struct {
		name string
		q    Query
		want bool
	}{
		{"one period by age", Query{KPI: "repeat_purchase_rate", From: day("2024-02-15"), To: day("2024-06-20"), By: []string{"age"}, Fast: true}, true},
		{"weeks by age", Query{KPI: "repeat_purchase_rate", From: day("2024-02-05"), To: day("2024-03-04"), Grain: GrainWeek, By: []string{"age"}, Fast: true}, false},
		{"plain by age", Query{KPI: "repeat_purchase_rate", From: day("2024-02-15"), To: day("2024-06-20"), By: []string{"age"}}, false},
	} {
		st, err := Plan(cat, data(), c.q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(st.SQL, "FROM fast_customer_keys k WHERE k.ckey >= 0) d"); got != c.want {
			t.Errorf("%s (path %s): hint %v, want %v", c.name, st.Path, got, c.want)
		}
	}
}

// The catalog refuses the fast forms that could not answer as their
// version: one reading a customer's days without taking them, one whose
// rows are counted for a version with extra columns of its own.
func TestCatalogRefusesMismatchedForms(t *testing.T) {
	for _, c := range []struct {
		name string
		def  queries.Definition
		want string
	}{
		{"days", queries.Definition{Name: "x", Fast: []*queries.Fast{{File: "x.v1.fast.sql", Sources: []string{"fast_events"}}}}, "rows: days"},
		{"counted", queries.Definition{Name: "x", Extra: []queries.Column{{Name: "e", Aggregate: "count(*)"}},
			Fast: []*queries.Fast{{File: "x.v1.fast.sql", Sources: []string{"fast_scores"}, Counted: []string{"attribute"}}}}, "counted"},
	} {
		if _, err := NewCatalog([]*queries.Definition{&c.def}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.want)
		}
	}
}

// rollupSetup is the catalog and data of the rollup tests (the events
// loaded too), and their windows: calendar 2024 and a span of no
// calendar period.
func rollupSetup(t *testing.T) (cat *Catalog, d *Data, year, other [2]time.Time) {
	d = data()
	d.Datasets["events"] = Dataset{Generation: 4, Columns: []string{"event_id", "customer_id", "event_at", "channel", "event_type"}}
	return catalog(t), d, [2]time.Time{day("2024-01-01"), day("2025-01-01")}, [2]time.Time{day("2024-02-15"), day("2024-11-20")}
}

// TestFineRollup: a request of whole calendar periods grouped by
// dimensions of the finer combinations alone reads the sums per period
// and finer combination where its forms have them, and only then.
func TestFineRollup(t *testing.T) {
	cat, d, year, other := rollupSetup(t)
	d.ComboDimensions, d.FineDimensions = []string{"region"}, []string{"region", "age"}
	for _, c := range []struct {
		kpi    string
		window [2]time.Time
		grain  Grain
		by     []string
		where  *Filter
		params map[string]string
		table  string // the table read, "" for none of the finer rollups
	}{
		{"email_open_rate", year, GrainMonth, []string{"age"}, nil, nil, "fast_event_calendar_fine"},
		{"email_open_rate", year, GrainNone, []string{"region", "age"}, nil, nil, "fast_event_calendar_fine"},
		{"churn_rate", year, GrainQuarter, []string{"age"}, nil, nil, "fast_calendar_activity_fine"},
		{"recency_days", year, GrainMonth, []string{"age"}, nil, nil, "fast_history_ends_fine"},
		{"suspected_churn_rate", year, GrainNone, []string{"age"}, nil, nil, "fast_history_ends_fine"},
		// Built at the default multiplier only.
		{"suspected_churn_rate", year, GrainNone, []string{"age"}, nil, map[string]string{"cycle_multiplier": "3"}, ""},
		// A window of no calendar period, a filter, a dimension of no
		// finer combination, or of the coarser ones alone.
		{"email_open_rate", other, GrainNone, []string{"age"}, nil, nil, ""},
		{"email_open_rate", year, GrainNone, []string{"age"}, &Filter{SQL: "SELECT customer_id FROM customers"}, nil, ""},
		{"email_open_rate", year, GrainNone, []string{"signup_date"}, nil, nil, ""},
		{"email_open_rate", year, GrainNone, []string{"region"}, nil, nil, ""},
		{"recency_days", year, GrainNone, nil, nil, nil, ""},
	} {
		q := Query{KPI: c.kpi, From: c.window[0], To: c.window[1], Grain: c.grain, By: c.by, Params: c.params, Fast: true}
		st, err := Plan(cat, d, q, c.where)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		fine := strings.Contains(st.SQL, "_fine d") || strings.Contains(st.SQL, "_fine\n")
		if got := strings.Contains(st.SQL, c.table); c.table != "" && (!got || !strings.Contains(st.SQL, "fast_dim_fine")) {
			t.Errorf("%s by %v over %v, grain %s: does not read %s by fast_dim_fine's keys:\n%s", c.kpi, c.by, c.window, c.grain, c.table, st.SQL)
		} else if c.table == "" && fine {
			t.Errorf("%s by %v over %v, grain %s, where %v, params %v: reads a finer rollup:\n%s", c.kpi, c.by, c.window, c.grain, c.where, c.params, st.SQL)
		}
		if st.Path != PathFast {
			t.Errorf("%s by %v: served by %s", c.kpi, c.by, st.Path)
		}
	}
}

// TestWideRollup checks that a request by one wide dimension alone over
// whole calendar periods reads the sums per value of that dimension (its
// keys' range bound, its values read from its own rows of
// fast_dim_wide), by a top-only one only where the sums per finer
// combination cannot serve, and that no other request does.
func TestWideRollup(t *testing.T) {
	cat, d, year, other := rollupSetup(t)
	d.FineDimensions = []string{"region", "acquisition_channel"}
	d.WideDimensions, d.WideTopOnly = []string{"segment", "signup_date", "acquisition_channel"}, []string{"acquisition_channel"}
	for _, c := range []struct {
		kpi    string
		window [2]time.Time
		grain  Grain
		by     []string
		where  *Filter
		table  string // the table read, "" for no sums per wide dimension's value
		dim    int64  // the dimension's number
	}{
		{"email_open_rate", year, GrainMonth, []string{"signup_date"}, nil, "fast_event_calendar_wide", 2},
		{"top20_revenue_share", year, GrainNone, []string{"signup_date"}, nil, "fast_calendar_top_wide", 2},
		{"new_customers", year, GrainQuarter, []string{"signup_date"}, nil, "fast_history_ends_wide", 2},
		{"top20_revenue_share", year, GrainMonth, []string{"acquisition_channel"}, nil, "fast_calendar_top_wide", 3},
		{"top20_revenue_share", [2]time.Time{day("2024-05-01"), day("2024-06-01")}, GrainNone, []string{"acquisition_channel"}, nil, "fast_calendar_top_wide", 3},
		// A top-only dimension's sums are of calendar months alone.
		{"top20_revenue_share", year, GrainQuarter, []string{"acquisition_channel"}, nil, "", 0},
		{"revenue", year, GrainMonth, []string{"acquisition_channel"}, nil, "", 0},
		{"top20_revenue_share", other, GrainNone, []string{"acquisition_channel"}, nil, "", 0},
		{"email_open_rate", other, GrainNone, []string{"signup_date"}, nil, "", 0},
		{"email_open_rate", year, GrainNone, []string{"signup_date", "region"}, nil, "", 0},
		{"email_open_rate", year, GrainNone, []string{"signup_date"}, &Filter{SQL: "SELECT customer_id FROM customers"}, "", 0},
		{"email_open_rate", year, GrainNone, []string{"region"}, nil, "", 0},
	} {
		q := Query{KPI: c.kpi, From: c.window[0], To: c.window[1], Grain: c.grain, By: c.by, Fast: true}
		st, err := Plan(cat, d, q, c.where)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		lookup := fmt.Sprintf("FROM fast_dim_wide k WHERE k.ckey // 65536 = %d", c.dim)
		switch {
		case c.table == "" && strings.Contains(st.SQL, "_wide d"):
			t.Errorf("%s by %v over %v, grain %s, where %v: reads sums per value:\n%s", c.kpi, c.by, c.window, c.grain, c.where, st.SQL)
		case c.table != "" && (!strings.Contains(st.SQL, c.table+" d") || !strings.Contains(st.SQL, lookup)):
			t.Errorf("%s by %v over %v, grain %s: does not read %s with dimension %d's values:\n%s", c.kpi, c.by, c.window, c.grain, c.table, c.dim, st.SQL)
		case c.table != "" && !strings.Contains(st.SQL, fmt.Sprintf("AND d.ckey >= %d::BIGINT AND d.ckey < %d::BIGINT", c.dim*WideKeyFactor, (c.dim+1)*WideKeyFactor)):
			t.Errorf("%s by %v: not dimension %d's keys:\n%s", c.kpi, c.by, c.dim, st.SQL)
		}
		if st.Path != PathFast {
			t.Errorf("%s by %v: served by %s", c.kpi, c.by, st.Path)
		}
	}
}

// TestActivityLinksPeriods: churn of everyone over whole weeks counts
// fast_order_links' rows a week at a time up to four weeks, and beyond
// pairs the rows of the span with the periods through the day map; by
// day (one-day windows) it reads neither.
func TestActivityLinksPeriods(t *testing.T) {
	cat, d := catalog(t), data()
	const joined = "CAST(p.prev_start AS DATE) AS ps"
	for _, c := range []struct {
		to     string
		grain  Grain
		joined bool
	}{
		{"2024-01-29", GrainWeek, false},
		{"2024-02-05", GrainWeek, true},
		{"2024-01-03", GrainDay, false},
		{"2024-07-01", GrainNone, false},
	} {
		st, err := Plan(cat, d, Query{KPI: "churn_rate", From: day("2024-01-01"), To: day(c.to), Grain: c.grain, Fast: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if links := strings.Contains(st.SQL, "FROM fast_order_links d"); links != (c.grain != GrainDay) {
			t.Errorf("to %s by %s: reads fast_order_links %t", c.to, c.grain, links)
		}
		if got := strings.Contains(st.SQL, joined); got != c.joined {
			t.Errorf("to %s by %s: pairs the links with the day map %t, want %t", c.to, c.grain, got, c.joined)
		}
	}
}

// TestActivityLean: beyond four periods, fast_activity_totals pairs the
// links with the previous windows' days only for the KPIs that read the
// previous windows' counts, and joins the complainers only for the one
// that reads them.
func TestActivityLean(t *testing.T) {
	cat, d := catalog(t), data()
	d.Datasets["tickets"] = Dataset{Generation: 4, Columns: []string{"ticket_id", "customer_id", "opened_at", "category"}}
	for _, c := range []struct {
		kpi                   string
		previous, complainers bool
	}{
		{"churn_rate", true, false},
		{"retention_rate", true, false},
		{"repeat_purchase_rate", false, false},
		{"active_customers", false, false},
		{"purchase_frequency", false, false},
		{"complaint_rate", false, true},
	} {
		st, err := Plan(cat, d, Query{KPI: c.kpi, From: day("2024-01-01"), To: day("2024-02-12"), Grain: GrainWeek, Fast: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(st.SQL, "range(min(prev_start), max(win_end)"); got != c.previous {
			t.Errorf("%s: pairs the links with the previous windows' days %t, want %t", c.kpi, got, c.previous)
		}
		if got := strings.Contains(st.SQL, "FROM fast_ticket_rows t"); got != c.complainers {
			t.Errorf("%s: joins the complainers %t, want %t", c.kpi, got, c.complainers)
		}
	}
}

// TestResponseHoursOneScan: by a few-valued dimension, of several days
// or weeks, the first-response hours are read in one scan of the span,
// each ticket's period its day truncated to the grain, neither a scan per
// period nor a join to the day map; of months, a scan per month with its
// label bound, as of a single period.
func TestResponseHoursOneScan(t *testing.T) {
	cat, d := catalog(t), data()
	d.Datasets["tickets"] = Dataset{Generation: 4, Columns: []string{"ticket_id", "customer_id", "opened_at", "first_response_at"}}
	d.ComboDimensions = []string{"region"}
	for _, c := range []struct {
		q    Query
		want []string
	}{
		{Query{From: day("2024-01-03"), To: day("2024-02-01"), Grain: GrainWeek, By: []string{"region"}},
			[]string{"SELECT CAST(date_trunc('week', d.day) AS DATE) AS period, d.ckey, d.hours\n    FROM fast_ticket_hours_by d\n    WHERE d.day >= DATE '2024-01-03' AND d.day < DATE '2024-02-01'"}},
		{Query{From: day("2024-01-03"), To: day("2024-01-10"), Grain: GrainDay, By: []string{"region"}},
			[]string{"SELECT d.day AS period, d.ckey, d.hours\n    FROM fast_ticket_hours_by d\n    WHERE d.day >= DATE '2024-01-03' AND d.day < DATE '2024-01-10'"}},
		{Query{From: day("2024-01-15"), To: day("2024-04-01"), Grain: GrainMonth, By: []string{"region"}}, []string{
			"SELECT DATE '2024-01-01' AS period, d.ckey AS ckey, d.hours\n    FROM fast_ticket_hours_by d\n    WHERE d.day >= DATE '2024-01-15' AND d.day < DATE '2024-02-01'",
			"SELECT DATE '2024-02-01' AS period, d.ckey AS ckey, d.hours\n    FROM fast_ticket_hours_by d\n    WHERE d.day >= DATE '2024-02-01' AND d.day < DATE '2024-03-01'",
			"SELECT DATE '2024-03-01' AS period, d.ckey AS ckey, d.hours\n    FROM fast_ticket_hours_by d\n    WHERE d.day >= DATE '2024-03-01' AND d.day < DATE '2024-04-01'"}},
		{Query{From: day("2024-01-15"), To: day("2024-02-01"), By: []string{"region"}},
			[]string{"SELECT DATE '2024-01-15' AS period, d.ckey AS ckey, d.hours\n    FROM fast_ticket_hours_by d\n    WHERE d.day >= DATE '2024-01-15' AND d.day < DATE '2024-02-01'"}},
	} {
		c.q.KPI, c.q.Fast = "first_response_hours_p50", true
		st, err := Plan(cat, d, c.q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(st.SQL, "FROM fast_ticket_hours_by") != len(c.want) || strings.Contains(st.SQL, "p ON d.day = p.day") {
			t.Errorf("%s by %s: %d scans of the hours, want %d, none joined to the day map:\n%s", c.q.Grain, c.q.By, strings.Count(st.SQL, "FROM fast_ticket_hours_by"), len(c.want), st.SQL)
		}
		for _, w := range c.want {
			if !strings.Contains(st.SQL, w) {
				t.Errorf("%s by %s: no scan\n%s\nin:\n%s", c.q.Grain, c.q.By, w, st.SQL)
			}
		}
	}
}

// TestResponseQuantileForms: of everyone, the first-response quantiles
// of whole calendar periods are read as computed at import; of windows
// of 60 days or more, from the hours' counts per bucket and the bucketed
// hours, each in one scan of the span (the counts with each row's period
// its day truncated to the grain or, of one period, that period's, never
// joined to the day map; the hours with their day); of shorter windows,
// or by a dimension, from every ticket's hours.
func TestResponseQuantileForms(t *testing.T) {
	cat, d := catalog(t), data()
	d.Datasets["tickets"] = Dataset{Generation: 4, Columns: []string{"ticket_id", "customer_id", "opened_at", "first_response_at"}}
	d.ComboDimensions = []string{"region"}
	const (
		quantiles = "fast_ticket_hour_quantiles"
		buckets   = "fast_ticket_hour_buckets"
		hours     = "fast_ticket_hours_by"
	)
	for _, c := range []struct {
		from, to string
		grain    Grain
		by       []string
		reads    string
		period   string // of the buckets' rows
	}{
		{"2023-01-01", "2024-01-01", GrainQuarter, nil, quantiles, ""},
		{"2023-01-01", "2024-01-01", GrainNone, nil, quantiles, ""},
		{"2024-03-01", "2024-04-01", GrainNone, nil, quantiles, ""},
		{"2022-07-01", "2024-07-01", GrainYear, nil, buckets, "CAST(date_trunc('year', d.day) AS DATE) AS period"},
		{"2023-07-15", "2024-03-10", GrainQuarter, nil, buckets, "CAST(date_trunc('quarter', d.day) AS DATE) AS period"},
		{"2023-07-15", "2024-03-10", GrainNone, nil, buckets, "p.period"},
		{"2023-01-01", "2023-03-15", GrainNone, nil, buckets, "p.period"},
		{"2023-01-01", "2023-02-15", GrainNone, nil, hours, ""},
		{"2024-01-15", "2024-04-01", GrainMonth, nil, hours, ""},
		{"2024-01-03", "2024-02-01", GrainWeek, nil, hours, ""},
		{"2023-01-01", "2024-01-01", GrainQuarter, []string{"region"}, hours, ""},
	} {
		for _, kpi := range []string{"first_response_hours_p50", "first_response_hours_p90"} {
			q := Query{KPI: kpi, From: day(c.from), To: day(c.to), Grain: c.grain, By: c.by, Fast: true}
			st, err := Plan(cat, d, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%s %s..%s %s by %v", kpi, c.from, c.to, c.grain, c.by)
			for _, table := range []string{quantiles, buckets, hours} {
				if got := strings.Contains(st.SQL, "FROM "+table+" d"); got != (table == c.reads) {
					t.Errorf("%s: reads %s %t, want %t:\n%s", name, table, got, table == c.reads, st.SQL)
				}
			}
			if c.reads != buckets {
				continue
			}
			for table, scan := range map[string]string{
				buckets:                      "SELECT " + c.period + ", NULL::INTEGER AS ckey, d.bucket, d.n\n    FROM fast_ticket_hour_buckets d",
				"fast_ticket_hours_bucketed": "SELECT d.day, NULL::INTEGER AS ckey, d.bucket, d.hours\n    FROM fast_ticket_hours_bucketed d",
			} {
				if n := strings.Count(st.SQL, "FROM "+table+" d"); n != 1 || !strings.Contains(st.SQL, scan) {
					t.Errorf("%s: %d scans of %s, want 1 as %q:\n%s", name, n, table, scan, st.SQL)
				}
			}
			if strings.Contains(st.SQL, "p ON d.day = p.day") {
				t.Errorf("%s: joined to the day map:\n%s", name, st.SQL)
			}
		}
	}
}

// TestLabelGrain: the grain whose truncation of a period's days is its
// label, of Periods' periods of each grain, clipped at either end.
func TestLabelGrain(t *testing.T) {
	for _, c := range []struct {
		from, to string
		g, want  Grain
	}{
		{"2024-01-03", "2024-02-15", GrainDay, GrainDay},
		{"2024-01-03", "2024-02-15", GrainWeek, GrainWeek},
		{"2024-01-01", "2024-04-01", GrainWeek, GrainWeek},
		{"2024-01-15", "2024-04-01", GrainMonth, GrainMonth},
		{"2023-12-01", "2024-04-01", GrainQuarter, GrainQuarter},
		{"2023-07-15", "2025-02-01", GrainYear, GrainYear},
		{"2024-04-29", "2024-05-06", GrainMonth, GrainMonth},
		{"2024-01-01", "2024-01-08", GrainWeek, GrainNone}, // one period
		{"2024-01-01", "2024-01-02", GrainNone, GrainNone},
	} {
		ps, err := Periods(day(c.from), day(c.to), c.g)
		if err != nil {
			t.Fatal(err)
		}
		if got := labelGrain(ps); got != c.want {
			t.Errorf("%s..%s by %s: labelGrain %q, want %q", c.from, c.to, c.g, got, c.want)
		}
	}
	// Periods that are no grain's: a week labelled with its Tuesday.
	ps := []Period{{Label: day("2024-01-02"), Start: day("2024-01-02"), End: day("2024-01-09")}, {Label: day("2024-01-09"), Start: day("2024-01-09"), End: day("2024-01-16")}}
	if got := labelGrain(ps); got != GrainNone {
		t.Errorf("weeks from a Tuesday: labelGrain %q, want none", got)
	}
}

// TestOnePeriod: a single period's window rows pair with the one row of
// periods, wherever a source joins a day column to the day map, and a
// source without that join is left as it is.
func TestOnePeriod(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{windowRows("fast_survey_days"), "FROM fast_survey_days d CROSS JOIN periods p\n    WHERE d.day >= ?::DATE AND d.day < ?::DATE"},
		{"SELECT 1 FROM fast_customer_keys k " + periodDayJoin("k.dims.signup_date") + " WHERE true", "SELECT 1 FROM fast_customer_keys k CROSS JOIN periods p WHERE true"},
		{historyTotalsSQL, historyTotalsSQL},
	} {
		if got := onePeriod(c.sql); got != c.want {
			t.Errorf("onePeriod(%q) = %q, want %q", c.sql, got, c.want)
		}
	}
}

// TestCostedTotals: customer profitability of everyone counts each
// period's costed customers as it reads them (a row per period: by week
// from the days, over a window holding whole months from their month
// rows too), or reads them from fast_calendar_top for whole calendar
// periods; by region it sums each customer's orders (fast_window).
func TestCostedTotals(t *testing.T) {
	cat, d := catalog(t), data()
	orders := d.Datasets["orders"]
	orders.Columns = append(slices.Clone(orders.Columns), "cost")
	d.Datasets["orders"] = orders
	for _, c := range []struct {
		from, to string
		grain    Grain
		by       []string
		want     []string
		counts   int
	}{
		{"2024-01-01", "2024-02-12", GrainWeek, nil, []string{"fast_costed_totals AS", "FROM fast_order_days d\n    WHERE d.day >= DATE '2024-02-05' AND d.day < DATE '2024-02-12' AND d.costed > 0"}, 6},
		{"2023-07-15", "2024-03-10", GrainNone, nil, []string{"fast_costed_totals AS", "FROM fast_calendar WHERE months = 1", "WHERE d.costed > 0"}, 1},
		{"2024-01-01", "2024-07-01", GrainMonth, nil, []string{"fast_costed_totals AS", "FROM fast_calendar_top d JOIN periods p"}, 0},
		{"2024-01-01", "2024-02-12", GrainWeek, []string{"region"}, []string{"fast_window AS"}, 0},
	} {
		st, err := Plan(cat, d, Query{KPI: "customer_profitability", From: day(c.from), To: day(c.to), Grain: c.grain, By: c.by, Fast: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(st.SQL, w) {
				t.Errorf("%s..%s by %s %v: lacks %q:\n%s", c.from, c.to, c.grain, c.by, w, st.SQL)
			}
		}
		if n := strings.Count(st.SQL, "count(DISTINCT d.ckey)"); n != c.counts {
			t.Errorf("%s..%s by %s %v: %d periods counted, want %d:\n%s", c.from, c.to, c.grain, c.by, n, c.counts, st.SQL)
		}
	}
}
