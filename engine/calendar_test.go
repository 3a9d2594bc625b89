package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// Calendar previous windows (KPIS.md), on testdata/calendar. Completed
// orders: c4 2022-12-31, c3 2023-10-01, c2 2023-11-10, c1 2024-01-30,
// c2 2024-02-10, c2 2024-03-05. Active customers: 2022 {c4}, 2023 {c3, c2},
// Q4 2023 {c3, c2}, Q1 2024 and 2024 {c1, c2}, February {c2}, March {c2}.
// First orders: c4 2022, c3 and c2 Q4 2023, c1 January 2024.
//
//	window   previous    churn  retention  new_customer_growth
//	March    February    0/1    1/1        (0-0)/0 null
//	Q1 2024  Q4 2023     1/2    1/2        (1-2)/2
//	2024     2023        1/2    1/2        (1-2)/2
//
// With previous windows of the same length instead, March would compare
// with [Jan 30, Mar 1) {c1, c2} (churn 1/2), Q1 with [2023-10-02,
// 2024-01-01) {c2} (churn 0/1) and 2024 with [2022-12-31, 2024-01-01) {c4,
// c3, c2} (churn 2/3).
func calendarEngine(tb testing.TB) *Engine {
	tb.Helper()
	e := mustOpen(tb)
	mustImport(tb, e, "customers", "testdata/calendar/customers.csv")
	mustImport(tb, e, "orders", "testdata/calendar/orders.csv")
	return e
}

func TestCalendarPreviousWindows(t *testing.T) {
	runCatalogCases(t, calendarEngine(t), []catalogCase{
		{kpi: "churn_rate", from: "2024-03-01", to: "2024-04-01", want: []row{{"", 0.0, 0.0, 1.0}}},
		{kpi: "churn_rate", from: "2024-01-01", to: "2024-04-01", want: []row{{"", 0.5, 1.0, 2.0}}},
		{kpi: "churn_rate", from: "2024-01-01", to: "2025-01-01", want: []row{{"", 0.5, 1.0, 2.0}}},
		{kpi: "retention_rate", from: "2024-03-01", to: "2024-04-01", want: []row{{"", 1.0, 1.0, 1.0}}},
		{kpi: "retention_rate", from: "2024-01-01", to: "2024-04-01", want: []row{{"", 0.5, 1.0, 2.0}}},
		{kpi: "retention_rate", from: "2024-01-01", to: "2025-01-01", want: []row{{"", 0.5, 1.0, 2.0}}},
		{kpi: "new_customer_growth", from: "2024-03-01", to: "2024-04-01", want: []row{{"", nullV, 0.0, 0.0}}},
		{kpi: "new_customer_growth", from: "2024-01-01", to: "2024-04-01", want: []row{{"", -0.5, -1.0, 2.0}}},
		{kpi: "new_customer_growth", from: "2024-01-01", to: "2025-01-01", want: []row{{"", -0.5, -1.0, 2.0}}},
		// Not a calendar period: 30 days, so [2024-01-31, 2024-03-01),
		// {c2} active before (c1's Jan 30 is a day early): churn 0/1.
		{kpi: "churn_rate", from: "2024-03-01", to: "2024-03-31", want: []row{{"", 0.0, 0.0, 1.0}}},
		// Two months, 60 days: [2023-11-02, 2024-01-01) holds c2 only
		// (c3's Oct 1 is outside), who is active in Jan..Feb: 0/1.
		{kpi: "churn_rate", from: "2024-01-01", to: "2024-03-01", want: []row{{"", 0.0, 0.0, 1.0}}},
	})
}

// The scorecard of a calendar year compares with the previous calendar
// year: 2024 against 2023, whose own churn compares with 2022.
//
//	revenue     2024 20+60+70 = 150, 2023 30+50 = 80
//	churn_rate  2024 1/2; 2023: active 2022 {c4}, none of them in 2023: 1/1
//	new_customer_growth 2024 -0.5; 2023 (2-1)/1 = 1
func TestCalendarYearScorecard(t *testing.T) {
	e := calendarEngine(t)
	sc, err := e.Scorecard(context.Background(), date("2024-01-01"), date("2025-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.PreviousFrom != "2023-01-01" {
		t.Errorf("previous_from %s, want 2023-01-01", sc.PreviousFrom)
	}
	rows := map[string]ScorecardRow{}
	for _, r := range sc.Rows {
		rows[r.KPI] = r
	}
	for _, c := range []struct {
		kpi             string
		value, previous float64
	}{
		{"revenue", 150, 80},
		{"churn_rate", 0.5, 1},
		{"retention_rate", 0.5, 0},
		{"new_customer_growth", -0.5, 1},
	} {
		approx(t, c.kpi+" value", rows[c.kpi].Value, c.value)
		approx(t, c.kpi+" previous", rows[c.kpi].Previous, c.previous)
	}
}

// Property: for every KPI version of the catalog whose data is loaded, a
// window that is one calendar month, quarter or year gives the same row as
// that period asked with its grain, on the calendar data (where the
// previous-window rules disagree) and on the hand-built data with every
// dataset. The KPIs reading a previous window must be among those checked.
func TestCalendarWindowEqualsGrainRow(t *testing.T) {
	windows := []struct {
		from, to string
		grain    Grain
	}{
		{"2024-02-01", "2024-03-01", GrainMonth},
		{"2024-03-01", "2024-04-01", GrainMonth},
		{"2023-10-01", "2024-01-01", GrainQuarter},
		{"2024-01-01", "2024-04-01", GrainQuarter},
		{"2024-01-01", "2025-01-01", GrainYear},
	}
	for name, e := range map[string]*Engine{"calendar": calendarEngine(t), "handbuilt": catalogEngine(t)} {
		var checked []string
		for _, k := range e.catalog.List() {
			for _, d := range k.Versions {
				if len(d.Group) > 0 {
					continue // a matrix takes no grain
				}
				for _, w := range windows {
					q := Query{KPI: d.Name, Version: d.Version, From: date(w.from), To: date(w.to)}
					whole, err := e.Run(context.Background(), q)
					if c := ErrorCode(err); c == CodeMissingDataset || c == CodeMissingColumn {
						break
					} else if err != nil {
						t.Fatalf("%s %s v%d %s..%s: %v", name, d.Name, d.Version, w.from, w.to, err)
					}
					q.Grain = w.grain
					cut, err := e.Run(context.Background(), q)
					if err != nil {
						t.Fatalf("%s %s v%d %s..%s grain %s: %v", name, d.Name, d.Version, w.from, w.to, w.grain, err)
					}
					if got, want := rowText(whole, whole.Rows), rowText(cut, cut.Rows); got != want {
						t.Errorf("%s %s v%d %s..%s: window %s, %s row %s", name, d.Name, d.Version, w.from, w.to, got, w.grain, want)
					}
					checked = append(checked, d.Name)
				}
			}
		}
		for _, k := range []string{"churn_rate", "retention_rate", "new_customer_growth", "revenue"} {
			if !slices.Contains(checked, k) {
				t.Errorf("%s: %s was not checked", name, k)
			}
		}
	}
}

// rowText is a result's rows without their period column, to compare a
// window's answer with a grain's.
func rowText(res *Result, rows [][]any) string {
	var out []string
	for _, r := range rows {
		for i, c := range res.Columns {
			if c != "period" {
				out = append(out, fmt.Sprintf("%s=%v", c, r[i]))
			}
		}
	}
	return fmt.Sprint(out)
}
