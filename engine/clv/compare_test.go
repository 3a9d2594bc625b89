package clv

import (
	"context"
	"testing"
)

func TestCompareCDNOW(t *testing.T) {
	db := openCDNOW(t)
	h := holdoutEnd
	c, err := Compare(context.Background(), db, CompareOptions{CalibrationEnd: calEnd, HoldoutEnd: &h, Unit: UnitWeek})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Models) != 4 || len(c.Failed) != 0 || len(c.Tracking) != 78 || len(c.ByFrequency) != 8 {
		t.Fatalf("comparison %+v", c)
	}
	by := map[string]ModelScore{}
	for i, m := range c.Models {
		by[m.Model] = m
		t.Logf("%d %-10s LL %.2f BIC %.2f expected %.1f (actual %d, %+.1f%%) MAE %.4f RMSE %.4f",
			m.Rank, m.Model, m.LogLikelihood, m.BIC, m.ExpectedTotal, c.Summary.HoldoutRepeats, m.TotalErrorPct, m.CustomerMAE, m.CustomerRMSE)
		if m.Rank != i+1 || (i > 0 && m.CustomerMAE < c.Models[i-1].CustomerMAE) {
			t.Errorf("ranking out of order: %+v", c.Models)
		}
	}
	near(t, "bgnbd LL", by[ModelBGNBD].LogLikelihood, -9582.43, 0.005)
	near(t, "pareto LL", by[ModelParetoNBD].LogLikelihood, -9594.98, 0.005)
	near(t, "bgnbd BIC", by[ModelBGNBD].BIC, 2*9582.4292+4*7.7651, 0.01) // ln 2357 = 7.76514
	// The NBD baseline, without dropout, is the worst on the holdout.
	if c.Models[len(c.Models)-1].Model != ModelNBD {
		t.Errorf("NBD is not last: %+v", c.Models)
	}
	// Tables: the actual means are BTYD's, each model's beside them.
	near(t, "actual mean x=0", c.ByFrequency[0].Actual, 0.2367, 0.00005)
	near(t, "bgnbd x=0", c.ByFrequency[0].Expected[ModelBGNBD], 0.2251, 0.0001)
	near(t, "pareto x=7+", c.ByFrequency[7].Expected[ModelParetoNBD], 6.403, 0.001)
	w25 := c.Tracking[24]
	if w25.ActualCumulative != 1672 {
		t.Errorf("week 25 cumulative actual %d", w25.ActualCumulative)
	}
	near(t, "pareto cumulative week 25", w25.ExpectedCumulative[ModelParetoNBD], 1674.253, 0.5)
	near(t, "bgnbd cumulative week 25", w25.ExpectedCumulative[ModelBGNBD], 1669.6, 0.5)
	if _, err := Compare(context.Background(), db, CompareOptions{CalibrationEnd: calEnd, Unit: UnitWeek}); !isInputError(err) {
		t.Errorf("no holdout: %v", err)
	}
	if _, err := Compare(context.Background(), db, CompareOptions{CalibrationEnd: calEnd, HoldoutEnd: &h, Models: []string{"bgbb"}}); !isInputError(err) {
		t.Errorf("bgbb: %v", err)
	}
}
