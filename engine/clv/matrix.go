package clv

import "math"

// AliveMatrix is P(alive) and the expected purchases over a horizon on a
// frequency × recency grid, for a heatmap, as one cell per grid point (the
// tidy form a notebook pivots). Cells where the pattern cannot occur are
// left out (BG/BB: x periods with a purchase need t_x ≥ x, and t_x = 0
// exactly when x = 0).
type AliveMatrix struct {
	Model string `json:"model"`
	// Unit of recency and T: the fit's unit, or "period" for BG/BB.
	Unit string `json:"unit"`
	// T is the customers' age (continuous models) or the number of periods
	// observed (BG/BB) the grid is evaluated at.
	T           float64 `json:"T"`
	HorizonDays float64 `json:"horizon_days"`
	// Frequencies and Recencies label the rows and columns. With frequency
	// 0, recency is 0 whatever the column (there is no repeat purchase).
	Frequencies []int       `json:"frequencies"`
	Recencies   []float64   `json:"recencies"`
	Cells       []AliveCell `json:"cells"`
}

// AliveCell is one grid point.
type AliveCell struct {
	Frequency         int     `json:"frequency"`
	Recency           float64 `json:"recency"`
	PAlive            float64 `json:"p_alive"`
	ExpectedPurchases float64 `json:"expected_purchases"`
}

// MatrixOptions sizes the grid; zero values take the defaults.
type MatrixOptions struct {
	MaxFrequency int     // default 20 (BG/BB: the periods)
	Steps        int     // recency columns minus one (default 20; BG/BB: the periods)
	T            float64 // default the calibration length (BG/BB: the periods)
	HorizonDays  float64 // default 90
}

// Bounds of MatrixOptions, so that a grid stays a page of numbers.
const (
	maxMatrixFrequency = 1000
	maxMatrixSteps     = 1000
)

// Matrix evaluates the fit's model on the grid.
func (r *FitResult) Matrix(o MatrixOptions) (*AliveMatrix, error) {
	if o.HorizonDays == 0 {
		o.HorizonDays = PurchaseWindowDays
	}
	if !(o.HorizonDays > 0) || o.HorizonDays > 36525 {
		return nil, inputErrorf("horizon_days", "%g is not in (0, 36525]", o.HorizonDays)
	}
	if o.MaxFrequency < 0 || o.MaxFrequency > maxMatrixFrequency {
		return nil, inputErrorf("max_frequency", "%d is not in 1..%d", o.MaxFrequency, maxMatrixFrequency)
	}
	if o.Steps < 0 || o.Steps > maxMatrixSteps {
		return nil, inputErrorf("steps", "%d is not in 1..%d", o.Steps, maxMatrixSteps)
	}
	if r.BGBB != nil {
		return r.bgbbMatrix(o), nil
	}
	m := r.CountModel()
	if m == nil {
		return nil, inputErrorf("fit", "the fit has no purchase-count model")
	}
	if o.MaxFrequency == 0 {
		o.MaxFrequency = 20
	}
	if o.Steps == 0 {
		o.Steps = 20
	}
	if o.T == 0 {
		o.T = r.Summary.CalibrationPeriods
	}
	if !(o.T > 0) || math.IsInf(o.T, 0) {
		return nil, inputErrorf("T", "%g is not a positive age", o.T)
	}
	u := r.unitDays()
	out := &AliveMatrix{Model: m.ModelName(), Unit: r.Summary.Unit, T: o.T, HorizonDays: o.HorizonDays}
	for k := 0; k <= o.Steps; k++ {
		out.Recencies = append(out.Recencies, o.T*float64(k)/float64(o.Steps))
	}
	for x := 0; x <= o.MaxFrequency; x++ {
		out.Frequencies = append(out.Frequencies, x)
		n := m.aliveExpected(o.HorizonDays/u, float64(x), o.T)
		for _, rec := range out.Recencies {
			tx := rec
			if x == 0 {
				tx = 0
			}
			p := m.PAlive(float64(x), tx, o.T)
			out.Cells = append(out.Cells, AliveCell{Frequency: x, Recency: rec, PAlive: p, ExpectedPurchases: n * p})
		}
	}
	return out, nil
}

func (r *FitResult) bgbbMatrix(o MatrixOptions) *AliveMatrix {
	n := r.Options.Periods
	if o.T > 0 {
		n = int(math.Round(o.T))
	}
	n = max(1, min(n, maxMatrixSteps))
	m := r.BGBB
	out := &AliveMatrix{Model: ModelBGBB, Unit: "period", T: float64(n), HorizonDays: o.HorizonDays}
	t := o.HorizonDays / float64(r.Options.PeriodDays)
	for tx := 0; tx <= n; tx++ {
		out.Recencies = append(out.Recencies, float64(tx))
	}
	for x := 0; x <= n; x++ {
		out.Frequencies = append(out.Frequencies, x)
		for tx := 0; tx <= n; tx++ {
			if (x == 0) != (tx == 0) || tx < x {
				continue
			}
			out.Cells = append(out.Cells, AliveCell{Frequency: x, Recency: float64(tx), PAlive: m.PAlive(x, tx, n),
				ExpectedPurchases: m.ConditionalExpected(t, x, tx, n)})
		}
	}
	return out
}
