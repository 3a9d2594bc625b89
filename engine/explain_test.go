package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plantedChurn writes customers and orders where churn (churn_rate v1:
// active in the previous quarter, not in the quarter) is 20% everywhere in
// Q1 2024 and in Q2 2024 except in one region, where it rises to 50%.
// Segments and age bands are spread evenly, so no other group holds most
// of the customers.
func plantedChurn(tb testing.TB, n int, planted string) *Engine {
	tb.Helper()
	dir := tb.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))
	regions := []string{"north", "south", "east", "west"}
	var cust, ord strings.Builder
	cust.WriteString("customer_id,signup_date,region,segment,acquisition_channel,age\n")
	ord.WriteString("order_id,customer_id,order_date,amount\n")
	oid := 0
	order := func(id, day string) {
		oid++
		fmt.Fprintf(&ord, "o%d,%s,%s 10:00:00,50\n", oid, id, day)
	}
	for i := range n {
		id := fmt.Sprintf("c%d", i)
		region := regions[rng.IntN(len(regions))]
		fmt.Fprintf(&cust, "%s,2023-01-01,%s,%s,%s,%d\n", id, region, []string{"b2b", "b2c"}[rng.IntN(2)],
			[]string{"search", "social", "referral"}[rng.IntN(3)], 20+rng.IntN(50))
		order(id, "2023-11-15")
		if rng.Float64() < 0.2 {
			continue // churned in Q1: not in the Q2 denominator
		}
		order(id, "2024-02-15")
		stay := 0.8
		if region == planted {
			stay = 0.5
		}
		if rng.Float64() < stay {
			order(id, "2024-05-15")
		}
	}
	for name, body := range map[string]string{"customers.csv": cust.String(), "orders.csv": ord.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	e := mustOpen(tb)
	mustImport(tb, e, "customers", filepath.Join(dir, "customers.csv"))
	mustImport(tb, e, "orders", filepath.Join(dir, "orders.csv"))
	return e
}

// The planted rise of churn in one region ranks first, is not noise, and
// each dimension's contributions sum to the total change.
func TestExplainPlantedChurnRise(t *testing.T) {
	e := plantedChurn(t, 4000, "east")
	x, err := e.Explain(context.Background(), Query{KPI: "churn_rate", From: date("2024-04-01"), To: date("2024-07-01")})
	if err != nil {
		t.Fatal(err)
	}
	if x.PreviousFrom != "2024-01-01" {
		t.Errorf("previous_from %s", x.PreviousFrom)
	}
	top := x.Drivers[0]
	if top.Dimension != "region" || top.Value != "east" {
		t.Fatalf("top driver %s=%v, want region=east; drivers %+v", top.Dimension, top.Value, x.Drivers[:5])
	}
	if top.WithinNoise == nil || *top.WithinNoise {
		t.Errorf("the planted rise is flagged as noise: z %v p %v", top.Z, top.PValue)
	}
	if *top.ShareOfChange < 0.7 {
		t.Errorf("east explains %v of the change, want most of it", *top.ShareOfChange)
	}
	for _, want := range []string{"region", "segment", "acquisition_channel", "age_band"} {
		if !strings.Contains(strings.Join(x.Dimensions, ","), want) {
			t.Errorf("dimension %s not split: %v (skipped %v)", want, x.Dimensions, x.Skipped)
		}
	}
	sums := map[string]float64{}
	for _, d := range x.Drivers {
		sums[d.Dimension] += *d.Contribution
	}
	for dim, s := range sums {
		if math.Abs(s-*x.TotalChange) > 1e-9 {
			t.Errorf("%s contributions sum to %v, total change %v", dim, s, *x.TotalChange)
		}
	}
	// age is split by its bands; signup_date has one value here: skipped,
	// and said so.
	if len(x.Skipped) != 2 || x.Skipped[0].Dimension != "signup_date" || x.Skipped[1].Dimension != "age" {
		t.Errorf("skipped %+v", x.Skipped)
	}
}

// On the hand-built data the region drivers are Variance's rows (the same
// arithmetic, from one grouping-sets statement), and segment's too.
func TestExplainMatchesVariance(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	q := Query{KPI: "avg_order_value", From: date("2024-01-01"), To: date("2024-04-01")}
	x, err := e.Explain(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "total change", x.TotalChange, -90)
	for _, dim := range []string{"region", "segment"} {
		q.By = []string{dim}
		v, err := e.Variance(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range v.Rows {
			found := false
			for _, d := range x.Drivers {
				if d.Dimension == dim && d.Value == r[dim] {
					found = true
					approx(t, fmt.Sprintf("%s=%v rate", dim, r[dim]), d.RateEffect, r["rate_effect"].(float64))
					approx(t, fmt.Sprintf("%s=%v mix", dim, r[dim]), d.MixEffect, r["mix_effect"].(float64))
					approx(t, fmt.Sprintf("%s=%v share of change", dim, r[dim]), d.ShareOfChange, r["contribution"].(float64)/-90)
				}
			}
			if !found {
				t.Errorf("%s=%v missing from the explanation", dim, r[dim])
			}
		}
	}
	// average order value is money per order: no proportion test.
	if x.Drivers[0].WithinNoise != nil || !strings.HasPrefix(x.Test, "none") {
		t.Errorf("a test on a currency ratio: %s %v", x.Test, x.Drivers[0].WithinNoise)
	}
}

// 10/100 against 20/100: pooled p = 0.15, se = sqrt(0.15·0.85·0.02) =
// 0.0504975…, z = 0.1/se = 1.980295…, two-sided p = 0.04767…
func TestTwoProportionZ(t *testing.T) {
	z, p := twoProportionZ(10, 100, 20, 100)
	approx(t, "z", z, 0.1/math.Sqrt(0.15*0.85*0.02))
	if math.Abs(*p-0.04767) > 5e-5 {
		t.Errorf("p %v", *p)
	}
	if z, _ := twoProportionZ(10.5, 100, 20, 100); z != nil {
		t.Error("a fractional count was tested as a proportion")
	}
	z, _ = poissonZ(100, 144)
	approx(t, "poisson z", z, 44/math.Sqrt(244))
}

func TestExplainRefusesMatrixAndStatistic(t *testing.T) {
	e := handBuilt(t)
	for _, k := range []string{"cohort_retention"} {
		_, err := e.Explain(context.Background(), Query{KPI: k})
		if ErrorCode(err) != CodeInvalidParameter || !strings.Contains(err.Error(), "matrix") {
			t.Errorf("%s: %v", k, err)
		}
	}
}
