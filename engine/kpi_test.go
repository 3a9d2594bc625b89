package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// Expected values on testdata/handbuilt, worked out by hand.
//
// Window W = [2024-01-01, 2024-04-01), the calendar quarter Q1 2024, so
// W_prev is Q4 2023 = [2023-10-01, 2024-01-01).
// Completed orders in W (o5 returned, o9 cancelled and o6 in April excluded):
//
//	c1 north: o2 50, o3 80, o12 30      c3 south: o7 40, o8 60
//	c4 south: o10 70 (null status)      c5 east:  o11 90
//
// revenue 420, orders 7, A(W) = {c1, c3, c4, c5}.
// A(W_prev) = {c1 (o1), c2 (o4)}; c1 is active in W, c2 is not.
// First completed orders: c1 2023-12-10, c2 2023-12-20, c3 2024-01-12,
// c4 2024-03-15 (its February order was cancelled), c5 2024-03-20.
// Recency at 2024-04-01: c1 4 (Mar 28), c2 103 (Dec 20), c3 67 (Jan 25),
// c4 17 (Mar 15), c5 12 (Mar 20).
//
// By month (each month's previous window is the month before):
//
//	Jan: o2 c1 50, o7 c3 40, o8 c3 60; prev Dec {c1, c2}; new c3;
//	     recency at Feb 1: c1 27, c2 43, c3 7
//	Feb: o3 c1 80; prev Jan {c1, c3}; no new customer;
//	     recency at Mar 1: c1 10, c2 72, c3 36
//	Mar: o10 c4 70, o11 c5 90, o12 c1 30; prev Feb {c1}; new c4, c5;
//	     recency as for W.
type row struct {
	key              string // period and dimension values joined by "|"
	value            any    // float64 or nil
	numerator, denom any    // for ratios; nil when not checked
}

var nullV any

