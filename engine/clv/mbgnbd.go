package clv

import "math"

// MBGNBD is the modified BG/NBD model (Batislam, Denizel & Filiztekin 2007;
// BTYDplus): as BG/NBD, but a customer may also leave right after her first
// purchase, so that a customer without repeat purchases is not certain to be
// alive. Time is in the unit of the data it was fitted on.
type MBGNBD struct {
	R             float64 `json:"r"`
	Alpha         float64 `json:"alpha"`
	A             float64 `json:"a"`
	B             float64 `json:"b"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     int     `json:"customers"`
	Convergence
}

// NewMBGNBD returns a model with the given parameters.
func NewMBGNBD(r, alpha, a, b float64) *MBGNBD { return &MBGNBD{R: r, Alpha: alpha, A: a, B: b} }

// ModelName implements CountModel.
func (m *MBGNBD) ModelName() string { return ModelMBGNBD }

// FitMBGNBD fits MBG/NBD by maximum likelihood on grouped (x, t_x, T) data.
// The likelihood is BG/NBD's with b+x replaced by b+x+1 and the dropout term
// a/(b+x) (α+t_x)^-(r+x) present for x = 0 too; the analytic gradient is
// shared with BG/NBD. Errors are as FitBGNBD's.
func FitMBGNBD(groups []Triple, opts SolverOptions) (*MBGNBD, error) {
	d, n, err := newBGDataShift(groups, 1)
	if err != nil {
		return nil, err
	}
	start, err := startOrDefault(opts, []float64{1, meanAge(groups), 1, 1})
	if err != nil {
		return nil, err
	}
	sol := minimize(d.negLL, start, opts)
	m := &MBGNBD{R: math.Exp(sol.theta[0]), Alpha: math.Exp(sol.theta[1]), A: math.Exp(sol.theta[2]), B: math.Exp(sol.theta[3]),
		LogLikelihood: -sol.f * d.n, Customers: n, Convergence: sol.Convergence}
	return m, checkFit("mbg/nbd", sol, m.LogLikelihood, m.R, m.Alpha, m.A, m.B)
}

// LogLikelihoodOf evaluates the model's log-likelihood on grouped data.
func (m *MBGNBD) LogLikelihoodOf(groups []Triple) (float64, error) {
	d, _, err := newBGDataShift(groups, 1)
	if err != nil {
		return 0, err
	}
	return -d.negLL(logStart([]float64{m.R, m.Alpha, m.A, m.B}), nil) * d.n, nil
}

// PAlive is 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)), for every x.
func (m *MBGNBD) PAlive(x, tx, T float64) float64 {
	le := math.Log(m.A) - math.Log(m.B+x) + (m.R+x)*(math.Log(m.Alpha+T)-math.Log(m.Alpha+tx))
	return 1 / (1 + math.Exp(le))
}

// aliveExpected is E[Y(t)] of a customer alive at T: an alive MBG/NBD
// customer has survived x+1 dropout chances, so it is BG/NBD's with b+1.
func (m *MBGNBD) aliveExpected(t, x, T float64) float64 {
	return (&BGNBD{R: m.R, Alpha: m.Alpha, A: m.A, B: m.B + 1}).aliveExpected(t, x, T)
}

// ExpectedTransactions is E[X(t)] for a new customer, who is still alive
// after the first purchase with probability b/(a+b).
func (m *MBGNBD) ExpectedTransactions(t float64) float64 {
	return m.ConditionalExpected(t, 0, 0, 0)
}

// ConditionalExpected is E[Y(t) | x, t_x, T].
func (m *MBGNBD) ConditionalExpected(t, x, tx, T float64) float64 {
	return m.aliveExpected(t, x, T) * m.PAlive(x, tx, T)
}
