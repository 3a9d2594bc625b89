package rules

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// row returns a customer with every standard feature null except those set.
func row(set map[string]any) map[string]any {
	r := map[string]any{}
	for _, f := range StandardFeatures() {
		r[f.Name] = nil
	}
	for k, v := range set {
		r[k] = v
	}
	return r
}

type tierCase struct {
	name string
	row  map[string]any
	want Assignment
}

func runTiers(t *testing.T, builtin string, env EvalEnv, cases []tierCase) {
	t.Helper()
	doc, ok := BuiltinDocument(builtin)
	if !ok {
		t.Fatalf("no built-in %s", builtin)
	}
	rs, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(rs, mustSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]map[string]any, len(cases))
	for i, tc := range cases {
		rows[i] = tc.row
	}
	got, err := c.EvalGo(context.Background(), rows, env)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		if !reflect.DeepEqual(got[i], tc.want) {
			t.Errorf("%s %s: got %+v, want %+v", builtin, tc.name, got[i], tc.want)
		}
	}
}

func scores(r, f, m int64) map[string]any {
	return row(map[string]any{"r_score": r, "f_score": f, "m_score": m})
}

func TestBuiltinRFMSegments(t *testing.T) {
	runTiers(t, "rfm_segments", EvalEnv{}, []tierCase{
		{"best on all three", scores(5, 5, 5), Assignment{Tier: "champions", Rule: 1}},
		{"frequent, fairly recent", scores(3, 5, 5), Assignment{Tier: "loyal", Rule: 2}},
		{"one recent order", scores(5, 1, 2), Assignment{Tier: "new", Rule: 3}},
		{"recent, a few orders", scores(4, 3, 1), Assignment{Tier: "potential_loyalist", Rule: 4}},
		{"was the best, gone", scores(1, 5, 4), Assignment{Tier: "cant_lose", Rule: 5}},
		{"frequent long ago", scores(2, 3, 1), Assignment{Tier: "at_risk", Rule: 6}},
		{"middling, one order", scores(3, 1, 3), Assignment{Tier: "hibernating", Rule: 7}},
		{"long ago, few orders", scores(1, 2, 5), Assignment{Tier: "lost", Rule: 8}},
		{"no completed order", row(nil), Assignment{Tier: "no_purchase", Rule: 0, NullSkips: []int{1, 2, 3, 4, 5, 6, 7, 8}}},
		// r = 2 decides rules 1-4 (false) on its own; 5 and 6 need f.
		{"recency score only", row(map[string]any{"r_score": int64(2)}), Assignment{Tier: "hibernating", Rule: 7, NullSkips: []int{5, 6}}},
	})
}

func TestBuiltinABC(t *testing.T) {
	rank := func(v any) map[string]any { return row(map[string]any{"monetary_rank_pct": v}) }
	runTiers(t, "abc", EvalEnv{}, []tierCase{
		{"top spender", rank(0.0), Assignment{Tier: "A", Rule: 1}},
		{"just outside the top 5%", rank(0.05), Assignment{Tier: "B", Rule: 2}},
		{"inside the top 20%", rank(0.1999), Assignment{Tier: "B", Rule: 2}},
		{"just outside the top 20%", rank(0.2), Assignment{Tier: "C", Rule: 0}},
		{"no order", rank(nil), Assignment{Tier: "C", Rule: 0, NullSkips: []int{1, 2}}},
		// NaN orders as nothing: both comparisons are false, not unknown.
		{"NaN rank", rank(math.NaN()), Assignment{Tier: "C", Rule: 0}},
	})
}

func TestBuiltinLifecycle(t *testing.T) {
	c := func(freq, recency, churn any) map[string]any {
		return row(map[string]any{"frequency": freq, "recency_days": recency, "suspected_churn": churn})
	}
	runTiers(t, "lifecycle", EvalEnv{}, []tierCase{
		{"signed up only", c(int64(0), nil, nil), Assignment{Tier: "potential", Rule: 1}},
		{"a year without orders", c(int64(3), int64(400), nil), Assignment{Tier: "lapsed", Rule: 2}},
		{"overdue", c(int64(4), int64(100), true), Assignment{Tier: "lapsed", Rule: 2}},
		// recency 30 is not > 365 and the churn flag is null: rule 2 is
		// unknown and skipped.
		{"one order", c(int64(1), int64(30), nil), Assignment{Tier: "first_purchase", Rule: 3, NullSkips: []int{2}}},
		{"many orders", c(int64(6), int64(10), false), Assignment{Tier: "loyal", Rule: 4}},
		{"a few orders", c(int64(3), int64(100), false), Assignment{Tier: "repeat", Rule: 0}},
	})
}

