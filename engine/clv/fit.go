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
	// Model is the purchase-count model: bgnbd (default), pareto_nbd,
	// mbgnbd or bgbb. Spend is always Gamma-Gamma.
	Model string `json:"model"`
	// PeriodDays and Periods define BG/BB's discrete time (bgbb only): from
	// each customer's first purchase day, period k covers days
	// ((k-1)·PeriodDays, k·PeriodDays], and at most Periods complete periods
	// before calibration_end count.
	PeriodDays int `json:"period_days,omitempty"`
	Periods    int `json:"periods,omitempty"`
	// Solver tunes both maximum-likelihood fits. Its Start is ignored here
	// (the two models have different parameters); use FitBGNBD and
	// FitGammaGamma directly to warm-start.
	Solver SolverOptions `json:"solver"`
}

// modelAliases maps the accepted spellings to the model names.
var modelAliases = map[string]string{
	"": ModelBGNBD, ModelBGNBD: ModelBGNBD, "bg_nbd": ModelBGNBD,
	ModelParetoNBD: ModelParetoNBD, "pnbd": ModelParetoNBD,
	ModelMBGNBD: ModelMBGNBD, "mbg_nbd": ModelMBGNBD,
	ModelBGBB: ModelBGBB, "bg_bb": ModelBGBB,
}

// maxPeriods bounds BG/BB's periods: the likelihood of a pattern has up to
// n terms, and a few thousand periods are already beyond any sensible use.
const maxPeriods = 10000

