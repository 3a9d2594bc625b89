package clv

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults of FitOptions.
const (
	DefaultHorizonMonths = 12
	// PurchaseWindowDays is the window of expected_purchases_90d.
	PurchaseWindowDays = 90
	maxHorizonMonths   = 1200
)

// FitOptions configures Fit.
type FitOptions struct {
	// OrdersRelation, CalibrationEnd, HoldoutEnd and Unit are as in
	// SummaryOptions.
	OrdersRelation string     `json:"orders_relation"`
	CalibrationEnd time.Time  `json:"calibration_end" format:"date-time"`
	HoldoutEnd     *time.Time `json:"holdout_end,omitempty" format:"date-time"`
	Unit           string     `json:"unit"`
	// Margin is the share of revenue kept, in (0, 1]; 0 means 1, i.e. CLV in
	// revenue.
	Margin float64 `json:"margin"`
	// MonthlyDiscount is the discount rate per month, in [0, 1).
	MonthlyDiscount float64 `json:"monthly_discount"`
	// HorizonMonths is the CLV horizon (default 12).
	HorizonMonths int `json:"horizon_months"`
	// Solver tunes both maximum-likelihood fits. Its Start is ignored here
	// (the two models have different parameters); use FitBGNBD and
	// FitGammaGamma directly to warm-start.
	Solver SolverOptions `json:"solver"`
}

func (o FitOptions) summaryOptions() SummaryOptions {
	return SummaryOptions{OrdersRelation: o.OrdersRelation, CalibrationEnd: o.CalibrationEnd, HoldoutEnd: o.HoldoutEnd, Unit: o.Unit}
}

func (o *FitOptions) normalize() error {
	if o.Margin == 0 {
		o.Margin = 1
	}
	if !(o.Margin > 0 && o.Margin <= 1) {
		return inputErrorf("margin", "%g is not in (0, 1]", o.Margin)
	}
	if !(o.MonthlyDiscount >= 0 && o.MonthlyDiscount < 1) {
		return inputErrorf("monthly_discount", "%g is not in [0, 1)", o.MonthlyDiscount)
	}
	if o.HorizonMonths == 0 {
		o.HorizonMonths = DefaultHorizonMonths
	}
	if o.HorizonMonths < 1 || o.HorizonMonths > maxHorizonMonths {
		return inputErrorf("horizon_months", "%d is not in 1..%d", o.HorizonMonths, maxHorizonMonths)
	}
	n, err := o.summaryOptions().normalize()
	if err != nil {
		return err
	}
	o.OrdersRelation, o.Unit, o.CalibrationEnd, o.HoldoutEnd = n.OrdersRelation, n.Unit, n.CalibrationEnd, n.HoldoutEnd
	return nil
}

// Timings are the wall-clock durations of the steps of Fit.
type Timings struct {
	Summary    time.Duration `json:"summary_ns" swaggertype:"integer"`
	BGNBD      time.Duration `json:"bgnbd_ns" swaggertype:"integer"`
	GammaGamma time.Duration `json:"gamma_gamma_ns" swaggertype:"integer"`
	Holdout    time.Duration `json:"holdout_ns" swaggertype:"integer"`
	Total      time.Duration `json:"total_ns" swaggertype:"integer"`
}

// FitResult is everything Fit produces, ready for JSON.
type FitResult struct {
	Options    FitOptions      `json:"options"`
	Summary    SummaryStats    `json:"summary"`
	BGNBD      *BGNBD          `json:"bgnbd"`
	GammaGamma *GammaGamma     `json:"gamma_gamma"`
	Holdout    *HoldoutReport  `json:"holdout,omitempty"`
	Tracking   []TrackingPoint `json:"tracking"`
	Timings    Timings         `json:"timings"`
	// Data is the grouped summary behind the fit (large; not serialised).
	Data *SummaryData `json:"-"`
}