func TestKPIHandBuilt(t *testing.T) {
	e := handBuilt(t)
	cases := []struct {
		kpi   string
		grain Grain
		by    string
		want  []row
	}{
		{"revenue", GrainNone, "", []row{{"", 420.0, nil, nil}}},
		{"revenue", GrainMonth, "", []row{{"2024-01-01", 150.0, nil, nil}, {"2024-02-01", 80.0, nil, nil}, {"2024-03-01", 190.0, nil, nil}}},
		{"revenue", GrainNone, "region", []row{{"east", 90.0, nil, nil}, {"north", 160.0, nil, nil}, {"south", 170.0, nil, nil}}},
		{"orders", GrainNone, "", []row{{"", 7.0, nil, nil}}},
		{"orders", GrainMonth, "", []row{{"2024-01-01", 3.0, nil, nil}, {"2024-02-01", 1.0, nil, nil}, {"2024-03-01", 3.0, nil, nil}}},
		{"orders", GrainNone, "region", []row{{"east", 1.0, nil, nil}, {"north", 3.0, nil, nil}, {"south", 3.0, nil, nil}}},
		{"active_customers", GrainNone, "", []row{{"", 4.0, nil, nil}}},
		{"active_customers", GrainMonth, "", []row{{"2024-01-01", 2.0, nil, nil}, {"2024-02-01", 1.0, nil, nil}, {"2024-03-01", 3.0, nil, nil}}},
		{"active_customers", GrainNone, "region", []row{{"east", 1.0, nil, nil}, {"north", 1.0, nil, nil}, {"south", 2.0, nil, nil}}},
		{"avg_order_value", GrainNone, "", []row{{"", 60.0, 420.0, 7.0}}},
		{"avg_order_value", GrainMonth, "", []row{{"2024-01-01", 50.0, 150.0, 3.0}, {"2024-02-01", 80.0, 80.0, 1.0}, {"2024-03-01", 63.33, 190.0, 3.0}}}, // money in cents: 190/3
		{"avg_order_value", GrainNone, "region", []row{{"east", 90.0, 90.0, 1.0}, {"north", 53.33, 160.0, 3.0}, {"south", 56.67, 170.0, 3.0}}},
		{"purchase_frequency", GrainNone, "", []row{{"", 1.75, 7.0, 4.0}}},
		{"purchase_frequency", GrainMonth, "", []row{{"2024-01-01", 1.5, 3.0, 2.0}, {"2024-02-01", 1.0, 1.0, 1.0}, {"2024-03-01", 1.0, 3.0, 3.0}}},
		{"purchase_frequency", GrainNone, "region", []row{{"east", 1.0, 1.0, 1.0}, {"north", 3.0, 3.0, 1.0}, {"south", 1.5, 3.0, 2.0}}},
		{"repeat_purchase_rate", GrainNone, "", []row{{"", 0.5, 2.0, 4.0}}},
		{"repeat_purchase_rate", GrainMonth, "", []row{{"2024-01-01", 0.5, 1.0, 2.0}, {"2024-02-01", 0.0, 0.0, 1.0}, {"2024-03-01", 0.0, 0.0, 3.0}}},
		{"repeat_purchase_rate", GrainNone, "region", []row{{"east", 0.0, 0.0, 1.0}, {"north", 1.0, 1.0, 1.0}, {"south", 0.5, 1.0, 2.0}}},
		// Retention and churn by region: south and east have customers
		// active in W but none in W_prev: a zero denominator, so null.
		{"retention_rate", GrainNone, "", []row{{"", 0.5, 1.0, 2.0}}},
		{"retention_rate", GrainMonth, "", []row{{"2024-01-01", 0.5, 1.0, 2.0}, {"2024-02-01", 0.5, 1.0, 2.0}, {"2024-03-01", 1.0, 1.0, 1.0}}},
		{"retention_rate", GrainNone, "region", []row{{"east", nullV, 0.0, 0.0}, {"north", 0.5, 1.0, 2.0}, {"south", nullV, 0.0, 0.0}}},
		{"churn_rate", GrainNone, "", []row{{"", 0.5, 1.0, 2.0}}},
		{"churn_rate", GrainMonth, "", []row{{"2024-01-01", 0.5, 1.0, 2.0}, {"2024-02-01", 0.5, 1.0, 2.0}, {"2024-03-01", 0.0, 0.0, 1.0}}},
		{"churn_rate", GrainNone, "region", []row{{"east", nullV, 0.0, 0.0}, {"north", 0.5, 1.0, 2.0}, {"south", nullV, 0.0, 0.0}}},
		{"new_customers", GrainNone, "", []row{{"", 3.0, nil, nil}}},
		{"new_customers", GrainMonth, "", []row{{"2024-01-01", 1.0, nil, nil}, {"2024-02-01", 0.0, nil, nil}, {"2024-03-01", 2.0, nil, nil}}},
		// north has no new customer in W: a group without rows is absent.
		{"new_customers", GrainNone, "region", []row{{"east", 1.0, nil, nil}, {"south", 2.0, nil, nil}}},
		{"recency_days", GrainNone, "", []row{{"", 40.6, 203.0, 5.0}}},
		{"recency_days", GrainMonth, "", []row{{"2024-01-01", 77.0 / 3, 77.0, 3.0}, {"2024-02-01", 118.0 / 3, 118.0, 3.0}, {"2024-03-01", 40.6, 203.0, 5.0}}},
		{"recency_days", GrainNone, "region", []row{{"east", 12.0, 12.0, 1.0}, {"north", 53.5, 107.0, 2.0}, {"south", 42.0, 84.0, 2.0}}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s/%s", c.kpi, c.grain, c.by), func(t *testing.T) {
			q := Query{KPI: c.kpi, From: date("2024-01-01"), To: date("2024-04-01"), Grain: c.grain}
			if c.by != "" {
				q.By = strings.Split(c.by, ",")
			}
			res, err := e.Run(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			assertRows(t, res, c.want)
		})
	}
}

