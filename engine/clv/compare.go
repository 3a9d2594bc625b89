package clv

import (
	"context"
	"errors"
	"math"
	"sort"
	"time"
)

// CompareOptions configures Compare. HoldoutEnd is required: the models are
// ranked on the holdout.
type CompareOptions struct {
	OrdersRelation string     `json:"orders_relation"`
	CalibrationEnd time.Time  `json:"calibration_end" format:"date-time"`
	HoldoutEnd     *time.Time `json:"holdout_end" format:"date-time"`
	Unit           string     `json:"unit"`
	// Models to compare (default bgnbd, pareto_nbd, mbgnbd, nbd).
	Models []string      `json:"models"`
	Solver SolverOptions `json:"solver"`
}

// DefaultCompareModels are the models Compare fits by default.
var DefaultCompareModels = []string{ModelBGNBD, ModelParetoNBD, ModelMBGNBD, ModelNBD}

// ModelScore is one model's line of the comparison.
type ModelScore struct {
	Model string `json:"model"`
	// Rank by per-customer holdout MAE (1 = best).
	Rank       int                `json:"rank"`
	Parameters map[string]float64 `json:"parameters"`
	Converged  bool               `json:"converged"`
	// LogLikelihood of the calibration data; NumParams and BIC =
	// -2 LL + NumParams ln(customers) penalise the extra parameters.
	LogLikelihood float64 `json:"log_likelihood"`
	NumParams     int     `json:"num_params"`
	BIC           float64 `json:"bic"`
	// Holdout: expected repeat transactions against actual, in total and
	// per customer.
	ExpectedTotal float64 `json:"expected_total"`
	TotalError    float64 `json:"total_error"`
	TotalErrorPct float64 `json:"total_error_pct"`
	CustomerMAE   float64 `json:"customer_mae"`
	CustomerRMSE  float64 `json:"customer_rmse"`
	TrackingError float64 `json:"tracking_error"`
	// ExpectedTransactions52 is E[X(52 weeks)] for a new customer.
	ExpectedTransactions52w float64 `json:"expected_transactions_52w"`
}

// FrequencyComparison is one calibration-frequency bin: mean holdout
// purchases, actual and per model.
type FrequencyComparison struct {
	Label     string             `json:"label"`
	MinX      int                `json:"min_x"`
	Customers int                `json:"customers"`
	Actual    float64            `json:"actual"`
	Expected  map[string]float64 `json:"expected"`
}

// TrackingComparison is one period of the tracking curve: actual repeat
// transactions and each model's expectation, per period and cumulated.
type TrackingComparison struct {
	Period             int                `json:"period"`
	Holdout            bool               `json:"holdout"`
	Actual             int                `json:"actual"`
	ActualCumulative   int                `json:"actual_cumulative"`
	Expected           map[string]float64 `json:"expected"`
	ExpectedCumulative map[string]float64 `json:"expected_cumulative"`
}

// Comparison is the answer of Compare: the ranking and the tables a notebook
// plots.
type Comparison struct {
	Summary     SummaryStats          `json:"summary"`
	RankedBy    string                `json:"ranked_by"`
	Models      []ModelScore          `json:"models"`
	ByFrequency []FrequencyComparison `json:"by_frequency"`
	Tracking    []TrackingComparison  `json:"tracking"`
	// Failed lists models that did not converge, with the reason; they are
	// left out of the ranking.
	Failed []FailedModel `json:"failed"`
}

// FailedModel is a model Compare could not fit.
type FailedModel struct {
	Model string `json:"model"`
	Error string `json:"error"`
}

// Compare fits several purchase-count models on one calibration period and
// ranks them by their per-customer error on the holdout period. A model
// that does not converge is listed in Failed; if none converges the error
// wraps ErrNotConverged.
func Compare(ctx context.Context, db Querier, opts CompareOptions) (*Comparison, error) {
	if opts.HoldoutEnd == nil {
		return nil, inputErrorf("holdout_end", "is required: the models are compared on the holdout period after calibration_end")
	}
	models, err := compareModels(opts.Models)
	if err != nil {
		return nil, err
	}
	s, err := Summary(ctx, db, SummaryOptions{OrdersRelation: opts.OrdersRelation, CalibrationEnd: opts.CalibrationEnd, HoldoutEnd: opts.HoldoutEnd, Unit: opts.Unit})
	if err != nil {
		return nil, err
	}
	solver := opts.Solver
	solver.Start = nil
	c := &Comparison{Summary: s.SummaryStats, RankedBy: "customer_mae", Models: []ModelScore{}, Failed: []FailedModel{}}
	fitted := 0
	for _, name := range models {
		m, params, ll, conv, err := fitNamed(name, s.Triples, solver)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				return nil, err
			}
			c.Failed = append(c.Failed, FailedModel{Model: name, Error: err.Error()})
			continue
		}
		tr := Tracking(m, s)
		rep := validate(m, s, tr)
		fitted++
		c.Models = append(c.Models, scoreModel(m, s, rep, params, ll, conv))
		c.addTables(m.ModelName(), rep, tr)
	}
	if fitted == 0 {
		return c, ErrNotConverged
	}
	sort.SliceStable(c.Models, func(i, j int) bool { return c.Models[i].CustomerMAE < c.Models[j].CustomerMAE })
	for i := range c.Models {
		c.Models[i].Rank = i + 1
	}
	return c, nil
}