func TestBuiltinVolumeLoyalty(t *testing.T) {
	c := func(m float64, freq int64, churn any) map[string]any {
		return row(map[string]any{"monetary": m, "frequency": freq, "suspected_churn": churn})
	}
	env := EvalEnv{Percentiles: map[PercentileRef]float64{{"monetary", 0.8}: 1000}}
	runTiers(t, "volume_loyalty", env, []tierCase{
		{"high spend, loyal", c(1500, 3, false), Assignment{Tier: "star", Rule: 1}},
		{"at the 80th percentile, one order", c(1000, 1, false), Assignment{Tier: "risky_big", Rule: 2}},
		{"high spend, churning", c(1200, 5, true), Assignment{Tier: "risky_big", Rule: 2}},
		{"high spend, churn unknown", c(1200, 5, nil), Assignment{Tier: "risky_big", Rule: 2, NullSkips: []int{1}}},
		{"low spend, loyal", c(300, 2, false), Assignment{Tier: "rising", Rule: 3}},
		{"no order", c(0, 0, nil), Assignment{Tier: "low_value", Rule: 0}},
		{"low spend, one order", c(300, 1, false), Assignment{Tier: "low_value", Rule: 0}},
	})
	// Without a given percentile, EvalGo computes it over the rows:
	// monetary 0, 300, 1000, 1200, 1500 has its 0.8-quantile at 1260.
	runTiers(t, "volume_loyalty", EvalEnv{}, []tierCase{
		{"above 1260", c(1500, 3, false), Assignment{Tier: "star", Rule: 1}},
		{"below 1260, loyal", c(1200, 5, false), Assignment{Tier: "rising", Rule: 3}},
		{"below, one order", c(1000, 1, false), Assignment{Tier: "low_value", Rule: 0}},
		{"low, loyal", c(300, 2, false), Assignment{Tier: "rising", Rule: 3}},
		{"nothing", c(0, 0, false), Assignment{Tier: "low_value", Rule: 0}},
	})
}

func TestBuiltinValueTiers(t *testing.T) {
	c := func(ams any, o90, freq, recency, churn any) map[string]any {
		return row(map[string]any{"avg_monthly_spend": ams, "orders_last_90d": o90, "frequency": freq, "recency_days": recency, "suspected_churn": churn})
	}
	runTiers(t, "value_tiers", EvalEnv{}, []tierCase{
		{"500 a month", c(500.0, int64(3), int64(20), int64(5), false), Assignment{Tier: "A1", Rule: 1}},
		{"just under 500", c(499.99, int64(3), int64(20), int64(5), false), Assignment{Tier: "A2", Rule: 2}},
		{"150, active", c(150.0, int64(2), int64(8), int64(10), false), Assignment{Tier: "B1", Rule: 3}},
		{"150, no order in 90 days", c(150.0, int64(0), int64(8), int64(120), false), Assignment{Tier: "B2", Rule: 4}},
		{"low spend, lapsed", c(10.0, int64(0), int64(3), int64(400), nil), Assignment{Tier: "D", Rule: 5}},
		{"never bought", c(0.0, int64(0), int64(0), nil, nil), Assignment{Tier: "D", Rule: 5}},
		{"low spend, active", c(10.0, int64(1), int64(3), int64(20), false), Assignment{Tier: "C", Rule: 0}},
		{"low spend, churn unknown", c(10.0, int64(1), int64(3), int64(20), nil), Assignment{Tier: "C", Rule: 0, NullSkips: []int{5}}},
		// Null spend: rules 1, 2, 4 unknown; rule 3 false because of its
		// other half.
		{"spend unknown", c(nil, int64(0), int64(2), int64(30), false), Assignment{Tier: "C", Rule: 0, NullSkips: []int{1, 2, 4}}},
	})
}

func TestBuiltinAccountTiers(t *testing.T) {
	c := func(seg any, m float64, freq int64) map[string]any {
		return row(map[string]any{"segment": seg, "monetary": m, "frequency": freq})
	}
	env := EvalEnv{Percentiles: map[PercentileRef]float64{{"monetary", 0.95}: 10000, {"monetary", 0.75}: 2000}}
	runTiers(t, "account_tiers", env, []tierCase{
		{"top b2b", c("b2b", 12000, 10), Assignment{Tier: "strategic", Rule: 1}},
		{"large b2b", c("b2b", 5000, 4), Assignment{Tier: "key", Rule: 2}},
		{"small b2b", c("b2b", 100, 1), Assignment{Tier: "general", Rule: 3}},
		{"b2b without orders", c("b2b", 0, 0), Assignment{Tier: "potential", Rule: 4}},
		{"large b2c", c("b2c", 50000, 20), Assignment{Tier: "other", Rule: 0}},
		{"unknown segment", c(nil, 50000, 20), Assignment{Tier: "other", Rule: 0, NullSkips: []int{1, 2, 3, 4}}},
	})
}

