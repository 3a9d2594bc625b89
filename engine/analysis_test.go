package engine

import (
	"context"
	"math"
	"testing"
)

func approx(t *testing.T, what string, got any, want float64) {
	t.Helper()
	var g float64
	switch x := got.(type) {
	case float64:
		g = x
	case *float64:
		if x == nil {
			t.Errorf("%s = null, want %v", what, want)
			return
		}
		g = *x
	default:
		t.Errorf("%s = %v (%T), want %v", what, got, got, want)
		return
	}
	if math.Abs(g-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, g, want)
	}
}

// Average order value by region, Q1 2024 against Q4 2023 (a calendar
// quarter compares with the previous quarter), on the hand-built data:
//
//	previous: north o1 100 + o4 200 → N 300, D 2, r 150; total R = 150
//	window:   north 160/3, south 170/3, east 90/1; total R' = 420/7 = 60
//	shares s' = 3/7, 3/7, 1/7; s = 1, 0, 0; (R + R')/2 = 105
//	north rate = (160/3 − 150)(3/7 + 1)/2 = −69.047619…
//	      mix  = (3/7 − 1)((160/3 + 150)/2 − 105) = 1.904761…
//	south (absent before: r = 170/3 in both, rate 0)
//	      mix  = (3/7)(170/3 − 105) = −20.714285…
//	east  mix  = (1/7)(90 − 105) = −2.142857…
//	sum = −90 = R' − R
func TestVarianceRatioHandBuilt(t *testing.T) {
	e := handBuilt(t)
	v, err := e.Variance(context.Background(), Query{KPI: "avg_order_value", From: date("2024-01-01"), To: date("2024-04-01"), By: []string{"region"}})
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "value", v.Value, 60)
	approx(t, "previous", v.Previous, 150)
	approx(t, "total_change", v.TotalChange, -90)
	if v.PreviousFrom != "2023-10-01" {
		t.Errorf("previous_from %s", v.PreviousFrom)
	}
	want := []struct {
		region    string
		rate, mix float64
	}{
		{"north", (160.0/3 - 150) * (3.0/7 + 1) / 2, (3.0/7 - 1) * ((160.0/3+150)/2 - 105)},
		{"south", 0, 3.0 / 7 * (170.0/3 - 105)},
		{"east", 0, 1.0 / 7 * (90 - 105)},
	}
	if len(v.Rows) != 3 {
		t.Fatalf("rows %v", v.Rows)
	}
	var sum float64
	for i, w := range want {
		r := v.Rows[i]
		if r["region"] != w.region {
			t.Fatalf("row %d is %v, want %s (sorted by |contribution|)", i, r["region"], w.region)
		}
		approx(t, w.region+" rate", r["rate_effect"], w.rate)
		approx(t, w.region+" mix", r["mix_effect"], w.mix)
		sum += r["contribution"].(float64)
	}
	approx(t, "sum of contributions", sum, -90)
}

// Mix dominates: each region's order value never changes (A always 100,
// B always 10), only the share of orders moves from B to A.
//
//	previous Jan: A 1 order, B 3 → R = 130/4 = 32.5
//	window  Feb: A 3 orders, B 1 → R' = 310/4 = 77.5; change 45
//	rate effects 0; mix A = (0.75 − 0.25)(100 − 55) = 22.5,
//	                mix B = (0.25 − 0.75)(10 − 55) = 22.5
func TestVarianceMixDominates(t *testing.T) {
	e := mustOpen(t)
	mustImport(t, e, "customers", writeFile(t, "customers.csv", "customer_id,signup_date,region\na1,2023-01-01,A\na2,2023-01-01,A\nb1,2023-01-01,B\nb2,2023-01-01,B\n"))
	mustImport(t, e, "orders", writeFile(t, "orders.csv", "order_id,customer_id,order_date,amount\n"+
		"1,a1,2024-01-05,100\n2,b1,2024-01-06,10\n3,b2,2024-01-07,10\n4,b1,2024-01-20,10\n"+
		"5,a1,2024-02-05,100\n6,a2,2024-02-06,100\n7,a2,2024-02-20,100\n8,b2,2024-02-21,10\n"))
	// February has 29 days in 2024: the previous window is 2024-01-03 ..
	// 2024-02-01, which holds all four January orders.
	v, err := e.Variance(context.Background(), Query{KPI: "avg_order_value", From: date("2024-02-01"), To: date("2024-03-01"), By: []string{"region"}})
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "total_change", v.TotalChange, 45)
	for _, r := range v.Rows {
		approx(t, "rate "+r["region"].(string), r["rate_effect"], 0)
		approx(t, "mix "+r["region"].(string), r["mix_effect"], 22.5)
	}
}

