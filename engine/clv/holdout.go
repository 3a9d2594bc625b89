package clv

import (
	"math"
	"strconv"
)

// TrackingPoint is one period of the tracking curve: actual and expected
// repeat transactions of the modelled customers, per period and cumulated.
// Period k covers [k-1, k) units after the earliest first purchase.
type TrackingPoint struct {
	Period             int     `json:"period"`
	Holdout            bool    `json:"holdout"`
	Actual             int     `json:"actual"`
	Expected           float64 `json:"expected"`
	ActualCumulative   int     `json:"actual_cumulative"`
	ExpectedCumulative float64 `json:"expected_cumulative"`
}

// FrequencyBin compares mean holdout transactions with the conditional
// expectation for customers grouped by calibration frequency.
type FrequencyBin struct {
	Label        string  `json:"label"`
	MinX         int     `json:"min_x"`
	Customers    int     `json:"customers"`
	ActualMean   float64 `json:"actual_mean"`
	ExpectedMean float64 `json:"expected_mean"`
}

// HoldoutReport is the holdout validation of a fit.
type HoldoutReport struct {
	// Length of the holdout period in model units.
	Length float64 `json:"length"`
	// ActualTotal and ExpectedTotal are the holdout repeat transactions,
	// summed over customers; ExpectedTotal uses E[Y(Length)|x, t_x, T].
	ActualTotal   int     `json:"actual_total"`
	ExpectedTotal float64 `json:"expected_total"`
	// TotalError = ExpectedTotal - ActualTotal; TotalErrorPct relative to actual.
	TotalError    float64 `json:"total_error"`
	TotalErrorPct float64 `json:"total_error_pct"`
	// CustomerMAE and CustomerRMSE compare each customer's holdout count with
	// its conditional expectation.
	CustomerMAE  float64 `json:"customer_mae"`
	CustomerRMSE float64 `json:"customer_rmse"`
	// TrackingError = expected - actual repeat transactions over the holdout
	// periods of the tracking curve (the unconditional, cohort-based view;
	// the curve itself is Tracking's).
	TrackingError float64 `json:"tracking_error"`
	// ByFrequency bins customers by calibration x = 0..6 and 7+.
	ByFrequency []FrequencyBin `json:"by_frequency"`
}

// Tracking returns the tracking curve of the summary: for period k the
// expected cumulative repeat transactions are Σ_customers E[X(t_k - s_i)]
// over customers whose first purchase s_i precedes t_k (as BTYD's
// bgnbd.ExpectedCumulativeTransactions), computed per first-purchase day.
// t_k is the end of period k, capped at the end of the data for a partial
// last period.
func Tracking(m CountModel, s *SummaryData) []TrackingPoint {
	last := s.CalibrationEnd
	if s.HoldoutEnd != nil {
		last = *s.HoldoutEnd
	}
	// The data end with the last day, so the partial last period ends there.
	endUnits := float64(daysBetween(s.FirstPurchase, last)+1) / s.UnitDays
	out := make([]TrackingPoint, len(s.PeriodRepeats))
	cumA, prevE := 0, 0.0
	for k := range out {
		tk := math.Min(float64(k+1), endUnits)
		var e float64
		for _, c := range s.Cohorts {
			if c.Offset < tk {
				e += float64(c.Count) * m.ExpectedTransactions(tk-c.Offset)
			}
		}
		cumA += s.PeriodRepeats[k]
		out[k] = TrackingPoint{
			Period:             k + 1,
			Holdout:            float64(k) >= s.CalibrationPeriods-1e-9,
			Actual:             s.PeriodRepeats[k],
			Expected:           e - prevE,
			ActualCumulative:   cumA,
			ExpectedCumulative: e,
		}
		prevE = e
	}
	return out
}

// Validate compares the model's predictions with the holdout period of the
// summary. It returns nil when the summary has no holdout.
func Validate(m *BGNBD, s *SummaryData) *HoldoutReport {
	return validate(m, s, nil)
}

// ValidateModel is Validate for any of the continuous-time models.
func ValidateModel(m CountModel, s *SummaryData) *HoldoutReport {
	return validate(m, s, nil)
}

// validate reuses tracking when the caller already has it.
func validate(m CountModel, s *SummaryData, tracking []TrackingPoint) *HoldoutReport {
	if s.HoldoutEnd == nil {
		return nil
	}
	rep := &HoldoutReport{Length: s.HoldoutLength}
	// E[Y(t)] = N(x, T) * P(alive | x, t_x, T); N is the costly part.
	type xT struct {
		x int
		T float64
	}
	alive := map[xT]float64{}
	const maxBin = 7
	bins := make([]FrequencyBin, maxBin+1)
	for i := range bins {
		bins[i] = FrequencyBin{Label: strconv.Itoa(i), MinX: i}
	}
	bins[maxBin].Label = strconv.Itoa(maxBin) + "+"
	var absErr, sqErr float64
	n := 0
	for _, g := range s.Holdout {
		k := xT{g.X, g.T}
		na, ok := alive[k]
		if !ok {
			na = m.aliveExpected(s.HoldoutLength, float64(g.X), g.T)
			alive[k] = na
		}
		pred := na * m.PAlive(float64(g.X), g.Tx, g.T)
		c := float64(g.Count)
		diff := pred - float64(g.HoldoutX)
		absErr += c * math.Abs(diff)
		sqErr += c * diff * diff
		n += g.Count
		rep.ActualTotal += g.HoldoutX * g.Count
		rep.ExpectedTotal += c * pred
		b := &bins[min(g.X, maxBin)]
		b.Customers += g.Count
		b.ActualMean += float64(g.HoldoutX * g.Count)
		b.ExpectedMean += c * pred
	}
	for i := range bins {
		if bins[i].Customers > 0 {
			bins[i].ActualMean /= float64(bins[i].Customers)
			bins[i].ExpectedMean /= float64(bins[i].Customers)
		}
	}
	rep.ByFrequency = bins
	if n > 0 {
		rep.CustomerMAE = absErr / float64(n)
		rep.CustomerRMSE = math.Sqrt(sqErr / float64(n))
	}
	rep.TotalError = rep.ExpectedTotal - float64(rep.ActualTotal)
	if rep.ActualTotal > 0 {
		rep.TotalErrorPct = 100 * rep.TotalError / float64(rep.ActualTotal)
	}
	if tracking == nil {
		tracking = Tracking(m, s)
	}
	var ea, ee float64
	for _, p := range tracking {
		if p.Holdout {
			ea += float64(p.Actual)
			ee += p.Expected
		}
	}
	rep.TrackingError = ee - ea
	return rep
}
