package kpi

import (
	"flag"
	"os"
	"path/filepath"
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
	for _, c := range []struct {
		name  string
		q     Query
		where *Filter
		args  int
	}{
		// Three months: 3 periods × 4 bound values.
		{"revenue_month_region", Query{KPI: "revenue", From: day("2024-01-01"), To: day("2024-04-01"), Grain: GrainMonth, By: []string{"region"}}, nil, 12},
		// The default window (12 months before August 2024), one period; the
		// tier join binds the evaluation id.
		{"churn_tier_where", Query{KPI: "churn_rate", By: []string{"tier:value_tiers"}, Where: "monetary > 1.0"},
			&Filter{SQL: "SELECT f.customer_id FROM customer_features f WHERE (f.monetary > ?)", Args: []any{1.0}}, 4 + 1 + 1},
		{"suspected_churn_param", Query{KPI: "suspected_churn_rate", From: day("2024-01-01"), To: day("2024-07-01"), Params: map[string]string{"cycle_multiplier": "2.5"}}, nil, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := Plan(cat, data(), c.q, c.where)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, st.SQL)
			if len(st.Args) != c.args {
				t.Errorf("%d bound arguments, want %d: %v", len(st.Args), c.args, st.Args)
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
	if st.Args[0] != "2023-08-01" || st.Args[len(st.Args)-1] != int64(42) {
		t.Errorf("args %v: the period label first, the evaluation id last", st.Args)
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
