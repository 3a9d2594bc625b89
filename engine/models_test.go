package engine

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"custkpi/internal/shareddata"
)

// cdnowEngine imports the CDNOW sample (../shared/data/real/cdnow, beside
// the repository in CI too) through the ordinary import path: customers are
// the sample ids with their first purchase as signup date, orders its rows.
func cdnowEngine(t *testing.T) *Engine {
	t.Helper()
	e := mustOpen(t)
	dir := shareddata.CDNOWFiles(t, e.DB())
	mustImport(t, e, "customers", filepath.Join(dir, "customers.parquet"))
	mustImport(t, e, "orders", filepath.Join(dir, "orders.parquet"))
	return e
}

// The product path (import, fit, scores as features, the predicted_clv KPI)
// reproduces the published CDNOW figures (SOURCE.md): BG/NBD r, alpha, a, b
// = 0.243, 4.414, 0.793, 2.426, LL −9582.43; Gamma-Gamma 6.25, 3.74, 15.44;
// weekly repeat transactions in weeks 20..25 of 73, 55, 70, 33, 56, 99.
func TestCLVFitCDNOW(t *testing.T) {
	e := cdnowEngine(t)
	ctx := context.Background()
	if _, err := e.Run(ctx, Query{KPI: "predicted_clv"}); ErrorCode(err) != CodeMissingDataset {
		t.Fatalf("predicted_clv before a fit: %v", err)
	}
	holdout := date("1998-06-30")
	fit, err := e.FitCLV(ctx, CLVFitRequest{CalibrationEnd: date("1997-09-30"), HoldoutEnd: &holdout, Unit: "week"})
	if err != nil {
		t.Fatal(err)
	}
	m, g := fit.BGNBD, fit.GammaGamma
	for _, c := range []struct {
		name      string
		got, want float64
		places    float64
	}{
		{"r", m.R, 0.243, 3}, {"alpha", m.Alpha, 4.414, 3}, {"a", m.A, 0.793, 3}, {"b", m.B, 2.426, 3},
		{"LL", m.LogLikelihood, -9582.43, 2},
		{"p", g.P, 6.25, 2}, {"q", g.Q, 3.74, 2}, {"gamma", g.Gamma, 15.44, 2}, {"GG LL", g.LogLikelihood, -4055.92, 2},
	} {
		if math.Abs(c.got-c.want) > 0.5*math.Pow(10, -c.places) {
			t.Errorf("%s = %.6f, want %.*f", c.name, c.got, int(c.places), c.want)
		}
	}
	if fit.Customers != 2357 || fit.Scored != 2357 || !m.Converged {
		t.Errorf("customers %d scored %d converged %v", fit.Customers, fit.Scored, m.Converged)
	}
	actual := map[int]float64{}
	for _, p := range fit.Tracking {
		actual[p.Period] = float64(p.Actual)
	}
	for w, want := range map[int]float64{20: 73, 21: 55, 22: 70, 23: 33, 24: 56, 25: 99} {
		if actual[w] != want {
			t.Errorf("week %d actual %v, want %v", w, actual[w], want)
		}
	}
	// Scores are features now; the KPI answers their mean.
	page, err := e.Customers(ctx, CustomerQuery{Where: "p_alive > 0.9 && clv_12m > 100.0", OrderBy: "clv_12m", Desc: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total == 0 || page.Rows[0]["expected_purchases_90d"] == nil {
		t.Errorf("scored customers: %d %v", page.Total, page.Rows)
	}
	res, err := e.Run(ctx, Query{KPI: "predicted_clv"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := res.Rows[0][0].(float64); v <= 0 || res.Rows[0][2] != int64(2357) {
		t.Errorf("predicted_clv %v", res.Rows)
	}
	last, err := e.LastCLVFit(ctx)
	if err != nil || last.ID != fit.ID || math.Abs(last.BGNBD.R-m.R) > 1e-12 {
		t.Errorf("last fit %+v %v", last, err)
	}
}

func TestCLVFitBadInput(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	for _, c := range []struct {
		req   CLVFitRequest
		param string
	}{
		{CLVFitRequest{CalibrationEnd: date("2020-01-01")}, "calibration_end"},
		{CLVFitRequest{CalibrationEnd: date("2024-04-01"), Unit: "fortnight"}, "unit"},
		{CLVFitRequest{CalibrationEnd: date("2024-04-01")}, ""}, // six customers: too few repeat buyers
	} {
		_, err := e.FitCLV(ctx, c.req)
		var ee *Error
		if !asError(err, &ee) || ee.Code != CodeInvalidModel {
			t.Errorf("%+v: %v", c.req, err)
			continue
		}
		if c.param != "" && ee.Details["parameter"] != c.param {
			t.Errorf("%+v: details %v", c.req, ee.Details)
		}
	}
	if _, err := e.LastCLVFit(ctx); ErrorCode(err) != CodeNotFound {
		t.Errorf("no fit yet: %v", err)
	}

}

// Measured case "calibration_end 9999-12-31 ran over 13 minutes holding the
// write lock": a calibration or holdout end after the end of the data is
// refused at once, naming the parameter, and nothing is written.
func TestCLVFitCalibrationEnd99991231IsRefused(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	gen := e.Generation()
	far := date("9999-12-31")
	in := date("2024-04-01")
	for _, c := range []struct {
		req   CLVFitRequest
		param string
	}{
		{CLVFitRequest{CalibrationEnd: far}, "calibration_end"},
		{CLVFitRequest{CalibrationEnd: date("2040-01-01")}, "calibration_end"},
		{CLVFitRequest{CalibrationEnd: in, HoldoutEnd: &far}, "holdout_end"},
	} {
		start := time.Now()
		_, err := e.FitCLV(ctx, c.req)
		var ee *Error
		if !asError(err, &ee) || ee.Code != CodeInvalidModel || ee.Details["parameter"] != c.param || !strings.Contains(ee.Message, "after the end of the data") {
			t.Errorf("%+v: %v", c.req, err)
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("%+v: refused after %s", c.req, el)
		}
	}
	if e.Generation() != gen {
		t.Error("a refused fit wrote")
	}
}

// The model parameter reaches the fit, the stored record and the scores:
// Pareto/NBD on CDNOW reproduces the published parameters and customer
// 1516's P(alive), and BG/BB scores every customer.
func TestCLVFitOtherModelsCDNOW(t *testing.T) {
	e := cdnowEngine(t)
	ctx := context.Background()
	fit, err := e.FitCLV(ctx, CLVFitRequest{CalibrationEnd: date("1997-09-30"), Model: "pareto_nbd"})
	if err != nil {
		t.Fatal(err)
	}
	m := fit.ParetoNBD
	if fit.Model != "pareto_nbd+gamma_gamma" || fit.BGNBD != nil || m == nil || fit.Scored != 2357 {
		t.Fatalf("fit %+v", fit)
	}
	for name, c := range map[string][2]float64{"r": {m.R, 0.553}, "alpha": {m.Alpha, 10.578}, "s": {m.S, 0.606}, "beta": {m.Beta, 11.669}} {
		if math.Abs(c[0]-c[1]) > 0.0005 {
			t.Errorf("%s = %.6f, want %.3f", name, c[0], c[1])
		}
	}
	d, err := e.Customer(ctx, "1516")
	if err != nil {
		t.Fatal(err)
	}
	if pa, _ := d.Features["p_alive"].(float64); math.Abs(pa-0.9979) > 0.00005 {
		t.Errorf("p_alive of 1516 = %v, want 0.9979", d.Features["p_alive"])
	}
	last, err := e.LastCLVFit(ctx)
	if err != nil || last.ParetoNBD == nil || last.Options.Model != "pareto_nbd" {
		t.Fatalf("last fit %+v %v", last, err)
	}
	bb, err := e.FitCLV(ctx, CLVFitRequest{CalibrationEnd: date("1997-09-30"), Model: "bgbb", PeriodDays: 28, Periods: 9})
	if err != nil {
		t.Fatal(err)
	}
	if bb.BGBB == nil || bb.Scored != 2357 || bb.Model != "bgbb+gamma_gamma" {
		t.Fatalf("bgbb fit %+v", bb)
	}
	for _, c := range []struct {
		req   CLVFitRequest
		param string
	}{
		{CLVFitRequest{CalibrationEnd: date("1997-09-30"), Model: "gompertz"}, "model"},
		{CLVFitRequest{CalibrationEnd: date("1997-09-30"), Model: "bgbb", Periods: 9}, "period_days"},
		{CLVFitRequest{CalibrationEnd: date("1997-09-30"), Model: "bgbb", PeriodDays: 28}, "periods"},
		{CLVFitRequest{CalibrationEnd: date("1997-09-30"), PeriodDays: 28, Periods: 9}, "period_days"},
	} {
		_, err := e.FitCLV(ctx, c.req)
		var ee *Error
		if !asError(err, &ee) || ee.Code != CodeInvalidModel || ee.Details["parameter"] != c.param {
			t.Errorf("%+v: %v", c.req, err)
		}
	}
}