func compareModels(names []string) ([]string, error) {
	if len(names) == 0 {
		return DefaultCompareModels, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		m, ok := modelAliases[n]
		if n == ModelNBD {
			m, ok = ModelNBD, true
		}
		if !ok || m == ModelBGBB {
			return nil, inputErrorf("models", "%q is not one of bgnbd, pareto_nbd, mbgnbd, nbd (bgbb is discrete-time and not compared here)", n)
		}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// fitNamed fits one continuous-time model and returns it with its
// parameters by name.
func fitNamed(name string, tr []Triple, solver SolverOptions) (CountModel, map[string]float64, float64, Convergence, error) {
	switch name {
	case ModelParetoNBD:
		m, err := FitParetoNBD(tr, solver)
		if err != nil {
			return nil, nil, 0, Convergence{}, err
		}
		return m, map[string]float64{"r": m.R, "alpha": m.Alpha, "s": m.S, "beta": m.Beta}, m.LogLikelihood, m.Convergence, nil
	case ModelMBGNBD:
		m, err := FitMBGNBD(tr, solver)
		if err != nil {
			return nil, nil, 0, Convergence{}, err
		}
		return m, map[string]float64{"r": m.R, "alpha": m.Alpha, "a": m.A, "b": m.B}, m.LogLikelihood, m.Convergence, nil
	case ModelNBD:
		m, err := FitNBD(tr, solver)
		if err != nil {
			return nil, nil, 0, Convergence{}, err
		}
		return m, map[string]float64{"r": m.R, "alpha": m.Alpha}, m.LogLikelihood, m.Convergence, nil
	default:
		m, err := FitBGNBD(tr, solver)
		if err != nil {
			return nil, nil, 0, Convergence{}, err
		}
		return m, map[string]float64{"r": m.R, "alpha": m.Alpha, "a": m.A, "b": m.B}, m.LogLikelihood, m.Convergence, nil
	}
}

func scoreModel(m CountModel, s *SummaryData, rep *HoldoutReport, params map[string]float64, ll float64, conv Convergence) ModelScore {
	k := len(params)
	return ModelScore{
		Model: m.ModelName(), Parameters: params, Converged: conv.Converged,
		LogLikelihood: ll, NumParams: k, BIC: -2*ll + float64(k)*math.Log(float64(s.Customers)),
		ExpectedTotal: rep.ExpectedTotal, TotalError: rep.TotalError, TotalErrorPct: rep.TotalErrorPct,
		CustomerMAE: rep.CustomerMAE, CustomerRMSE: rep.CustomerRMSE, TrackingError: rep.TrackingError,
		ExpectedTransactions52w: m.ExpectedTransactions(52 * 7 / s.UnitDays),
	}
}

// addTables adds a model's expectations to the by-frequency and tracking
// tables, beside the actual counts (filled in by the first model).
func (c *Comparison) addTables(name string, rep *HoldoutReport, tr []TrackingPoint) {
	if c.ByFrequency == nil {
		for _, b := range rep.ByFrequency {
			c.ByFrequency = append(c.ByFrequency, FrequencyComparison{Label: b.Label, MinX: b.MinX, Customers: b.Customers, Actual: b.ActualMean, Expected: map[string]float64{}})
		}
		for _, p := range tr {
			c.Tracking = append(c.Tracking, TrackingComparison{Period: p.Period, Holdout: p.Holdout, Actual: p.Actual, ActualCumulative: p.ActualCumulative,
				Expected: map[string]float64{}, ExpectedCumulative: map[string]float64{}})
		}
	}
	for j, b := range rep.ByFrequency {
		c.ByFrequency[j].Expected[name] = b.ExpectedMean
	}
	for j, p := range tr {
		c.Tracking[j].Expected[name] = p.Expected
		c.Tracking[j].ExpectedCumulative[name] = p.ExpectedCumulative
	}
}
