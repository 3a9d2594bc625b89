package engine

import (
	"context"
	"testing"
)

// February 2024 against January on the hand-built data. Completed orders
// in January: c1 (o2) and c3 (o7, o8); c2's o5 was returned. In February
// c1 orders again (o3), c3 does not: 2 customers, 1 churned, rate 1/2.
// January's tickets: c1 a question (t2), c3 a complaint (t3); January's
// surveys: c1 csat 4 (satisfied), c3 csat 2 (dissatisfied). c1 is in
// north, c3 in south; both b2c; neither has three order days, so neither
// is suspected churn.
func TestChurnDriversHandBuilt(t *testing.T) {
	e := handBuilt(t)
	for _, kind := range []string{"tickets", "surveys"} {
		mustImport(t, e, kind, "testdata/handbuilt/"+kind+".csv")
	}
	d, err := e.ChurnDriversOf(context.Background(), date("2024-02-01"), date("2024-03-01"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Customers != 2 || d.Churned != 1 || d.PreviousFrom != "2024-01-01" {
		t.Fatalf("customers %d churned %d previous_from %s", d.Customers, d.Churned, d.PreviousFrom)
	}
	type want struct {
		customers, churned int64
		lift               float64
	}
	wants := map[[2]any]want{
		{"complained", "yes"}:                 {1, 1, 2},
		{"complained", "no"}:                  {1, 0, 0},
		{"ticket_category", "complaint"}:      {1, 1, 2},
		{"ticket_category", "question"}:       {1, 0, 0},
		{"satisfaction_band", "dissatisfied"}: {1, 1, 2},
		{"satisfaction_band", "satisfied"}:    {1, 0, 0},
		{"purchase_cycle", "in cycle"}:        {2, 1, 1},
		{"region", "south"}:                   {1, 1, 2},
		{"region", "north"}:                   {1, 0, 0},
		{"segment", "b2c"}:                    {2, 1, 1},
	}
	seen := 0
	for _, s := range d.Splits {
		w, ok := wants[[2]any{s.Split, s.Value}]
		if !ok {
			continue
		}
		seen++
		if s.Customers != w.customers || s.Churned != w.churned {
			t.Errorf("%s=%v: %d customers %d churned, want %d %d", s.Split, s.Value, s.Customers, s.Churned, w.customers, w.churned)
		}
		approx(t, s.Split+" lift", s.Lift, w.lift)
	}
	if seen != len(wants) {
		t.Errorf("found %d of %d expected groups in %+v", seen, len(wants), d.Splits)
	}
	// complained first, ticket categories right after it.
	if d.Splits[0].Split != "complained" || d.Splits[2].Split != "ticket_category" {
		t.Errorf("order: %s, %s", d.Splits[0].Split, d.Splits[2].Split)
	}
}
