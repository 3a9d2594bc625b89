package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Features as of the day after the latest order (2024-04-11), by hand:
//
//	c1: completed o1 100 (Dec 10), o2 50 (Jan 5), o3 80 (Feb 20), o12 30 (Mar 28)
//	    frequency 4, monetary 260, profit 40+20+30+10 = 100, recency 14,
//	    gaps 26, 46, 37 → median 37; last date 14 days ago, not > 74: not churned.
//	c2: o4 200 (Dec 20), o6 120 (Apr 10): frequency 2, monetary 320, recency 1.
//	c3: o7 40 (Jan 12), o8 60 (Jan 25, null cost): profit 20 (only costed rows).
//	c6: no orders: null recency, zero frequency and monetary.
//
// Ranking by monetary desc: c2 320, c1 260, c3 100, c5 90, c4 70 (5 with
// orders): monetary_rank_pct c2 0, c1 0.2; cum share c2 320/840.
func TestCustomerFeatures(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	d, err := e.Customer(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	f := d.Features
	want := map[string]any{
		"frequency": int64(4), "monetary": 260.0, "profit": 100.0, "recency_days": int64(14),
		"median_gap_days": 37.0, "suspected_churn": false, "avg_order_value": 65.0,
		"monetary_rank_pct": 0.2, "monetary_cum_share": 580.0 / 840, "tenure_days": int64(193),
		"region": "north", "age_band": "25-34", "orders_last_90d": int64(2),
		"avg_monthly_spend": 21.67, "r_score": int64(4), // money in cents: 260/12
	}
	for k, v := range want {
		got := f[k]
		if fv, ok := v.(float64); ok {
			if g, ok := got.(float64); !ok || !near(g, fv) {
				t.Errorf("c1 %s = %v (%T), want %v", k, got, got, v)
			}
		} else if got != v {
			t.Errorf("c1 %s = %v (%T), want %v", k, got, got, v)
		}
	}
	if len(d.RecentOrders) != 4 || d.RecentOrders[0]["order_id"] != "o12" {
		t.Errorf("recent orders %v", d.RecentOrders)
	}
	c6, err := e.Customer(ctx, "c6")
	if err != nil {
		t.Fatal(err)
	}
	if c6.Features["recency_days"] != nil || c6.Features["frequency"] != int64(0) || c6.Features["monetary"] != 0.0 {
		t.Errorf("c6 features %v", c6.Features)
	}
	if _, err := e.Customer(ctx, "nobody"); ErrorCode(err) != CodeNotFound {
		t.Errorf("unknown customer: %v", err)
	}

	page, err := e.Customers(ctx, CustomerQuery{OrderBy: "monetary", Desc: true, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 6 || len(page.Rows) != 2 || page.Rows[0]["customer_id"] != "c2" || page.Rows[1]["customer_id"] != "c1" {
		t.Errorf("top customers %d %v", page.Total, page.Rows)
	}
	if _, err := e.Customers(ctx, CustomerQuery{OrderBy: "shoe_size"}); ErrorCode(err) != CodeInvalidParameter {
		t.Errorf("bad order_by: %v", err)
	}
}

// The gaps between a customer's orders are between distinct order days:
// same-day orders (in any order in the file) add none, and churn needs
// three distinct days. As of 2024-03-16 (the day after the latest order):
//
//	c1: Jan 1 (twice), Jan 11, Jan 31 (twice): days 3, gaps 10, 20 → median
//	    15; last day 45 days ago > 30: suspected.
//	c2: one order: no gap, not suspected.
//	c3: two orders the same day: no gap, not suspected.
//	c4: Feb 1, Feb 3 (twice), Feb 4: gaps 2, 1 → median 1.5; 41 days > 3:
//	    suspected.
//	c5: Jan 1, Jan 2: median 1, but two distinct days: not suspected.
func TestFeatureGapsBetweenDistinctDays(t *testing.T) {
	dir := t.TempDir()
	customers := "customer_id,signup_date\nc1,2023-01-01\nc2,2023-01-01\nc3,2023-01-01\nc4,2023-01-01\nc5,2023-01-01\n"
	orders := `order_id,customer_id,order_date,amount
o1,c1,2024-01-31 18:00:00,10
o2,c1,2024-01-01 10:00:00,10
o3,c1,2024-01-11 12:00:00,10
o4,c1,2024-01-01 08:00:00,10
o5,c1,2024-01-31 09:00:00,10
o6,c2,2024-03-15 12:00:00,10
o7,c3,2024-02-01 12:00:00,10
o8,c3,2024-02-01 13:00:00,10
o9,c4,2024-02-03 23:00:00,10
o10,c4,2024-02-01 12:00:00,10
o11,c4,2024-02-04 00:30:00,10
o12,c4,2024-02-03 00:30:00,10
o13,c5,2024-01-02 12:00:00,10
o14,c5,2024-01-01 12:00:00,10
`
	for name, text := range map[string]string{"customers.csv": customers, "orders.csv": orders} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := mustOpen(t)
	mustImport(t, e, "customers", filepath.Join(dir, "customers.csv"))
	mustImport(t, e, "orders", filepath.Join(dir, "orders.csv"))
	want := map[string]struct {
		median    any
		suspected bool
	}{
		"c1": {15.0, true}, "c2": {nil, false}, "c3": {nil, false}, "c4": {1.5, true}, "c5": {1.0, false},
	}
	for id, w := range want {
		d, err := e.Customer(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Features["median_gap_days"]; got != w.median {
			t.Errorf("%s median_gap_days = %v (%T), want %v", id, got, got, w.median)
		}
		if got := d.Features["suspected_churn"]; got != w.suspected {
			t.Errorf("%s suspected_churn = %v, want %v", id, got, w.suspected)
		}
	}
}
