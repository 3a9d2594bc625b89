package clv

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// NBD is the negative binomial distribution model (Ehrenberg 1959): Poisson
// purchases at rate λ ~ Gamma(r, α) and no dropout. It is the baseline
// the models with dropout have to beat.
type NBD struct {
	R             float64 `json:"r"`
	Alpha         float64 `json:"alpha"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     int     `json:"customers"`
	Convergence
}

// NewNBD returns a model with the given parameters.
func NewNBD(r, alpha float64) *NBD { return &NBD{R: r, Alpha: alpha} }

// ModelName implements CountModel.
func (m *NBD) ModelName() string { return ModelNBD }

// nbdData holds Σ weights per distinct x and per distinct (x, T); t_x does
// not enter the NBD likelihood.
type nbdData struct {
	xs, wx []float64
	xT     []pnbdKey
	wxT    []float64
	n      float64
}

func newNBDData(groups []Triple) (*nbdData, int, error) {
	d := &nbdData{}
	xIdx, kIdx := map[int]int{}, map[pnbdKey]int{}
	repeat := 0
	for _, g := range groups {
		if g.Count <= 0 {
			continue
		}
		if err := checkTriple(g); err != nil {
			return nil, 0, err
		}
		w := float64(g.Count)
		d.n += w
		if g.X > 0 {
			repeat += g.Count
		}
		i, ok := xIdx[g.X]
		if !ok {
			i = len(d.xs)
			xIdx[g.X] = i
			d.xs, d.wx = append(d.xs, float64(g.X)), append(d.wx, 0)
		}
		d.wx[i] += w
		k := pnbdKey{float64(g.X), g.T}
		j, ok := kIdx[k]
		if !ok {
			j = len(d.xT)
			kIdx[k] = j
			d.xT, d.wxT = append(d.xT, k), append(d.wxT, 0)
		}
		d.wxT[j] += w
	}
	if err := checkPopulation(d.n, repeat, "NBD"); err != nil {
		return nil, 0, err
	}
	return d, int(d.n), nil
}

// negLL is minus the mean NBD log-likelihood of x repeat purchases in T,
//
//	lnΓ(r+x) - lnΓ(r) + r ln α - (r+x) ln(α+T)   (+ x ln T, constant, left out),
//
// and its gradient with respect to log(r, α).
func (d *nbdData) negLL(theta, grad []float64) float64 {
	if !logParamsOK(theta) {
		return math.Inf(1)
	}
	r, al := math.Exp(theta[0]), math.Exp(theta[1])
	lgr, _ := math.Lgamma(r)
	psr, lal := mathext.Digamma(r), math.Log(al)
	var ll, gr, ga float64
	for i, x := range d.xs {
		w := d.wx[i]
		lgrx, _ := math.Lgamma(r + x)
		ll += w * (lgrx - lgr + r*lal)
		gr += w * (mathext.Digamma(r+x) - psr + lal)
		ga += w * r / al
	}
	for j, k := range d.xT {
		w := d.wxT[j]
		l := math.Log(al + k.t)
		ll -= w * (r + k.x) * l
		gr -= w * l
		ga -= w * (r + k.x) / (al + k.t)
	}
	if grad != nil {
		grad[0] = -gr * r / d.n
		grad[1] = -ga * al / d.n
	}
	return -ll / d.n
}

// FitNBD fits the NBD model by maximum likelihood; errors are as FitBGNBD's.
func FitNBD(groups []Triple, opts SolverOptions) (*NBD, error) {
	d, n, err := newNBDData(groups)
	if err != nil {
		return nil, err
	}
	start, err := startOrDefault(opts, []float64{1, meanAge(groups)})
	if err != nil {
		return nil, err
	}
	sol := minimize(d.negLL, start, opts)
	m := &NBD{R: math.Exp(sol.theta[0]), Alpha: math.Exp(sol.theta[1]), LogLikelihood: -sol.f * d.n, Customers: n, Convergence: sol.Convergence}
	return m, checkFit("nbd", sol, m.LogLikelihood, m.R, m.Alpha)
}

// LogLikelihoodOf evaluates the model's log-likelihood on grouped data
// (without the parameter-free Σ x ln T).
func (m *NBD) LogLikelihoodOf(groups []Triple) (float64, error) {
	d, _, err := newNBDData(groups)
	if err != nil {
		return 0, err
	}
	return -d.negLL(logStart([]float64{m.R, m.Alpha}), nil) * d.n, nil
}

// PAlive is 1: the NBD customer never leaves.
func (m *NBD) PAlive(_, _, _ float64) float64 { return 1 }

func (m *NBD) aliveExpected(t, x, T float64) float64 {
	if !(t > 0) {
		return 0
	}
	return (m.R + x) / (m.Alpha + T) * t
}

// ExpectedTransactions is E[X(t)] = r t / α.
func (m *NBD) ExpectedTransactions(t float64) float64 { return m.aliveExpected(t, 0, 0) }

// ConditionalExpected is E[Y(t) | x, T] = (r+x) t / (α+T).
func (m *NBD) ConditionalExpected(t, x, _, T float64) float64 { return m.aliveExpected(t, x, T) }