// assertRows compares a result with expected rows keyed by period and
// dimension values.
func assertRows(t *testing.T, res *Result, want []row) {
	t.Helper()
	col := map[string]int{}
	for i, c := range res.Columns {
		col[c] = i
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("got %d rows %v, want %d", len(res.Rows), res.Rows, len(want))
	}
	for i, r := range res.Rows {
		var key []string
		for j, c := range res.Columns {
			if c == "value" || c == "numerator" || c == "denominator" {
				continue
			}
			key = append(key, fmt.Sprint(r[j]))
		}
		w := want[i]
		if got := strings.Join(key, "|"); got != w.key {
			t.Errorf("row %d: key %q, want %q", i, got, w.key)
		}
		check := func(name string, want any) {
			got := r[col[name]]
			if want == nil && name != "value" {
				return
			}
			if want == nil {
				if got != nil {
					t.Errorf("row %s: %s = %v, want null", w.key, name, got)
				}
				return
			}
			g, ok := got.(float64)
			if n, isInt := got.(int64); isInt && name != "value" {
				g, ok = float64(n), true // a count keeps DuckDB's integer type
			}
			if !ok || !near(g, want.(float64)) {
				t.Errorf("row %s: %s = %v, want %v", w.key, name, got, want)
			}
		}
		check("value", w.value)
		if _, ok := col["numerator"]; ok {
			check("numerator", w.numerator)
			check("denominator", w.denom)
		} else if w.numerator != nil {
			t.Errorf("row %s: no numerator column", w.key)
		}
	}
}

// A period without any order answers 0 for counts and null for ratios.
func TestKPIEmptyPeriod(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	// April: o6 (c2, 120); May: nothing.
	for kpi, want := range map[string][]row{
		"revenue":         {{"2024-04-01", 120.0, nil, nil}, {"2024-05-01", 0.0, nil, nil}},
		"orders":          {{"2024-04-01", 1.0, nil, nil}, {"2024-05-01", 0.0, nil, nil}},
		"avg_order_value": {{"2024-04-01", 120.0, 120.0, 1.0}, {"2024-05-01", nullV, 0.0, 0.0}},
	} {
		res, err := e.Run(ctx, Query{KPI: kpi, From: date("2024-04-01"), To: date("2024-06-01"), Grain: GrainMonth})
		if err != nil {
			t.Fatal(err)
		}
		t.Run(kpi, func(t *testing.T) { assertRows(t, res, want) })
	}
}

func TestKPIDefaultWindowAndCache(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	// Latest order 2024-04-10: the default window is May 2023 .. May 2024.
	res, err := e.Run(ctx, Query{KPI: "revenue"})
	if err != nil {
		t.Fatal(err)
	}
	if res.From != "2023-05-01" || res.To != "2024-05-01" {
		t.Fatalf("default window %s..%s", res.From, res.To)
	}
	// All completed orders: 100+50+80+200+120+40+60+70+90+30.
	assertRows(t, res, []row{{"", 840.0, nil, nil}})
	if res.Cached {
		t.Fatal("first answer came from the cache")
	}
	again, err := e.Run(ctx, Query{KPI: "revenue"})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Cached || again.Fingerprint != res.Fingerprint {
		t.Fatalf("second answer cached=%v fingerprint %s vs %s", again.Cached, again.Fingerprint, res.Fingerprint)
	}
	// An import of orders changes the fingerprint: no stale answer.
	mustImport(t, e, "orders", "testdata/handbuilt/orders.csv")
	third, err := e.Run(ctx, Query{KPI: "revenue"})
	if err != nil {
		t.Fatal(err)
	}
	if third.Cached || third.Fingerprint == res.Fingerprint {
		t.Fatalf("after import: cached=%v fingerprint %s", third.Cached, third.Fingerprint)
	}
}