// Additive: each group's delta, summing to the total change.
//
//	revenue Q1 2024 vs Q4 2023: north 160 vs 300 (−140),
//	south 170 vs 0, east 90 vs 0; total 420 − 300 = 120
func TestVarianceAdditive(t *testing.T) {
	e := handBuilt(t)
	v, err := e.Variance(context.Background(), Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-04-01"), By: []string{"region"}})
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "total_change", v.TotalChange, 120)
	got := map[string]float64{}
	for _, r := range v.Rows {
		got[r["region"].(string)] = r["contribution"].(float64)
		approx(t, "mix", r["mix_effect"], 0)
	}
	if got["north"] != -140 || got["south"] != 170 || got["east"] != 90 || v.Rows[0]["region"] != "south" {
		t.Errorf("contributions %v (first %v)", got, v.Rows[0]["region"])
	}
	if _, err := e.Variance(context.Background(), Query{KPI: "revenue"}); ErrorCode(err) != CodeInvalidParameter {
		t.Errorf("variance without by: %v", err)
	}
}

// Targets persist in the database; the scorecard compares against them.
//
//	revenue Q1 2024 = 420, previous 300: change 120, +40%
//	churn_rate Q1 = 0.5 (lower is better); previous window Q4 2023
//	against Q3 2023: nobody active before → null
func TestTargetsAndScorecard(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	for _, tg := range []Target{
		{KPI: "revenue", Target: 400, WarnWithin: 50},                                           // 420 ≥ 400: ok
		{KPI: "churn_rate", Target: 0.45, WarnWithin: 0.05},                                     // 0.5 is 0.05 above: warn
		{KPI: "active_customers", Target: 10, WarnWithin: 2},                                    // 4 is 6 below: alert
		{KPI: "revenue", Target: 100, WarnWithin: 10, By: map[string]string{"region": "north"}}, // north 160: ok
	} {
		if _, err := e.SetTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.SetTarget(ctx, Target{KPI: "revenue", Target: 1, By: map[string]string{"planet": "mars"}}); ErrorCode(err) != CodeUnknownDimension {
		t.Errorf("target on unknown dimension: %v", err)
	}
	if _, err := e.SetTarget(ctx, Target{KPI: "revenue", Target: 1, Direction: "sideways"}); ErrorCode(err) != CodeInvalidParameter {
		t.Errorf("bad direction: %v", err)
	}
	sc, err := e.Scorecard(ctx, date("2024-01-01"), date("2024-04-01"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]ScorecardRow{}
	for _, r := range sc.Rows {
		key := r.KPI
		if r.By != nil {
			key += ":" + r.By["region"]
		}
		rows[key] = r
	}
	status := func(k string) string {
		if rows[k].Status == nil {
			return "null"
		}
		return *rows[k].Status
	}
	approx(t, "revenue value", rows["revenue"].Value, 420)
	approx(t, "revenue previous", rows["revenue"].Previous, 300)
	approx(t, "revenue change", rows["revenue"].Change, 120)
	approx(t, "revenue change_pct", rows["revenue"].ChangePct, 0.4)
	if status("revenue") != "ok" || status("churn_rate") != "warn" || status("active_customers") != "alert" ||
		status("orders") != "null" || status("revenue:north") != "ok" {
		t.Errorf("statuses revenue %s churn %s active %s orders %s north %s", status("revenue"), status("churn_rate"),
			status("active_customers"), status("orders"), status("revenue:north"))
	}
	approx(t, "north revenue", rows["revenue:north"].Value, 160)
	if rows["churn_rate"].Previous != nil {
		t.Errorf("churn previous %v, want null", *rows["churn_rate"].Previous)
	}
	if rows["churn_rate"].Direction != "lower_is_better" {
		t.Errorf("churn direction %s", rows["churn_rate"].Direction)
	}
	if _, ok := rows["cohort_retention"]; ok {
		t.Errorf("a matrix is on the scorecard")
	}

	list, err := e.Targets(ctx, "revenue")
	if err != nil || len(list) != 2 {
		t.Fatalf("targets %v %v", list, err)
	}
	n, err := e.DeleteTargets(ctx, "revenue", map[string]string{"region": "north"}, true)
	if err != nil || n != 1 {
		t.Fatalf("delete scoped: %d %v", n, err)
	}
	if list, _ := e.Targets(ctx, ""); len(list) != 3 {
		t.Errorf("after delete: %v", list)
	}
}