// Fit summarises the orders in DuckDB, fits BG/NBD and Gamma-Gamma, and
// validates on the holdout period when HoldoutEnd is set. Bad input returns
// (nil, *InputError). A fit that does not converge returns the partial result
// and an error wrapping ErrNotConverged, so callers can show the diagnostics
// but never mistake the numbers for a good fit.
func Fit(ctx context.Context, db Querier, opts FitOptions) (*FitResult, error) {
	t0 := time.Now()
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	res := &FitResult{Options: opts}
	s, err := Summary(ctx, db, opts.summaryOptions())
	if err != nil {
		return nil, err
	}
	res.Data, res.Summary = s, s.SummaryStats
	t1 := time.Now()
	res.Timings.Summary = t1.Sub(t0)

	solver := opts.Solver
	solver.Start = nil
	bg, err := FitBGNBD(s.Triples, solver)
	res.BGNBD = bg
	t2 := time.Now()
	res.Timings.BGNBD = t2.Sub(t1)
	if err != nil {
		return partial(res, bg != nil, err)
	}
	gg, err := FitGammaGamma(s.Spend, solver)
	res.GammaGamma = gg
	t3 := time.Now()
	res.Timings.GammaGamma = t3.Sub(t2)
	if err != nil {
		return partial(res, gg != nil, err)
	}
	res.Tracking = Tracking(bg, s)
	res.Holdout = validate(bg, s, res.Tracking)
	t4 := time.Now()
	res.Timings.Holdout = t4.Sub(t3)
	res.Timings.Total = t4.Sub(t0)
	return res, nil
}

// partial returns the result alongside errors that come with a model (no
// convergence, q <= 1) and drops it for the others.
func partial(res *FitResult, haveModel bool, err error) (*FitResult, error) {
	var ie *InputError
	if haveModel && (errors.Is(err, ErrNotConverged) || errors.As(err, &ie)) {
		return res, fmt.Errorf("clv fit: %w", err)
	}
	if errors.As(err, &ie) {
		return nil, err
	}
	return nil, fmt.Errorf("clv fit: %w", err)
}

// CustomerScore is the per-customer output of scoring.
type CustomerScore struct {
	CustomerID           string  `json:"customer_id"`
	PAlive               float64 `json:"p_alive"`
	ExpectedPurchases90d float64 `json:"expected_purchases_90d"`
	CLV                  float64 `json:"clv_12m"`
}

// unitDays returns the length of the fit's unit in days.
func (r *FitResult) unitDays() float64 {
	switch r.Options.Unit {
	case UnitDay:
		return 1
	case UnitMonth:
		return DaysPerMonth
	default:
		return 7
	}
}

// margin and horizon apply the FitOptions defaults, so that a FitResult
// assembled by hand scores like one returned by Fit.
func (r *FitResult) margin() float64 {
	if r.Options.Margin == 0 {
		return 1
	}
	return r.Options.Margin
}

func (r *FitResult) horizon() int {
	if r.Options.HorizonMonths <= 0 {
		return DefaultHorizonMonths
	}
	return r.Options.HorizonMonths
}

// aliveCoefficients returns, for a customer alive with (x, T): the expected
// purchases in the next 90 days and the discounted sum of expected purchases
// over the horizon, both still to be multiplied by P(alive).
func (r *FitResult) aliveCoefficients(x, T float64) (n90, disc float64) {
	u := r.unitDays()
	n90 = r.BGNBD.aliveExpected(PurchaseWindowDays/u, x, T)
	prev, f := 0.0, 1.0
	for i := 1; i <= r.horizon(); i++ {
		f /= 1 + r.Options.MonthlyDiscount
		cur := r.BGNBD.aliveExpected(float64(i)*DaysPerMonth/u, x, T)
		disc += (cur - prev) * f
		prev = cur
	}
	return n90, disc
}

// spend is E[M|x, zbar], with a negative mean repeat value (refunds)
// treated as zero so that refunds cannot make CLV negative.
func (r *FitResult) spend(x, zbar float64) float64 {
	return r.GammaGamma.ExpectedAverageSpend(x, math.Max(zbar, 0))
}

// CLV is the discounted expected margin over the horizon (see the package
// documentation) of a customer with summary (x, t_x, T, zbar).
func (r *FitResult) CLV(x, tx, T, zbar float64) float64 {
	_, disc := r.aliveCoefficients(x, T)
	return r.margin() * r.spend(x, zbar) * r.BGNBD.PAlive(x, tx, T) * disc
}

// Score scores one customer in Go; WriteScores does the same for a whole
// population inside DuckDB.
func (r *FitResult) Score(c CustomerSummary) CustomerScore {
	x := float64(c.X)
	n90, disc := r.aliveCoefficients(x, c.T)
	pa := r.BGNBD.PAlive(x, c.Tx, c.T)
	return CustomerScore{
		CustomerID:           c.CustomerID,
		PAlive:               pa,
		ExpectedPurchases90d: n90 * pa,
		CLV:                  r.margin() * r.spend(x, c.Zbar) * pa * disc,
	}
}
