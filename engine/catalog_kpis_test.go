package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Expected values of the catalog's other KPIs on testdata/handbuilt, worked
// out by hand. The window is W = [2024-01-01, 2024-04-01) unless a case says
// otherwise; kpi_test.go has the working for the orders (A(W), first orders,
// recency). Regions: c1 c2 north, c3 c4 south, c5 east, c6 west.
//
// Sales and profit. Completed orders in W with a cost (o8 has none):
//
//	o2 c1 Jan 50-30=20   o7 c3 Jan 40-20=20   o3 c1 Feb 80-50=30
//	o10 c4 Mar 70-40=30  o11 c5 Mar 90-50=40  o12 c1 Mar 30-20=10
//
// gross profit 150 over amount 360 and customers {c1, c3, c4, c5}; Jan 40
// over 90 (c1, c3), Feb 30 over 80 (c1), Mar 80 over 190 (c4, c5, c1);
// north 60 over 160 (c1), south 50 over 110 (c3, c4), east 40 over 90 (c5).
//
// Top 20%: revenue in W c1 160, c3 100, c5 90, c4 70 (420); ceil(4/5) = 1
// customer: c1 160. Jan c3 100, c1 50: top 1 of 2 → 100/150. Feb c1 80/80.
// Mar c5 90, c4 70, c1 30: top 1 of 3 → 90/190. By region each region's own
// top: north c1 160/160, south c3 100 of 170, east c5 90/90.
//
// Historic CLV: completed revenue before the end: at Apr 1 c1 260
// (100+50+80+30), c2 200 (o5 returned), c3 100, c4 70, c5 90 = 720 / 5; at
// Feb 1 c1 150, c2 200, c3 100 = 450 / 3; at Mar 1 c1 230, c2 200, c3 100 =
// 530 / 3 (c4's February order was cancelled). North 460/2, south 170/2,
// east 90/1.
//
// Acquisition. Signups in W: c3 Jan (referral, referred by c1), c6 Jan
// (search), c4 Feb (search), c5 Mar (email). acquisition_spend.csv in W:
// Jan search 300 + referral 50, Feb search 200 + social 100, Mar email 180 +
// search 100 = 930 (Dec 500 and Apr 400 are outside).
//
//	cac = 930 / 4 = 232.5; Jan 350/2, Feb 300/1, Mar 280/1
//	by acquisition_channel (or its alias channel): email 180/1,
//	referral 50/1, search 600/2 (c4, c6),
//	social 100/0 (spend without a signup: null)
//
// New customers (first completed order): W_prev = Q4 2023 = [2023-10-01, 2024-01-01)
// c1, c2; W c3, c4, c5 → (3-2)/2. Jan: Dec c1 c2, Jan c3 → (1-2)/2. Feb: Jan
// c3, Feb none → (0-1)/1. Mar: Feb none, Mar c4 c5 → 2/0, null. North
// (0-2)/2, south 2/0, east 1/0.
//
// Surveys (surveys.csv; s1 Dec and s8 Apr are outside W):
//
//	     cust region  date   csat nps quality service
//	s2   c1   north   Jan 10  4    9    4       3
//	s3   c3   south   Jan 20  2    3    2       -
//	s4   c2   north   Feb 5   5    7    5       4
//	s5   c4   south   Mar 16  -   10    -       5
//	s6   c5   east    Mar 21  3    -    3       2
//	s7   c6   west    Mar 30  4    8    4       5
//
// CSI per group: the mean of each score column over its non-null values, then
// 100 * (weighted mean of the means - 1) / 4. The engine's numerator is
// Σ w_i (mean_i - 1) / 4 and its denominator Σ w_i, scale 100. In W quality
// 18/5 = 3.6, service 19/5 = 3.8; equal weights (2.6 + 2.8)/4 = 1.35 over 2
// → 67.5 (the mean of the response means, 22/6, would give 66.67).
//
// Tickets (tickets.csv; t1 Dec and t8 Apr are outside W):
//
//	     cust  opened   first response  resolved     category
//	t2   c1    Jan 8    2h              24h          question
//	t3   c3    Jan 26   6h              36h          complaint
//	t4   c2    Feb 10   1h              -            complaint
//	t5   c4    Mar 16   -               -            delivery
//	t6   c5    Mar 21   4h              24.5h        complaint
//	t7   c1    Mar 29   10h             24h          complaint
//
// quantile_cont over n sorted values interpolates at position (n-1)*q.
//
// Events (events.csv), email in W (c2's December and c6's April mails are
// outside; c1's sms is another channel):
//
//	Jan: sent c1 c3, open c1 c3, click c1
//	Feb: sent c1 c3, open c1
//	Mar: sent c1 c3 c4 c5, open c3 c5, click c3 c5
//
// sent 8, open 5, click 3; north (c1) 3/2/1, south (c3 c4) 4/2/1, east (c5)
// 1/1/1. Social in W: impressions c1 Jan, c3 Feb x3, c5 Mar, c6 Mar = 6;
// engagements c1 like Jan, c3 comment + share Feb, c6 like Mar = 4 (c2's
// like is in April).
//
// Contracts ending in W: k3 c1 Jan 31 not renewed, k2 c2 Feb 15 renewed, k5
// c3 Mar 10 renewed, k4 c4 Mar 31 renewed (k1 ends Dec 31, k6 in June).

// catalogEngine is the hand-built engine with every optional dataset.
func catalogEngine(tb testing.TB) *Engine {
	tb.Helper()
	e := handBuilt(tb)
	for _, kind := range []string{"surveys", "tickets", "events", "acquisition_spend", "contracts"} {
		mustImport(tb, e, kind, "testdata/handbuilt/"+kind+".csv")
	}
	return e
}

type catalogCase struct {
	kpi     string
	version int
	grain   Grain
	by      string
	from    string // "" = 2024-01-01
	to      string // "" = 2024-04-01
	params  map[string]string
	want    []row
}

