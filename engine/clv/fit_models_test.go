package clv

import (
	"context"
	"math"
	"testing"
)

// TestFitOtherModelsAndWriteScores runs Fit and WriteScores for every model
// on CDNOW: the SQL scores must equal the Go formulas per customer.
func TestFitOtherModelsAndWriteScores(t *testing.T) {
	db := openCDNOW(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	custs, err := CustomerSummaries(ctx, db, cdnowOptions())
	if err != nil {
		t.Fatal(err)
	}
	h := holdoutEnd
	for _, model := range []string{"pareto_nbd", "mbg_nbd"} {
		res, err := Fit(ctx, db, FitOptions{CalibrationEnd: calEnd, HoldoutEnd: &h, Unit: UnitWeek, Margin: 0.3, MonthlyDiscount: 0.01, Model: model})
		if err != nil {
			t.Fatal(err)
		}
		if res.BGNBD != nil || res.CountModel() == nil || res.Holdout == nil || len(res.Tracking) != 78 {
			t.Fatalf("%s: result %+v", model, res)
		}
		if _, err := WriteScores(ctx, conn, res, ScoreOptions{Table: "scores_" + res.Options.Model}); err != nil {
			t.Fatal(err)
		}
		compareScores(t, res, custs, readScores(t, db, "scores_"+res.Options.Model))
	}
	res, err := Fit(ctx, db, FitOptions{CalibrationEnd: calEnd, HoldoutEnd: &h, Model: "pareto_nbd"})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "pareto r", res.ParetoNBD.R, 0.553, 0.0005)
}

func TestFitBGBBOnOrders(t *testing.T) {
	db := openCDNOW(t)
	ctx := context.Background()
	opts := FitOptions{CalibrationEnd: calEnd, Model: ModelBGBB, PeriodDays: 28, Periods: 9}
	if err := opts.normalize(); err != nil {
		t.Fatal(err)
	}
	pats, st, err := PatternSummary(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.Customers != 2357 || st.Fitted+st.Unobserved != 2357 {
		t.Fatalf("stats %+v", st)
	}
	// Every CDNOW customer's first purchase is at least 189 days before the
	// calibration end: 6 complete periods of 28 days at least, 9 at most.
	for _, p := range pats {
		if p.N < 6 || p.N > 9 {
			t.Errorf("pattern %+v: n outside 6..9", p)
		}
	}
	res, err := Fit(ctx, db, FitOptions{CalibrationEnd: calEnd, Model: "bgbb", PeriodDays: 28, Periods: 9, Margin: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if res.BGBB == nil || res.Holdout != nil || res.BGBBSummary.Fitted != 2357 {
		t.Fatalf("result %+v", res)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if n, err := WriteScores(ctx, conn, res, ScoreOptions{Table: "scores_bgbb"}); err != nil || n != 2357 {
		t.Fatalf("wrote %d (%v)", n, err)
	}
	// Customer 6 buys on days 10, 73, 105, 113, 173, 202 and 206 after the
	// first purchase: periods 1, 3, 4, 5, 7, 8, 8 of 28 days, so x = 6,
	// t_x = 8, n = min(9, 272 // 28) = 9.
	s6 := readScores(t, db, "scores_bgbb")["6"]
	pa, e90, _ := res.patternScores(6, 8, 9)
	nearRel(t, "p_alive 6", s6.PAlive, pa, 1e-12)
	nearRel(t, "expected_purchases_90d 6", s6.ExpectedPurchases90d, e90, 1e-12)
	nearRel(t, "e90 by hand", e90, res.BGBB.ConditionalExpected(90.0/28, 6, 8, 9), 1e-12)
	if math.IsNaN(s6.CLV) || s6.CLV <= 0 {
		t.Errorf("clv %g", s6.CLV)
	}
}

func TestFitModelOptions(t *testing.T) {
	for _, o := range []FitOptions{
		{CalibrationEnd: calEnd, Model: "weibull"},
		{CalibrationEnd: calEnd, Model: "bgbb"},
		{CalibrationEnd: calEnd, Model: "bgbb", PeriodDays: 7},
		{CalibrationEnd: calEnd, Model: "pareto_nbd", PeriodDays: 7, Periods: 3},
	} {
		err := o.normalize()
		if !isInputError(err) {
			t.Errorf("%+v: got %v, want an input error", o, err)
		}
	}
}