func TestKPIBadQueries(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	cases := []struct {
		q     Query
		code  Code
		param string
	}{
		{Query{KPI: "nope"}, CodeUnknownKPI, ""},
		{Query{KPI: "revenue", Version: 9}, CodeUnknownVersion, "version"},
		{Query{KPI: "revenue", By: []string{"planet"}}, CodeUnknownDimension, "by"},
		{Query{KPI: "revenue", By: []string{"customer_id"}}, CodeUnknownDimension, "by"},
		{Query{KPI: "revenue", By: []string{"region", "region"}}, CodeInvalidParameter, "by"},
		{Query{KPI: "revenue", From: date("2024-02-01"), To: date("2024-01-01")}, CodeInvalidParameter, "from"},
		{Query{KPI: "revenue", From: date("2024-02-01")}, CodeInvalidParameter, "to"},
		{Query{KPI: "revenue", Params: map[string]string{"k": "1"}}, CodeInvalidParameter, "k"},
		{Query{KPI: "revenue", From: date("1990-01-01"), To: date("2024-01-01"), Grain: GrainDay}, CodeInvalidParameter, "grain"},
	}
	for _, c := range cases {
		_, err := e.Run(ctx, c.q)
		var ee *Error
		if err == nil || !asError(err, &ee) || ee.Code != c.code {
			t.Errorf("%+v: got %v, want code %s", c.q, err, c.code)
			continue
		}
		if c.param != "" && ee.Details["parameter"] != c.param {
			t.Errorf("%+v: details %v do not name parameter %s", c.q, ee.Details, c.param)
		}
	}
	if _, err := ParseGrain("fortnight"); ErrorCode(err) != CodeInvalidParameter {
		t.Errorf("grain fortnight: %v", err)
	}
}

func TestKPIMissingDataset(t *testing.T) {
	e := mustOpen(t)
	_, err := e.Run(context.Background(), Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-02-01")})
	if ErrorCode(err) != CodeMissingDataset {
		t.Fatalf("got %v, want missing_dataset", err)
	}
}

// Every grouping recomputes its ratio: summing the per-region numerators
// and denominators gives the total's, never an average of ratios.
func TestKPIAgeBandAndSeveralDimensions(t *testing.T) {
	e := handBuilt(t)
	res, err := e.Run(context.Background(), Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-04-01"), By: []string{"region", "age_band"}})
	if err != nil {
		t.Fatal(err)
	}
	// c5 (east) has no age: its band is null.
	assertRows(t, res, []row{
		{"east|<nil>", 90.0, nil, nil},
		{"north|25-34", 160.0, nil, nil},
		{"south|55+", 70.0, nil, nil},
		{"south|<25", 100.0, nil, nil},
	})
}

// An empty period gives 0/0 (not null counts) for the count-based ratios.
func TestKPIEmptyPeriodZeroCounts(t *testing.T) {
	e := handBuilt(t)
	for _, kpi := range []string{"retention_rate", "churn_rate", "repeat_purchase_rate"} {
		res, err := e.Run(context.Background(), Query{KPI: kpi, From: date("2022-01-01"), To: date("2022-02-01")})
		if err != nil {
			t.Fatal(err)
		}
		assertRows(t, res, []row{{"", nullV, 0.0, 0.0}})
	}
}

// Every KPI version's macro binds on an empty database and answers a
// window of nothing (the catalog test of ARCHITECTURE.md, "KPI versions").
func TestEveryKPICompilesOnEmptyDatabase(t *testing.T) {
	e := mustOpen(t)
	for _, k := range e.Catalog().List() {
		for _, d := range k.Versions {
			q := fmt.Sprintf("SELECT * FROM %s(TIMESTAMP '2024-01-01', TIMESTAMP '2024-02-01', TIMESTAMP '2023-12-01') LIMIT 0", d.MacroName())
			rows, err := e.DB().Query(q)
			if err != nil {
				t.Errorf("%s: %v", d.File, err)
				continue
			}
			cols, _ := rows.Columns()
			rows.Close()
			if d.Dimensions == nil && !contains(cols, "customer_id") {
				t.Errorf("%s: rows without customer_id cannot be grouped by customer dimensions", d.File)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