func TestBuiltinsCompile(t *testing.T) {
	sets, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 6 {
		t.Fatalf("%d built-ins, want 6", len(sets))
	}
	s := mustSchema(t)
	for i, rs := range sets {
		if rs.Name != BuiltinNames()[i] {
			t.Errorf("built-in %d is named %q, want %q", i, rs.Name, BuiltinNames()[i])
		}
		if _, err := Compile(rs, s); err != nil {
			t.Errorf("%s: %v", rs.Name, err)
		}
	}
	if _, ok := BuiltinDocument("nope"); ok {
		t.Error("BuiltinDocument(nope) found something")
	}
}

// The null semantics of the package doc, one condition at a time.
func TestNullSemantics(t *testing.T) {
	s := mustSchema(t)
	base := row(map[string]any{"frequency": int64(0), "monetary": 0.0, "tickets": int64(0), "age": int64(math.MaxInt64), "avg_order_value": math.NaN(), "profit": 1e300})
	tests := []struct {
		expr string
		want Outcome
	}{
		{"recency_days > 365", Unknown},
		{"!(recency_days > 365)", Unknown},
		{"recency_days > 365 || frequency == 0", Match},
		{"frequency == 0 || recency_days > 365", Match},
		{"recency_days > 365 && frequency == 1", NoMatch},
		{"frequency == 1 && recency_days > 365", NoMatch},
		{"recency_days > 365 || frequency == 1", Unknown},
		{"(recency_days > 365 ? true : true)", Unknown},
		{"(frequency == 0 ? true : recency_days > 1)", Match},
		{"segment in ['b2b', 'b2c']", Unknown},
		{"size(region) > 0", Unknown},
		{"days_since(last_order_date) > 30", Unknown},
		{"monetary > percentile('monetary', 0.5)", Unknown}, // no percentile given: null
		// Run-time errors are unknown too.
		{"frequency / tickets > 1", Unknown},
		{"frequency % tickets == 0", Unknown},
		{"age + 1 > 0", Unknown},
		{"age + 1 > 0 || frequency == 0", Match},
		{"int(profit) > 0", Unknown},
		// NaN: orderings false, equal to nothing, unequal to everything.
		{"avg_order_value < 1.0", NoMatch},
		{"avg_order_value >= 1.0", NoMatch},
		{"avg_order_value == avg_order_value", NoMatch},
		{"avg_order_value != avg_order_value", Match},
		{"monetary / 0.0 > 1e308", NoMatch}, // 0/0 is NaN, not an error
		{"frequency in []", NoMatch},
	}
	for _, tt := range tests {
		c, err := CompileCondition(tt.expr, s)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		got, err := c.Eval(context.Background(), base, EvalEnv{AsOf: time.Now()})
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		if got != tt.want {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestDaysSince(t *testing.T) {
	s := mustSchema(t)
	c, err := CompileCondition("days_since(last_order_date) == 3", s)
	if err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		ts   time.Time
		want Outcome
	}{
		{time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Match},
		{time.Date(2024, 3, 1, 23, 59, 59, 999999000, time.UTC), Match}, // whole days between dates
		{time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC), NoMatch},
		// A time in another zone counts by its UTC date.
		{time.Date(2024, 3, 1, 1, 0, 0, 0, time.FixedZone("x", 2*3600)), NoMatch},
	} {
		got, err := c.Eval(context.Background(), map[string]any{"last_order_date": tc.ts}, EvalEnv{AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("days_since(%v) == 3 is %v, want %v", tc.ts, got, tc.want)
		}
	}
	if _, err := c.Eval(context.Background(), map[string]any{"last_order_date": asOf}, EvalEnv{}); err == nil || !strings.Contains(err.Error(), "as-of") {
		t.Errorf("no as-of date: %v", err)
	}
	before := time.Date(1960, 5, 1, 0, 0, 0, 0, time.UTC)
	c2, _ := CompileCondition("days_since(signup_date) == 23257", s)
	if got, _ := c2.Eval(context.Background(), map[string]any{"signup_date": before}, EvalEnv{AsOf: time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)}); got != Match {
		t.Errorf("days since 1960-05-01 at 2024-01-03 is not 23257 (DuckDB's date_diff)")
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		vals []float64
		p    float64
		want float64
		ok   bool
	}{
		{[]float64{4, 1, 2}, 0.8, 3.2, true}, // DuckDB: quantile_cont over 1, 2, 4 at 0.8
		{[]float64{4, 1, 2}, 0, 1, true},
		{[]float64{4, 1, 2}, 1, 4, true},
		{[]float64{4, 1, 2}, 0.5, 2, true},
		{[]float64{4, math.NaN(), 1, 2}, 0.5, 2, true},
		{[]float64{7}, 0.3, 7, true},
		{nil, 0.5, 0, false},
		{[]float64{math.NaN()}, 0.5, 0, false},
		{[]float64{1, 2}, 1.5, 0, false},
	}
	for _, tt := range tests {
		got, ok := Quantile(tt.vals, tt.p)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v %v, want %v %v", tt.vals, tt.p, got, ok, tt.want, tt.ok)
		}
	}
	if got, _ := Quantile([]float64{0, 300, 1000, 1200, 1500}, 0.8); math.Abs(got-1260) > 1e-9 {
		t.Errorf("quantile = %v, want 1260", got)
	}
}