// normalizeModel checks the model name and BG/BB's period options.
func (o *FitOptions) normalizeModel() error {
	m, ok := modelAliases[o.Model]
	if !ok {
		return inputErrorf("model", "%q is not one of bgnbd, pareto_nbd, mbgnbd, bgbb", o.Model)
	}
	o.Model = m
	if m != ModelBGBB {
		if o.PeriodDays != 0 || o.Periods != 0 {
			return inputErrorf("period_days", "period_days and periods apply to the discrete-time model bgbb only; drop them or set \"model\": \"bgbb\"")
		}
		return nil
	}
	if o.PeriodDays < 1 || o.PeriodDays > 3660 {
		return inputErrorf("period_days", "bgbb needs period_days, the length of a period in days, in 1..3660 (got %d), e.g. 21", o.PeriodDays)
	}
	if o.Periods < 1 || o.Periods > maxPeriods {
		return inputErrorf("periods", "bgbb needs periods, the number of periods after the first purchase to count, in 1..%d (got %d), e.g. 13", maxPeriods, o.Periods)
	}
	return nil
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
	if err := o.normalizeModel(); err != nil {
		return err
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
	Summary time.Duration `json:"summary_ns" swaggertype:"integer"`
	// BGNBD is set for the bgnbd model, Model for every model.
	BGNBD      time.Duration `json:"bgnbd_ns" swaggertype:"integer"`
	Model      time.Duration `json:"model_ns" swaggertype:"integer"`
	GammaGamma time.Duration `json:"gamma_gamma_ns" swaggertype:"integer"`
	Holdout    time.Duration `json:"holdout_ns" swaggertype:"integer"`
	Total      time.Duration `json:"total_ns" swaggertype:"integer"`
}

// FitResult is everything Fit produces, ready for JSON.
type FitResult struct {
	Options FitOptions   `json:"options"`
	Summary SummaryStats `json:"summary"`
	// Exactly one of the purchase-count models is set, the one of
	// Options.Model, under its name.
	BGNBD     *BGNBD     `json:"bgnbd,omitempty"`
	ParetoNBD *ParetoNBD `json:"pareto_nbd,omitempty"`
	MBGNBD    *MBGNBD    `json:"mbgnbd,omitempty"`
	BGBB      *BGBB      `json:"bgbb,omitempty"`
	// BGBBSummary describes the discrete-time data of a bgbb fit.
	BGBBSummary *PatternStats   `json:"bgbb_summary,omitempty"`
	GammaGamma  *GammaGamma     `json:"gamma_gamma"`
	Holdout     *HoldoutReport  `json:"holdout,omitempty"`
	Tracking    []TrackingPoint `json:"tracking"`
	Timings     Timings         `json:"timings"`
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
	haveModel, err := res.fitCountModel(ctx, db, s, solver)
	t2 := time.Now()
	res.Timings.Model = t2.Sub(t1)
	if opts.Model == ModelBGNBD {
		res.Timings.BGNBD = res.Timings.Model
	}
	if err != nil {
		return partial(res, haveModel, err)
	}
	gg, err := FitGammaGamma(s.Spend, solver)
	res.GammaGamma = gg
	t3 := time.Now()
	res.Timings.GammaGamma = t3.Sub(t2)
	if err != nil {
		return partial(res, gg != nil, err)
	}
	// BG/BB counts periods, not the days of the holdout and tracking views.
	res.Tracking = []TrackingPoint{}
	if cm := res.CountModel(); cm != nil {
		res.Tracking = Tracking(cm, s)
		res.Holdout = validate(cm, s, res.Tracking)
	}
	t4 := time.Now()
	res.Timings.Holdout = t4.Sub(t3)
	res.Timings.Total = t4.Sub(t0)
	return res, nil
}

// fitCountModel fits the purchase-count model of the options and stores it
// in res; haveModel says whether a (possibly non-converged) model came back.
func (res *FitResult) fitCountModel(ctx context.Context, db Querier, s *SummaryData, solver SolverOptions) (haveModel bool, err error) {
	switch res.Options.Model {
	case ModelParetoNBD:
		res.ParetoNBD, err = FitParetoNBD(s.Triples, solver)
		return res.ParetoNBD != nil, err
	case ModelMBGNBD:
		res.MBGNBD, err = FitMBGNBD(s.Triples, solver)
		return res.MBGNBD != nil, err
	case ModelBGBB:
		pats, stats, err := PatternSummary(ctx, db, res.Options)
		if err != nil {
			return false, err
		}
		res.BGBBSummary = stats
		res.BGBB, err = FitBGBB(fittable(pats), solver)
		return res.BGBB != nil, err
	default:
		res.BGNBD, err = FitBGNBD(s.Triples, solver)
		return res.BGNBD != nil, err
	}
}

// CountModel returns the fitted continuous-time model, or nil for BG/BB.
func (r *FitResult) CountModel() CountModel {
	switch {
	case r.BGNBD != nil:
		return r.BGNBD
	case r.ParetoNBD != nil:
		return r.ParetoNBD
	case r.MBGNBD != nil:
		return r.MBGNBD
	}
	return nil
}

// countConvergence is the convergence record of the fitted count model.
func (r *FitResult) countConvergence() (Convergence, bool) {
	switch {
	case r.BGNBD != nil:
		return r.BGNBD.Convergence, true
	case r.ParetoNBD != nil:
		return r.ParetoNBD.Convergence, true
	case r.MBGNBD != nil:
		return r.MBGNBD.Convergence, true
	case r.BGBB != nil:
		return r.BGBB.Convergence, true
	}
	return Convergence{}, false
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
	m := r.CountModel()
	return r.discounted(r.unitDays(), func(t float64) float64 { return m.aliveExpected(t, x, T) })
}

// discounted returns, for expected purchases ey(t) over t in units of u
// days: those of the next 90 days and the discounted sum of the monthly
// increments over the horizon.
func (r *FitResult) discounted(u float64, ey func(t float64) float64) (n90, disc float64) {
	n90 = ey(PurchaseWindowDays / u)
	prev, f := 0.0, 1.0
	for i := 1; i <= r.horizon(); i++ {
		f /= 1 + r.Options.MonthlyDiscount
		cur := ey(float64(i) * DaysPerMonth / u)
		disc += (cur - prev) * f
		prev = cur
	}
	return n90, disc
}

// patternScores returns P(alive), the expected purchases of the next 90
// days and the discounted expected purchases over the horizon of a BG/BB
// pattern; the time unit is the period.
func (r *FitResult) patternScores(x, tx, n int) (pa, e90, disc float64) {
	m := r.BGBB
	e90, disc = r.discounted(float64(r.Options.PeriodDays), func(t float64) float64 { return m.ConditionalExpected(t, x, tx, n) })
	return m.PAlive(x, tx, n), e90, disc
}

// spend is E[M|x, zbar], with a negative mean repeat value (refunds)
// treated as zero so that refunds cannot make CLV negative.
func (r *FitResult) spend(x, zbar float64) float64 {
	return r.GammaGamma.ExpectedAverageSpend(x, math.Max(zbar, 0))
}

// CLV is the discounted expected margin over the horizon (see the package
// documentation) of a customer with summary (x, t_x, T, zbar).
func (r *FitResult) CLV(x, tx, T, zbar float64) float64 {
	if r.CountModel() == nil {
		return math.NaN() // BG/BB scores patterns of periods, not (x, t_x, T)
	}
	_, disc := r.aliveCoefficients(x, T)
	return r.margin() * r.spend(x, zbar) * r.CountModel().PAlive(x, tx, T) * disc
}

// Score scores one customer in Go; WriteScores does the same for a whole
// population inside DuckDB. For a BG/BB fit it returns NaNs.
func (r *FitResult) Score(c CustomerSummary) CustomerScore {
	if r.CountModel() == nil {
		// BG/BB needs the customer's pattern of periods, which only
		// WriteScores derives.
		return CustomerScore{CustomerID: c.CustomerID, PAlive: math.NaN(), ExpectedPurchases90d: math.NaN(), CLV: math.NaN()}
	}
	x := float64(c.X)
	n90, disc := r.aliveCoefficients(x, c.T)
	pa := r.CountModel().PAlive(x, c.Tx, c.T)
	return CustomerScore{
		CustomerID:           c.CustomerID,
		PAlive:               pa,
		ExpectedPurchases90d: n90 * pa,
		CLV:                  r.margin() * r.spend(x, c.Zbar) * pa * disc,
	}
}