func runCatalogCases(t *testing.T, e *Engine, cases []catalogCase) {
	t.Helper()
	for _, c := range cases {
		name := fmt.Sprintf("%s/v%d/%s/%s", c.kpi, c.version, c.grain, c.by)
		if c.from != "" {
			name += "/" + c.from + ".." + c.to
		}
		for k, v := range c.params {
			name += "/" + k + "=" + v
		}
		t.Run(name, func(t *testing.T) {
			q := Query{KPI: c.kpi, Version: c.version, From: date("2024-01-01"), To: date("2024-04-01"), Grain: c.grain, Params: c.params}
			if c.from != "" {
				q.From, q.To = date(c.from), date(c.to)
			}
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

const (
	jan = "2024-01-01"
	feb = "2024-02-01"
	mar = "2024-03-01"
)

func TestCatalogSalesKPIs(t *testing.T) {
	runCatalogCases(t, handBuilt(t), []catalogCase{
		{kpi: "gross_profit", grain: GrainNone, want: []row{{"", 150.0, nil, nil}}},
		{kpi: "gross_profit", grain: GrainMonth, want: []row{{jan, 40.0, nil, nil}, {feb, 30.0, nil, nil}, {mar, 80.0, nil, nil}}},
		{kpi: "gross_profit", by: "region", want: []row{{"east", 40.0, nil, nil}, {"north", 60.0, nil, nil}, {"south", 50.0, nil, nil}}},

		{kpi: "profit_margin", grain: GrainNone, want: []row{{"", 150.0 / 360, 150.0, 360.0}}},
		{kpi: "profit_margin", grain: GrainMonth, want: []row{{jan, 40.0 / 90, 40.0, 90.0}, {feb, 30.0 / 80, 30.0, 80.0}, {mar, 80.0 / 190, 80.0, 190.0}}},
		{kpi: "profit_margin", by: "region", want: []row{{"east", 40.0 / 90, 40.0, 90.0}, {"north", 60.0 / 160, 60.0, 160.0}, {"south", 50.0 / 110, 50.0, 110.0}}},

		{kpi: "customer_profitability", grain: GrainNone, want: []row{{"", 37.5, 150.0, 4.0}}},
		{kpi: "customer_profitability", grain: GrainMonth, want: []row{{jan, 20.0, 40.0, 2.0}, {feb, 30.0, 30.0, 1.0}, {mar, 26.67, 80.0, 3.0}}}, // money: 80/3 in cents
		{kpi: "customer_profitability", by: "region", want: []row{{"east", 40.0, 40.0, 1.0}, {"north", 60.0, 60.0, 1.0}, {"south", 25.0, 50.0, 2.0}}},

		{kpi: "top20_revenue_share", grain: GrainNone, want: []row{{"", 160.0 / 420, 160.0, 420.0}}},
		{kpi: "top20_revenue_share", grain: GrainMonth, want: []row{{jan, 100.0 / 150, 100.0, 150.0}, {feb, 1.0, 80.0, 80.0}, {mar, 90.0 / 190, 90.0, 190.0}}},
		{kpi: "top20_revenue_share", by: "region", want: []row{{"east", 1.0, 90.0, 90.0}, {"north", 1.0, 160.0, 160.0}, {"south", 100.0 / 170, 100.0, 170.0}}},

		{kpi: "historic_clv", grain: GrainNone, want: []row{{"", 144.0, 720.0, 5.0}}},
		{kpi: "historic_clv", grain: GrainMonth, want: []row{{jan, 150.0, 450.0, 3.0}, {feb, 176.67, 530.0, 3.0}, {mar, 144.0, 720.0, 5.0}}},
		{kpi: "historic_clv", by: "region", want: []row{{"east", 90.0, 90.0, 1.0}, {"north", 230.0, 460.0, 2.0}, {"south", 85.0, 170.0, 2.0}}},
	})
}

// Six customers with revenue 10, 20, ..., 60 in one month: ceil(6/5) = 2
// customers make the top 20%: 60 + 50 = 110 of 210. Ties (two customers at
// 60) count one of them once: 60 + 60 of 220.
func TestCatalogTop20Rounding(t *testing.T) {
	e := handBuilt(t)
	orders := "order_id,customer_id,order_date,amount\n"
	for i := 1; i <= 6; i++ {
		orders += fmt.Sprintf("x%d,c%d,2024-05-0%d 10:00:00,%d\n", i, i, i, 10*i)
	}
	mustImport(t, e, "orders", writeFile(t, "orders.csv", orders))
	runCatalogCases(t, e, []catalogCase{
		{kpi: "top20_revenue_share", from: "2024-05-01", to: "2024-06-01", want: []row{{"", 110.0 / 210, 110.0, 210.0}}},
	})
	mustImport(t, e, "orders", writeFile(t, "orders.csv", strings.Replace(orders, ",10\n", ",60\n", 1)))
	runCatalogCases(t, e, []catalogCase{
		{kpi: "top20_revenue_share", from: "2024-05-01", to: "2024-06-01", want: []row{{"", 120.0 / 260, 120.0, 260.0}}},
	})
}

func TestCatalogAcquisitionKPIs(t *testing.T) {
	runCatalogCases(t, catalogEngine(t), []catalogCase{
		// c6 has no order, but signed up in January; north has no signup in W.
		{kpi: "acquired_customers", grain: GrainNone, want: []row{{"", 4.0, nil, nil}}},
		{kpi: "acquired_customers", grain: GrainMonth, want: []row{{jan, 2.0, nil, nil}, {feb, 1.0, nil, nil}, {mar, 1.0, nil, nil}}},
		{kpi: "acquired_customers", by: "region", want: []row{{"east", 1.0, nil, nil}, {"south", 2.0, nil, nil}, {"west", 1.0, nil, nil}}},

		{kpi: "cac", grain: GrainNone, want: []row{{"", 232.5, 930.0, 4.0}}},
		{kpi: "cac", grain: GrainMonth, want: []row{{jan, 175.0, 350.0, 2.0}, {feb, 300.0, 300.0, 1.0}, {mar, 280.0, 280.0, 1.0}}},
		{kpi: "cac", by: "acquisition_channel", want: []row{
			{"email", 180.0, 180.0, 1.0}, {"referral", 50.0, 50.0, 1.0},
			{"search", 300.0, 600.0, 2.0}, {"social", nullV, 100.0, 0.0},
		}},
		{kpi: "cac", by: "channel", want: []row{
			{"email", 180.0, 180.0, 1.0}, {"referral", 50.0, 50.0, 1.0},
			{"search", 300.0, 600.0, 2.0}, {"social", nullV, 100.0, 0.0},
		}},
		// Jan: referral 50 / c3, search 300 / c6; Feb: search 200 / c4,
		// social 100 / none; Mar: email 180 / c5, search 100 / none.
		{kpi: "cac", grain: GrainMonth, by: "acquisition_channel", want: []row{
			{jan + "|referral", 50.0, 50.0, 1.0}, {jan + "|search", 300.0, 300.0, 1.0},
			{feb + "|search", 200.0, 200.0, 1.0}, {feb + "|social", nullV, 100.0, 0.0},
			{mar + "|email", 180.0, 180.0, 1.0}, {mar + "|search", nullV, 100.0, 0.0},
		}},

		{kpi: "referral_rate", grain: GrainNone, want: []row{{"", 0.25, 1.0, 4.0}}},
		{kpi: "referral_rate", grain: GrainMonth, want: []row{{jan, 0.5, 1.0, 2.0}, {feb, 0.0, 0.0, 1.0}, {mar, 0.0, 0.0, 1.0}}},
		{kpi: "referral_rate", by: "region", want: []row{{"east", 0.0, 0.0, 1.0}, {"south", 0.5, 1.0, 2.0}, {"west", 0.0, 0.0, 1.0}}},

		{kpi: "new_customer_growth", grain: GrainNone, want: []row{{"", 0.5, 1.0, 2.0}}},
		{kpi: "new_customer_growth", grain: GrainMonth, want: []row{{jan, -0.5, -1.0, 2.0}, {feb, -1.0, -1.0, 1.0}, {mar, nullV, 2.0, 0.0}}},
		{kpi: "new_customer_growth", by: "region", want: []row{{"east", nullV, 1.0, 0.0}, {"north", -1.0, -2.0, 2.0}, {"south", nullV, 2.0, 0.0}}},
	})
}

// Suspected churn. Distinct completed order dates before Apr 1: c1 Dec 10,
// Jan 5, Feb 20, Mar 28 (gaps 26, 46, 37: median 37); c3 Jan 12, Jan 25 and
// c2 Dec 20 (and Apr 10 before June) have fewer than 3: only c1 is eligible.
//
//	W (end Apr 1): c1 last Mar 28, 4 days <= 2*37 → 0/1
//	Jan (end Feb 1): c1 has 2 dates → nobody eligible, 0/0 null
//	Feb (end Mar 1): c1 Dec 10, Jan 5, Feb 20 (gaps 26, 46: median 36),
//	                 10 days <= 72 → 0/1
//	[Apr 1, Jun 1): c1 65 days since Mar 28; 65 <= 2*37 = 74 is not
//	                flagged, 65 > 1*37 is: 0/1 by default, 1/1 with k = 1.
func TestCatalogSuspectedChurn(t *testing.T) {
	runCatalogCases(t, handBuilt(t), []catalogCase{
		{kpi: "suspected_churn_rate", grain: GrainNone, want: []row{{"", 0.0, 0.0, 1.0}}},
		{kpi: "suspected_churn_rate", grain: GrainMonth, want: []row{{jan, nullV, 0.0, 0.0}, {feb, 0.0, 0.0, 1.0}, {mar, 0.0, 0.0, 1.0}}},
		{kpi: "suspected_churn_rate", by: "region", want: []row{{"north", 0.0, 0.0, 1.0}}},
		{kpi: "suspected_churn_rate", from: "2024-04-01", to: "2024-06-01", want: []row{{"", 0.0, 0.0, 1.0}}},
		{kpi: "suspected_churn_rate", from: "2024-04-01", to: "2024-06-01", params: map[string]string{"cycle_multiplier": "2"}, want: []row{{"", 0.0, 0.0, 1.0}}},
		{kpi: "suspected_churn_rate", from: "2024-04-01", to: "2024-06-01", params: map[string]string{"cycle_multiplier": "1"}, want: []row{{"", 1.0, 1.0, 1.0}}},
		{kpi: "suspected_churn_rate", from: "2024-04-01", to: "2024-06-01", params: map[string]string{"cycle_multiplier": "1.75"}, want: []row{{"", 1.0, 1.0, 1.0}}},
	})
}

// Churn rate version 2 (inactivity): customers with a completed order in the
// 12 months before the window start, churned when their last completed
// order before the window end is more than inactive_days (90) days before it.
//
//	W: active in 2023: c1, c2. At Apr 1 c1 4 days, c2 103 (Dec 20) → 1/2,
//	   which version 1 also gives (c2 is not active in W). With
//	   inactive_days = 120: 0/2.
//	Jan (12 months before Jan 1: c1, c2): at Feb 1 c1 27, c2 43 → 0/2
//	Feb (before Feb 1: c1, c2, c3):     at Mar 1 c1 10, c2 72, c3 36 → 0/3
//	Mar (before Mar 1: c1, c2, c3; c4's Feb order was cancelled):
//	                                    at Apr 1 c1 4, c2 103, c3 67 → 1/3
//	by region: only north customers ordered before 2024 → north 1/2.
//
// On [2024-02-01, 2024-04-01) (60 days, W_prev from 2023-12-03) the versions
// differ. Version 1: A(W_prev) = {c1, c2, c3}, A(W) = {c1, c4, c5} → 2/3
// churned. Version 2: active Feb 2023 .. Jan 2024 c1, c2, c3; at Apr 1 only
// c2 (103 days) → 1/3.
func TestCatalogChurnRateV2(t *testing.T) {
	e := handBuilt(t)
	runCatalogCases(t, e, []catalogCase{
		{kpi: "churn_rate", version: 2, grain: GrainNone, want: []row{{"", 0.5, 1.0, 2.0}}},
		{kpi: "churn_rate", version: 2, grain: GrainNone, params: map[string]string{"inactive_days": "120"}, want: []row{{"", 0.0, 0.0, 2.0}}},
		{kpi: "churn_rate", version: 2, grain: GrainMonth, want: []row{{jan, 0.0, 0.0, 2.0}, {feb, 0.0, 0.0, 3.0}, {mar, 1.0 / 3, 1.0, 3.0}}},
		{kpi: "churn_rate", version: 2, by: "region", want: []row{{"north", 0.5, 1.0, 2.0}}},
		{kpi: "churn_rate", version: 1, from: "2024-02-01", to: "2024-04-01", want: []row{{"", 2.0 / 3, 2.0, 3.0}}},
		{kpi: "churn_rate", version: 2, from: "2024-02-01", to: "2024-04-01", want: []row{{"", 1.0 / 3, 1.0, 3.0}}},
	})
	// Version 1 stays the default.
	res, err := e.Run(context.Background(), Query{KPI: "churn_rate", From: date("2024-02-01"), To: date("2024-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != 1 {
		t.Errorf("default churn_rate is version %d, want 1", res.Version)
	}
	assertRows(t, res, []row{{"", 2.0 / 3, 2.0, 3.0}})
	// inactive_days belongs to version 2 only.
	if _, err := e.Run(context.Background(), Query{KPI: "churn_rate", Params: map[string]string{"inactive_days": "30"}}); ErrorCode(err) != CodeInvalidParameter {
		t.Errorf("inactive_days on version 1: %v, want invalid_parameter", err)
	}
}

func TestCatalogSatisfactionKPIs(t *testing.T) {
	runCatalogCases(t, catalogEngine(t), []catalogCase{
		// csat in W: 4, 2, 5, 3, 4 (s5 has none). Jan s2 4 + s3 2; Feb s4 5;
		// Mar s6 3 + s7 4. north s2 + s4, south s3, east s6, west s7.
		{kpi: "csat_avg", grain: GrainNone, want: []row{{"", 3.6, 18.0, 5.0}}},
		{kpi: "csat_avg", grain: GrainMonth, want: []row{{jan, 3.0, 6.0, 2.0}, {feb, 5.0, 5.0, 1.0}, {mar, 3.5, 7.0, 2.0}}},
		{kpi: "csat_avg", by: "region", want: []row{{"east", 3.0, 3.0, 1.0}, {"north", 4.5, 9.0, 2.0}, {"south", 2.0, 2.0, 1.0}, {"west", 4.0, 4.0, 1.0}}},

		// csat >= 4: s2, s4, s7.
		{kpi: "csat_satisfied_share", grain: GrainNone, want: []row{{"", 0.6, 3.0, 5.0}}},
		{kpi: "csat_satisfied_share", grain: GrainMonth, want: []row{{jan, 0.5, 1.0, 2.0}, {feb, 1.0, 1.0, 1.0}, {mar, 0.5, 1.0, 2.0}}},
		{kpi: "csat_satisfied_share", by: "region", want: []row{{"east", 0.0, 0.0, 1.0}, {"north", 1.0, 2.0, 2.0}, {"south", 0.0, 0.0, 1.0}, {"west", 1.0, 1.0, 1.0}}},

		// nps in W: s2 9 P, s3 3 D, s4 7, s5 10 P, s7 8 (s6 none) → (2-1)/5.
		// Jan P + D → 0/2; Feb passive 0/1; Mar P + passive → 1/2.
		// north P + passive 1/2, south D + P 0/2, west passive 0/1; east
		// (s6) has no nps: no row.
		{kpi: "nps", grain: GrainNone, want: []row{{"", 20.0, 1.0, 5.0}}},
		{kpi: "nps", grain: GrainMonth, want: []row{{jan, 0.0, 0.0, 2.0}, {feb, 0.0, 0.0, 1.0}, {mar, 50.0, 1.0, 2.0}}},
		{kpi: "nps", by: "region", want: []row{{"north", 50.0, 1.0, 2.0}, {"south", 0.0, 0.0, 2.0}, {"west", 0.0, 0.0, 1.0}}},

		// CSI, equal weights (quality, service means; numerator
		// Σ(mean - 1)/4, denominator 2):
		//   Jan s2 s3: quality 3, service 3 → (2+2)/4 = 1 → 50
		//   Feb s4: 5, 4 → (4+3)/4 = 1.75 → 87.5
		//   Mar s5 s6 s7: quality (3+4)/2 = 3.5, service (5+2+5)/3 = 4
		//       → (2.5+3)/4 = 1.375 → 68.75
		//   north s2 s4: 4.5, 3.5 → 1.5 → 75; south s3 s5: 2, 5 → 1.25
		//   → 62.5; east s6: 3, 2 → 0.75 → 37.5; west s7: 4, 5 → 1.75 → 87.5
		{kpi: "csi", grain: GrainNone, want: []row{{"", 67.5, 1.35, 2.0}}},
		{kpi: "csi", grain: GrainMonth, want: []row{{jan, 50.0, 1.0, 2.0}, {feb, 87.5, 1.75, 2.0}, {mar, 68.75, 1.375, 2.0}}},
		{kpi: "csi", by: "region", want: []row{{"east", 37.5, 0.75, 2.0}, {"north", 75.0, 1.5, 2.0}, {"south", 62.5, 1.25, 2.0}, {"west", 87.5, 1.75, 2.0}}},
		// Weighted 0.4 / 0.6: (0.4*2.6 + 0.6*2.8)/4 = 0.68 over 1 → 68.
		{kpi: "csi", params: map[string]string{"weights": "score_product_quality:0.4,score_service:0.6"}, want: []row{{"", 68.0, 0.68, 1.0}}},
		// Weights need not sum to 1: 2 and 3 give the same index.
		{kpi: "csi", params: map[string]string{"weights": "score_product_quality:2, score_service:3"}, want: []row{{"", 68.0, 3.4, 5.0}}},
		// A column the weights do not name weighs 0: quality alone,
		// (3.6-1)/4 = 0.65 → 65. An empty value means equal weights.
		{kpi: "csi", params: map[string]string{"weights": "score_product_quality:1"}, want: []row{{"", 65.0, 0.65, 1.0}}},
		{kpi: "csi", params: map[string]string{"weights": ""}, want: []row{{"", 67.5, 1.35, 2.0}}},

		// Complaints: A(W) = {c1, c3, c4, c5}; complaints opened in W by c3
		// (Jan), c2 (Feb, not active), c5 and c1 (Mar) → c1 c3 c5 = 3/4.
		// Jan A {c1, c3}: c3 → 1/2; Feb A {c1}: 0/1; Mar A {c1, c4, c5}:
		// c1 c5 → 2/3. north c1 1/1, south c3 (not c4) 1/2, east c5 1/1.
		{kpi: "complaint_rate", grain: GrainNone, want: []row{{"", 0.75, 3.0, 4.0}}},
		{kpi: "complaint_rate", grain: GrainMonth, want: []row{{jan, 0.5, 1.0, 2.0}, {feb, 0.0, 0.0, 1.0}, {mar, 2.0 / 3, 2.0, 3.0}}},
		{kpi: "complaint_rate", by: "region", want: []row{{"east", 1.0, 1.0, 1.0}, {"north", 1.0, 1.0, 1.0}, {"south", 0.5, 1.0, 2.0}}},

		// Returns: 7 completed + o5 returned (c2, Jan) in W; o9 cancelled is
		// neither. Jan o2 o7 o8 o5 → 1/4; Feb o3 → 0/1; Mar o10 o11 o12 →
		// 0/3. north c1 o2 o3 o12 + c2 o5 → 1/4, south o7 o8 o10, east o11.
		{kpi: "return_rate", grain: GrainNone, want: []row{{"", 0.125, 1.0, 8.0}}},
		{kpi: "return_rate", grain: GrainMonth, want: []row{{jan, 0.25, 1.0, 4.0}, {feb, 0.0, 0.0, 1.0}, {mar, 0.0, 0.0, 3.0}}},
		{kpi: "return_rate", by: "region", want: []row{{"east", 0.0, 0.0, 1.0}, {"north", 0.25, 1.0, 4.0}, {"south", 0.0, 0.0, 3.0}}},

		// First response hours in W: t4 1, t2 2, t6 4, t3 6, t7 10 (t5 has
		// none). p50 4; p90 at position 3.6: 6 + 0.6*4 = 8.4.
		// Jan 2, 6: p50 4, p90 2 + 0.9*4 = 5.6. Feb 1. Mar 4, 10: p50 7,
		// p90 4 + 0.9*6 = 9.4. north t4 1, t2 2, t7 10: p50 2, p90 at 1.8:
		// 2 + 0.8*8 = 8.4. south t3 6. east t6 4.
		{kpi: "first_response_hours_p50", grain: GrainNone, want: []row{{"", 4.0, nil, nil}}},
		{kpi: "first_response_hours_p50", grain: GrainMonth, want: []row{{jan, 4.0, nil, nil}, {feb, 1.0, nil, nil}, {mar, 7.0, nil, nil}}},
		{kpi: "first_response_hours_p50", by: "region", want: []row{{"east", 4.0, nil, nil}, {"north", 2.0, nil, nil}, {"south", 6.0, nil, nil}}},
		{kpi: "first_response_hours_p90", grain: GrainNone, want: []row{{"", 8.4, nil, nil}}},
		{kpi: "first_response_hours_p90", grain: GrainMonth, want: []row{{jan, 5.6, nil, nil}, {feb, 1.0, nil, nil}, {mar, 9.4, nil, nil}}},
		{kpi: "first_response_hours_p90", by: "region", want: []row{{"east", 4.0, nil, nil}, {"north", 8.4, nil, nil}, {"south", 6.0, nil, nil}}},

		// Resolved of the 6 tickets opened in W: t2 t3 t6 t7. Jan t2 t3 2/2;
		// Feb t4 0/1; Mar t5 t6 t7 2/3. north t2 t4 t7 2/3, south t3 t5
		// 1/2, east t6 1/1.
		{kpi: "resolution_rate", grain: GrainNone, want: []row{{"", 4.0 / 6, 4.0, 6.0}}},
		{kpi: "resolution_rate", grain: GrainMonth, want: []row{{jan, 1.0, 2.0, 2.0}, {feb, 0.0, 0.0, 1.0}, {mar, 2.0 / 3, 2.0, 3.0}}},
		{kpi: "resolution_rate", by: "region", want: []row{{"east", 1.0, 1.0, 1.0}, {"north", 2.0 / 3, 2.0, 3.0}, {"south", 0.5, 1.0, 2.0}}},

		// Resolution hours: t2 24, t3 36, t6 24.5, t7 24 → 108.5/4. Jan
		// 60/2; Feb none resolved: null; Mar 48.5/2. north t2 t7 48/2, south
		// t3 36, east t6 24.5.
		{kpi: "avg_resolution_hours", grain: GrainNone, want: []row{{"", 27.125, 108.5, 4.0}}},
		{kpi: "avg_resolution_hours", grain: GrainMonth, want: []row{{jan, 30.0, 60.0, 2.0}, {feb, nullV, 0.0, 0.0}, {mar, 24.25, 48.5, 2.0}}},
		{kpi: "avg_resolution_hours", by: "region", want: []row{{"east", 24.5, 24.5, 1.0}, {"north", 24.0, 48.0, 2.0}, {"south", 36.0, 36.0, 1.0}}},

		// Contracts: k3 Jan no; k2 Feb yes; k5, k4 Mar yes → 3/4.
		// north k2 k3 1/2, south k4 k5 2/2.
		{kpi: "contract_renewal_rate", grain: GrainNone, want: []row{{"", 0.75, 3.0, 4.0}}},
		{kpi: "contract_renewal_rate", grain: GrainMonth, want: []row{{jan, 0.0, 0.0, 1.0}, {feb, 1.0, 1.0, 1.0}, {mar, 1.0, 2.0, 2.0}}},
		{kpi: "contract_renewal_rate", by: "region", want: []row{{"north", 0.5, 1.0, 2.0}, {"south", 1.0, 2.0, 2.0}}},
	})
}

// On-time delivery needs promised_date and delivered_date, which the
// hand-built orders.csv lacks: the same orders with both dates.
//
//	o2 c1 Jan promised Jan 10, delivered Jan 9: on time
//	o7 c3 Jan promised = delivered Jan 17 12:00: on time
//	o8 c3 Jan not delivered: left out
//	o3 c1 Feb promised Feb 25, delivered Feb 27: late
//	o10 c4 Mar (null status) promised Mar 20, delivered Mar 22: late
//	o11 c5 Mar promised Mar 25, delivered Mar 24: on time
//	o12 c1 Mar no promise: left out; o5 returned, o9 cancelled: left out
//
// → 3/5; Jan 2/2, Feb 0/1, Mar 1/2; north o2 o3 1/2, south o7 o10 1/2,
// east o11 1/1.
const deliveryOrders = `order_id,customer_id,order_date,amount,cost,status,promised_date,delivered_date
o1,c1,2023-12-10 10:00:00,100,60,completed,2023-12-15 00:00:00,2023-12-14 09:00:00
o2,c1,2024-01-05 09:30:00,50,30,completed,2024-01-10 00:00:00,2024-01-09 15:00:00
o3,c1,2024-02-20 14:00:00,80,50,completed,2024-02-25 00:00:00,2024-02-27 10:00:00
o4,c2,2023-12-20 11:00:00,200,150,completed,2023-12-27 00:00:00,2023-12-22 10:00:00
o5,c2,2024-01-15 16:00:00,300,200,returned,2024-01-20 00:00:00,2024-01-19 10:00:00
o6,c2,2024-04-10 08:00:00,120,80,completed,2024-04-15 00:00:00,2024-04-16 10:00:00
o7,c3,2024-01-12 12:00:00,40,20,completed,2024-01-17 12:00:00,2024-01-17 12:00:00
o8,c3,2024-01-25 13:00:00,60,,completed,2024-01-30 00:00:00,
o9,c4,2024-02-03 10:00:00,500,300,cancelled,,
o10,c4,2024-03-15 18:00:00,70,40,,2024-03-20 00:00:00,2024-03-22 11:00:00
o11,c5,2024-03-20 19:00:00,90,50,completed,2024-03-25 00:00:00,2024-03-24 08:00:00
o12,c1,2024-03-28 20:00:00,30,20,completed,,2024-04-02 10:00:00
`

func TestCatalogOnTimeDelivery(t *testing.T) {
	e := handBuilt(t)
	// The hand-built orders have no delivery dates: missing_column, not 0.
	if _, err := e.Run(context.Background(), Query{KPI: "on_time_delivery_rate", From: date("2024-01-01"), To: date("2024-04-01")}); ErrorCode(err) != CodeMissingColumn {
		t.Fatalf("on_time_delivery_rate without delivery dates: %v, want missing_column", err)
	}
	mustImport(t, e, "orders", writeFile(t, "orders.csv", deliveryOrders))
	runCatalogCases(t, e, []catalogCase{
		{kpi: "on_time_delivery_rate", grain: GrainNone, want: []row{{"", 0.6, 3.0, 5.0}}},
		{kpi: "on_time_delivery_rate", grain: GrainMonth, want: []row{{jan, 1.0, 2.0, 2.0}, {feb, 0.0, 0.0, 1.0}, {mar, 0.5, 1.0, 2.0}}},
		{kpi: "on_time_delivery_rate", by: "region", want: []row{{"east", 1.0, 1.0, 1.0}, {"north", 0.5, 1.0, 2.0}, {"south", 0.5, 1.0, 2.0}}},
		// The same orders: the revenue KPIs answer as on orders.csv.
		{kpi: "gross_profit", grain: GrainNone, want: []row{{"", 150.0, nil, nil}}},
	})
}

func TestCatalogEngagementKPIs(t *testing.T) {
	runCatalogCases(t, catalogEngine(t), []catalogCase{
		// open / sent: 5/8; Jan 2/2, Feb 1/2, Mar 2/4; north 2/3, south
		// 2/4, east 1/1 (west: c6's only mail is in April, no row).
		{kpi: "email_open_rate", grain: GrainNone, want: []row{{"", 0.625, 5.0, 8.0}}},
		{kpi: "email_open_rate", grain: GrainMonth, want: []row{{jan, 1.0, 2.0, 2.0}, {feb, 0.5, 1.0, 2.0}, {mar, 0.5, 2.0, 4.0}}},
		{kpi: "email_open_rate", by: "region", want: []row{{"east", 1.0, 1.0, 1.0}, {"north", 2.0 / 3, 2.0, 3.0}, {"south", 0.5, 2.0, 4.0}}},
		// click / sent: 3/8; Jan 1/2, Feb 0/2, Mar 2/4; north 1/3, south
		// 1/4, east 1/1.
		{kpi: "email_click_rate", grain: GrainNone, want: []row{{"", 0.375, 3.0, 8.0}}},
		{kpi: "email_click_rate", grain: GrainMonth, want: []row{{jan, 0.5, 1.0, 2.0}, {feb, 0.0, 0.0, 2.0}, {mar, 0.5, 2.0, 4.0}}},
		{kpi: "email_click_rate", by: "region", want: []row{{"east", 1.0, 1.0, 1.0}, {"north", 1.0 / 3, 1.0, 3.0}, {"south", 0.25, 1.0, 4.0}}},
		// click / open: 3/5; Jan 1/2, Feb 0/1, Mar 2/2; north 1/2, south
		// 1/2, east 1/1.
		{kpi: "email_click_to_open", grain: GrainNone, want: []row{{"", 0.6, 3.0, 5.0}}},
		{kpi: "email_click_to_open", grain: GrainMonth, want: []row{{jan, 0.5, 1.0, 2.0}, {feb, 0.0, 0.0, 1.0}, {mar, 1.0, 2.0, 2.0}}},
		{kpi: "email_click_to_open", by: "region", want: []row{{"east", 1.0, 1.0, 1.0}, {"north", 0.5, 1.0, 2.0}, {"south", 0.5, 1.0, 2.0}}},
		// engagements / impressions: 4/6; Jan 1/1, Feb 2/3, Mar 1/2; north
		// 1/1, south 2/3, east 0/1, west 1/1.
		{kpi: "social_engagement_rate", grain: GrainNone, want: []row{{"", 4.0 / 6, 4.0, 6.0}}},
		{kpi: "social_engagement_rate", grain: GrainMonth, want: []row{{jan, 1.0, 1.0, 1.0}, {feb, 2.0 / 3, 2.0, 3.0}, {mar, 0.5, 1.0, 2.0}}},
		{kpi: "social_engagement_rate", by: "region", want: []row{{"east", 0.0, 0.0, 1.0}, {"north", 1.0, 1.0, 1.0}, {"south", 2.0 / 3, 2.0, 3.0}, {"west", 1.0, 1.0, 1.0}}},
	})
}

// Cohorts (month of the first completed order): c1, c2 December 2023; c3
// January; c4, c5 March (c4's February order was cancelled). Months with a
// completed order: c1 Dec Jan Feb Mar, c2 Dec Apr (Jan's o5 was returned),
// c3 Jan, c4 Mar, c5 Mar.
//
// W = Q1: cohorts January (offsets 0..2, to March) and March (offset 0).
// The key is cohort|month_offset|customers.
func TestCatalogCohortRetention(t *testing.T) {
	e := handBuilt(t)
	runCatalogCases(t, e, []catalogCase{
		{kpi: "cohort_retention", want: []row{
			{jan + "|0|1", 1.0, 1.0, 1.0}, {jan + "|1|1", 0.0, 0.0, 1.0}, {jan + "|2|1", 0.0, 0.0, 1.0},
			{mar + "|0|2", 1.0, 2.0, 2.0},
		}},
		// By region the cohort cells split: January south (c3); March east
		// (c5) and south (c4). Key cohort|month_offset|region|customers.
		{kpi: "cohort_retention", by: "region", want: []row{
			{jan + "|0|south|1", 1.0, 1.0, 1.0}, {jan + "|1|south|1", 0.0, 0.0, 1.0}, {jan + "|2|south|1", 0.0, 0.0, 1.0},
			{mar + "|0|east|1", 1.0, 1.0, 1.0}, {mar + "|0|south|1", 1.0, 1.0, 1.0},
		}},
		// December 2023 .. April 2024: the December cohort runs 0..4:
		// Dec c1 c2, Jan c1, Feb c1, Mar c1, Apr c2; January 0..3; March
		// 0..1 (nobody in April).
		{kpi: "cohort_retention", from: "2023-12-01", to: "2024-05-01", want: []row{
			{"2023-12-01|0|2", 1.0, 2.0, 2.0}, {"2023-12-01|1|2", 0.5, 1.0, 2.0}, {"2023-12-01|2|2", 0.5, 1.0, 2.0},
			{"2023-12-01|3|2", 0.5, 1.0, 2.0}, {"2023-12-01|4|2", 0.5, 1.0, 2.0},
			{jan + "|0|1", 1.0, 1.0, 1.0}, {jan + "|1|1", 0.0, 0.0, 1.0}, {jan + "|2|1", 0.0, 0.0, 1.0}, {jan + "|3|1", 0.0, 0.0, 1.0},
			{mar + "|0|2", 1.0, 2.0, 2.0}, {mar + "|1|2", 0.0, 0.0, 2.0},
		}},
	})
	// A matrix takes no grain.
	_, err := e.Run(context.Background(), Query{KPI: "cohort_retention", From: date("2024-01-01"), To: date("2024-04-01"), Grain: GrainMonth})
	var ee *Error
	if !asError(err, &ee) || ee.Code != CodeInvalidParameter || ee.Details["parameter"] != "grain" {
		t.Fatalf("cohort_retention by month: %v, want invalid_parameter grain", err)
	}
	res, err := e.Run(context.Background(), Query{KPI: "cohort_retention", From: date("2024-01-01"), To: date("2024-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cohort", "month_offset", "value", "numerator", "denominator", "customers"}; !slices.Equal(res.Columns, want) {
		t.Errorf("columns %v, want %v", res.Columns, want)
	}
}

// A KPI over a dataset that is not imported answers missing_dataset naming
// it, never zeros: every KPI of the catalog that reads a dataset other than
// customers and orders, on the hand-built data.
func TestCatalogMissingDatasets(t *testing.T) {
	e := handBuilt(t)
	n := 0
	for _, k := range e.Catalog().List() {
		for _, d := range k.Versions {
			var absent []string
			for _, kind := range d.Datasets() {
				if kind != "customers" && kind != "orders" {
					absent = append(absent, kind)
				}
			}
			if len(absent) == 0 {
				continue
			}
			n++
			_, err := e.Run(context.Background(), Query{KPI: d.Name, Version: d.Version, From: date("2024-01-01"), To: date("2024-04-01")})
			var ee *Error
			if !asError(err, &ee) || ee.Code != CodeMissingDataset {
				t.Errorf("%s v%d: %v, want missing_dataset", d.Name, d.Version, err)
				continue
			}
			if got, _ := ee.Details["datasets"].([]string); !slices.Equal(got, absent) {
				t.Errorf("%s v%d: missing %v, want %v", d.Name, d.Version, ee.Details["datasets"], absent)
			}
		}
	}
	// surveys x4, tickets x5 (with complaint_rate), events x4,
	// acquisition_spend x1, contracts x1, and predicted_clv the CLV model.
	if n != 16 {
		t.Errorf("%d KPIs read an optional dataset, want 16", n)
	}
}

// Profit KPIs on orders imported without a cost column answer
// missing_column; so does referral_rate on customers without referred_by.
func TestCatalogMissingColumns(t *testing.T) {
	e := handBuilt(t)
	mustImport(t, e, "orders", writeFile(t, "orders.csv", `order_id,customer_id,order_date,amount,status
o1,c1,2023-12-10 10:00:00,100,completed
o2,c1,2024-01-05 09:30:00,50,completed
`))
	for _, kpi := range []string{"gross_profit", "profit_margin", "customer_profitability"} {
		_, err := e.Run(context.Background(), Query{KPI: kpi, From: date("2024-01-01"), To: date("2024-04-01")})
		var ee *Error
		if !asError(err, &ee) || ee.Code != CodeMissingColumn || ee.Details["column"] != "cost" {
			t.Errorf("%s without cost: %v, want missing_column cost", kpi, err)
		}
	}
	// The KPIs that do not need cost still answer: revenue 50.
	runCatalogCases(t, e, []catalogCase{{kpi: "revenue", want: []row{{"", 50.0, nil, nil}}}})

	e2 := mustOpen(t)
	mustImport(t, e2, "customers", writeFile(t, "customers.csv", "customer_id,signup_date\nc1,2024-01-05\n"))
	if _, err := e2.Run(context.Background(), Query{KPI: "referral_rate", From: date("2024-01-01"), To: date("2024-04-01")}); ErrorCode(err) != CodeMissingColumn {
		t.Errorf("referral_rate without referred_by: %v, want missing_column", err)
	}
	runCatalogCases(t, e2, []catalogCase{{kpi: "acquired_customers", want: []row{{"", 1.0, nil, nil}}}})
}

// Weights are checked against the loaded score_* columns: a number that is
// not one, or a misspelt column, is a 400 naming the parameter.
func TestCatalogCSIBadWeights(t *testing.T) {
	e := catalogEngine(t)
	for _, w := range []string{"score_service:abc", "score_servise:1", "score_service:-1"} {
		_, err := e.Run(context.Background(), Query{KPI: "csi", From: date("2024-01-01"), To: date("2024-04-01"),
			Params: map[string]string{"weights": w}})
		var ee *Error
		if !asError(err, &ee) || ee.Code != CodeInvalidParameter || ee.Details["parameter"] != "weights" {
			t.Errorf("weights %s: %v, want invalid_parameter naming weights", w, err)
		}
	}
}

// Surveys without any score_* column: the CSI has nothing to average, so
// it answers missing_column (never a number), while the other survey KPIs
// answer.
func TestCatalogCSIWithoutScores(t *testing.T) {
	e := handBuilt(t)
	mustImport(t, e, "surveys", writeFile(t, "surveys.csv", "response_id,customer_id,survey_date,csat,nps\nr1,c1,2024-01-10 09:00:00,4,9\n"))
	if _, err := e.Run(context.Background(), Query{KPI: "csi", From: date("2024-01-01"), To: date("2024-04-01")}); ErrorCode(err) != CodeMissingColumn {
		t.Errorf("csi without score columns: %v, want missing_column", err)
	}
	runCatalogCases(t, e, []catalogCase{
		{kpi: "csat_avg", want: []row{{"", 4.0, 4.0, 1.0}}},
	})
}

// Months without any data: counts answer 0, ratios null with 0/0 (not a null
// numerator), quantiles null. Nothing in the hand-built datasets is dated in
// July or August 2024 (the last contract ends in June).
func TestCatalogEmptyPeriods(t *testing.T) {
	e := catalogEngine(t)
	const jul, aug = "2024-07-01", "2024-08-01"
	empty := []row{{jul, nullV, 0.0, 0.0}, {aug, nullV, 0.0, 0.0}}
	var cases []catalogCase
	for _, kpi := range []string{
		"profit_margin", "customer_profitability", "top20_revenue_share",
		"cac", "referral_rate", "new_customer_growth",
		"csat_avg", "csat_satisfied_share", "nps", "csi", "complaint_rate", "return_rate",
		"resolution_rate", "avg_resolution_hours", "contract_renewal_rate",
		"email_open_rate", "email_click_rate", "email_click_to_open", "social_engagement_rate",
	} {
		cases = append(cases, catalogCase{kpi: kpi, grain: GrainMonth, from: jul, to: "2024-09-01", want: empty})
	}
	for _, kpi := range []string{"gross_profit", "acquired_customers"} {
		cases = append(cases, catalogCase{kpi: kpi, grain: GrainMonth, from: jul, to: "2024-09-01", want: []row{{jul, 0.0, nil, nil}, {aug, 0.0, nil, nil}}})
	}
	for _, kpi := range []string{"first_response_hours_p50", "first_response_hours_p90"} {
		cases = append(cases, catalogCase{kpi: kpi, grain: GrainMonth, from: jul, to: "2024-09-01", want: []row{{jul, nullV, nil, nil}, {aug, nullV, nil, nil}}})
	}
	runCatalogCases(t, e, cases)
}

// cac groups by acquisition_channel as every other KPI calls the customers
// column; channel, its former name, stays an alias. The column is named as
// asked, both names at once are one dimension given twice, and the catalog
// lists both.
func TestCACDimensionNames(t *testing.T) {
	e := catalogEngine(t)
	ctx := context.Background()
	for _, by := range []string{"acquisition_channel", "channel"} {
		res, err := e.Run(ctx, Query{KPI: "cac", From: date(jan), To: date("2024-04-01"), By: []string{by}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.Columns, ",") != by+",value,numerator,denominator" || strings.Join(res.By, ",") != by {
			t.Errorf("by=%s: columns %v, by %v", by, res.Columns, res.By)
		}
	}
	_, err := e.Run(ctx, Query{KPI: "cac", By: []string{"channel", "acquisition_channel"}})
	if ErrorCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("by=channel,acquisition_channel: %v", err)
	}
	_, err = e.Run(ctx, Query{KPI: "cac", By: []string{"region"}})
	if ErrorCode(err) != CodeUnknownDimension || !strings.Contains(err.Error(), "acquisition_channel, channel") {
		t.Errorf("by=region: %v", err)
	}
	k, _ := e.catalog.Lookup("cac")
	if dims, err := e.Dimensions(ctx, k.Default); err != nil || strings.Join(dims, ",") != "acquisition_channel,channel" {
		t.Errorf("cac dimensions %v %v", dims, err)
	}
	// A target scoped by the alias applies on the scorecard.
	if _, err := e.SetTarget(ctx, Target{KPI: "cac", Target: 200, WarnWithin: 10, By: map[string]string{"channel": "search"}}); err != nil {
		t.Fatal(err)
	}
	sc, err := e.Scorecard(ctx, date(jan), date("2024-04-01"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range sc.Rows {
		if r.KPI == "cac" && r.By["channel"] == "search" {
			found = true
			approx(t, "cac search", r.Value, 300)
		}
	}
	if !found {
		t.Error("no scorecard row for cac channel=search")
	}
}
