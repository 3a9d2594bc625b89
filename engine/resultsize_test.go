package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"custkpi/kpi"
)

// Measured case "recency_days by day over 10 years with 5 dimensions reached
// 6 GB in 35 s": a request whose answer could exceed the row cap is refused
// before it runs with result_too_large naming the estimate and the cap; a
// coarser grain of the same request runs.
func TestRecencyDaysByDay10Years5DimensionsIsTooLarge(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	e.opts.MaxResultRows = 10_000 // six customers: at most six groups a day
	q := Query{KPI: "recency_days", From: date("2015-01-01"), To: date("2025-01-01"), Grain: GrainDay,
		By: []string{"region", "segment", "acquisition_channel", "age_band", "signup_date"}}
	_, err := e.Run(ctx, q)
	var ee *Error
	if !asError(err, &ee) || ee.Code != CodeResultTooLarge {
		t.Fatalf("got %v, want result_too_large", err)
	}
	// 3,653 days × min(3 regions × 2 segments × … , 6 customers).
	if ee.Details["estimate"] != int64(3653*6) || ee.Details["max_result_rows"] != int64(10_000) ||
		!strings.Contains(ee.Message, "21918 rows") || !strings.Contains(ee.Message, "cap of 10000") {
		t.Errorf("message %q details %v", ee.Message, ee.Details)
	}
	q.Grain = GrainMonth
	if _, err := e.Run(ctx, q); err != nil {
		t.Errorf("by month: %v", err)
	}
	// Tier dimensions count the tiers of their evaluation.
	if _, err := e.EvaluateRuleSet(ctx, "value_tiers", 0, date("2024-06-01"), false); err != nil {
		t.Fatal(err)
	}
	e.opts.MaxResultRows = 100
	_, err = e.Run(ctx, Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-07-01"), Grain: GrainDay, By: []string{"tier:value_tiers"}})
	if ErrorCode(err) != CodeResultTooLarge {
		t.Errorf("by day and tier over 100 rows: %v", err)
	}
	e.opts.MaxResultRows = -1
	if _, err := e.Run(ctx, Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-07-01"), Grain: GrainDay, By: []string{"tier:value_tiers"}}); err != nil {
		t.Errorf("no cap: %v", err)
	}
}

// A customer dimension's values are counted when the fast tables are
// built (fast_dim_counts, a null as one value): the same count as over
// every customer, for dimensions of few values and of many.
func TestDistinctValuesKeptWithTheFastTables(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	s := e.snap()
	names := kpi.CustomerDimensions(s.data)
	for _, want := range []string{"age", "age_band", "signup_date"} {
		if !slices.Contains(names, want) {
			t.Fatalf("%s not among the customer dimensions %v", want, names)
		}
	}
	for _, name := range names {
		var kept int
		if err := e.db.QueryRow("SELECT count(*) FROM fast_dim_counts WHERE name = ?", name).Scan(&kept); err != nil || kept != 1 {
			t.Errorf("%s: %d rows in fast_dim_counts (%v)", name, kept, err)
		}
		got, err := e.distinctValues(ctx, s, kpi.GroupRef{Name: name, Customer: true})
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		q := fmt.Sprintf("SELECT count(DISTINCT %[1]s) + (count(*) > count(%[1]s))::BIGINT FROM customer_dims()", quoteIdent(name))
		if err := e.db.QueryRow(q).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got != want || want < 2 {
			t.Errorf("%s: %d values kept, %d over the customers", name, got, want)
		}
	}
}