func TestEvaluatorValuesMatchesMaps(t *testing.T) {
	doc, _ := BuiltinDocument("value_tiers")
	rs, _ := Parse(doc)
	c, err := Compile(rs, mustSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := c.NewEvaluator(EvalEnv{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"avg_monthly_spend": 150.0, "orders_last_90d": int32(0), "frequency": 8, "recency_days": int64(120), "suspected_churn": false}
	vals := make([]any, 0, len(c.Inputs()))
	for _, name := range c.Inputs() {
		vals = append(vals, m[name])
	}
	a1, err1 := ev.Eval(context.Background(), m)
	a2, err2 := ev.EvalValues(context.Background(), vals)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(a1, a2) || a1.Tier != "B2" {
		t.Errorf("Eval %+v %v, EvalValues %+v %v, want B2", a1, err1, a2, err2)
	}
	if _, err := ev.EvalValues(context.Background(), vals[:2]); err == nil {
		t.Error("short row accepted")
	}
	if _, err := ev.Eval(context.Background(), map[string]any{"frequency": 1}); err == nil || !strings.Contains(err.Error(), "row has no feature") {
		t.Errorf("missing feature: %v", err)
	}
	m["frequency"] = "eight"
	if _, err := ev.Eval(context.Background(), m); err == nil || !strings.Contains(err.Error(), `feature "frequency" is a int, but the row holds string`) {
		t.Errorf("wrong type: %v", err)
	}
}

func TestEvalGoHonoursContext(t *testing.T) {
	doc, _ := BuiltinDocument("abc")
	rs, _ := Parse(doc)
	c, err := Compile(rs, mustSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]map[string]any, 10000)
	for i := range rows {
		rows[i] = map[string]any{"monetary_rank_pct": float64(i) / 10000}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.EvalGo(ctx, rows, EvalEnv{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	got, err := c.EvalGo(context.Background(), rows, EvalEnv{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, a := range got {
		counts[a.Tier]++
	}
	if !reflect.DeepEqual(counts, map[string]int{"A": 500, "B": 1500, "C": 8000}) {
		t.Errorf("tiers %v", counts)
	}
}

// Programs with loops run with the context: a deadline interrupts them.
func TestComprehensionHonoursContext(t *testing.T) {
	list := "[" + strings.TrimSuffix(strings.Repeat("1, ", 40), ", ") + "]"
	c, err := CompileCondition(list+".all(a, "+list+".all(b, a + b > frequency))", mustSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.expr.fast != nil {
		t.Fatal("a comprehension got the unchecked program")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Eval(ctx, map[string]any{"frequency": int64(0)}, EvalEnv{}); err == nil {
		t.Error("cancelled evaluation succeeded")
	}
	if got, err := c.Eval(context.Background(), map[string]any{"frequency": int64(0)}, EvalEnv{}); err != nil || got != Match {
		t.Errorf("got %v %v", got, err)
	}
}

// The runtime cost limit holds where the estimate had to assume a size:
// text longer than assumed stops the evaluation with an error rather than
// running on.
func TestRuntimeCostLimit(t *testing.T) {
	c, err := CompileCondition(`segment.matches("(a|b)+c") && segment.contains("zz")`, mustSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.expr.fast != nil {
		t.Fatal("a text condition got the unchecked program")
	}
	if got, err := c.Eval(context.Background(), map[string]any{"segment": "abc"}, EvalEnv{}); err != nil || got != NoMatch {
		t.Errorf("short text: %v %v", got, err)
	}
	huge := strings.Repeat("ab", 2<<20)
	_, err = c.Eval(context.Background(), map[string]any{"segment": huge}, EvalEnv{})
	if err == nil || !strings.Contains(err.Error(), "cost limit") {
		t.Errorf("huge text: %v, want a cost limit error", err)
	}
}
