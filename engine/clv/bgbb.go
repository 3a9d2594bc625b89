package clv

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// BGBB is the beta-geometric/beta-Bernoulli model of discrete-time
// repeat transactions (Fader, Hardie & Shang 2010): while alive a customer
// transacts in each period with probability p ~ Beta(α, β) and, after each
// period, leaves with probability θ ~ Beta(γ, δ). Time is in periods.
type BGBB struct {
	Alpha         float64 `json:"alpha"`
	Beta          float64 `json:"beta"`
	Gamma         float64 `json:"gamma"`
	Delta         float64 `json:"delta"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     int     `json:"customers"`
	Convergence
}

// NewBGBB returns a model with the given parameters.
func NewBGBB(alpha, beta, gamma, delta float64) *BGBB {
	return &BGBB{Alpha: alpha, Beta: beta, Gamma: gamma, Delta: delta}
}

// Pattern is one BG/BB sufficient statistic: X periods with a repeat
// transaction out of N, the last of them period Tx (0 when X = 0), with the
// number of customers who share it.
type Pattern struct {
	X     int `json:"x"`
	Tx    int `json:"t_x"`
	N     int `json:"n"`
	Count int `json:"count"`
}

type bgbbData struct {
	rows []Pattern
	n    float64
}

func newBGBBData(patterns []Pattern) (*bgbbData, int, error) {
	d := &bgbbData{}
	repeat := 0
	for _, p := range patterns {
		if p.Count <= 0 {
			continue
		}
		if p.N < 1 || p.X < 0 || p.X > p.N || p.Tx > p.N || p.Tx < p.X || (p.X == 0) != (p.Tx == 0) {
			return nil, 0, inputErrorf("summary", "invalid pattern x=%d t_x=%d n=%d: need 0 <= x <= t_x <= n, t_x = 0 exactly when x = 0", p.X, p.Tx, p.N)
		}
		d.rows = append(d.rows, p)
		d.n += float64(p.Count)
		if p.X > 0 {
			repeat += p.Count
		}
	}
	if err := checkPopulation(d.n, repeat, "BG/BB"); err != nil {
		return nil, 0, err
	}
	return d, int(d.n), nil
}

// bgbbTerm is the log of one term of the BG/BB likelihood,
// B(α+x, β+m)/B(α,β) * B(γ+g, δ+k)/B(γ,δ), and its gradient in (α, β, γ, δ);
// ps holds ψ(α), ψ(β), ψ(α+β), ψ(γ), ψ(δ), ψ(γ+δ).
func (m *BGBB) term(x, mm, g, k float64, ps *[6]float64, grad *[4]float64) float64 {
	al, be, ga, de := m.Alpha, m.Beta, m.Gamma, m.Delta
	l := mathext.Lbeta(al+x, be+mm) + mathext.Lbeta(ga+g, de+k)
	if grad != nil {
		p1 := mathext.Digamma(al + be + x + mm)
		p2 := mathext.Digamma(ga + de + g + k)
		grad[0] = mathext.Digamma(al+x) - p1 - ps[0] + ps[2]
		grad[1] = mathext.Digamma(be+mm) - p1 - ps[1] + ps[2]
		grad[2] = mathext.Digamma(ga+g) - p2 - ps[3] + ps[5]
		grad[3] = mathext.Digamma(de+k) - p2 - ps[4] + ps[5]
	}
	return l
}

// logLik returns ln L(x, t_x, n) (FHS 2010, eq. 5) less the constant
// ln B(α,β) + ln B(γ,δ), and its gradient when grad is not nil:
//
//	L = B(α+x, β+n-x)/B(α,β) B(γ, δ+n)/B(γ,δ)
//	  + Σ_{i=0}^{n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β) B(γ+1, δ+t_x+i)/B(γ,δ)
//
// The terms are combined in log space, so no pattern under- or overflows.
func (m *BGBB) logLik(p Pattern, ps *[6]float64, grad *[4]float64) float64 {
	x, tx, n := float64(p.X), float64(p.Tx), float64(p.N)
	var g0, gi [4]float64
	var gp *[4]float64
	if grad != nil {
		gp = &g0
	}
	lse := m.term(x, n-x, 0, n, ps, gp)
	var acc [4]float64
	acc = g0
	if grad != nil {
		gp = &gi
	}
	for i := 0.0; i < n-tx; i++ {
		li := m.term(x, tx-x+i, 1, tx+i, ps, gp)
		next, share := logSumExp2(lse, li)
		if grad != nil {
			for j := range acc {
				acc[j] = (1-share)*acc[j] + share*gi[j]
			}
		}
		lse = next
	}
	if grad != nil {
		*grad = acc
	}
	return lse
}

func (m *BGBB) digammas() *[6]float64 {
	return &[6]float64{mathext.Digamma(m.Alpha), mathext.Digamma(m.Beta), mathext.Digamma(m.Alpha + m.Beta),
		mathext.Digamma(m.Gamma), mathext.Digamma(m.Delta), mathext.Digamma(m.Gamma + m.Delta)}
}

func (m *BGBB) constant() float64 {
	return mathext.Lbeta(m.Alpha, m.Beta) + mathext.Lbeta(m.Gamma, m.Delta)
}

// negLL is minus the mean BG/BB log-likelihood and its gradient with
// respect to log(α, β, γ, δ).
func (d *bgbbData) negLL(theta, grad []float64) float64 {
	if !logParamsOK(theta) {
		return math.Inf(1)
	}
	m := NewBGBB(math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2]), math.Exp(theta[3]))
	var ps *[6]float64
	var g [4]float64
	var gs [4]float64
	var gp *[4]float64
	if grad != nil {
		ps, gp = m.digammas(), &g
	}
	c := m.constant()
	var ll float64
	for _, p := range d.rows {
		w := float64(p.Count)
		ll += w * (m.logLik(p, ps, gp) - c)
		if grad != nil {
			for j := range gs {
				gs[j] += w * g[j]
			}
		}
	}
	if grad != nil {
		par := [4]float64{m.Alpha, m.Beta, m.Gamma, m.Delta}
		for j := range grad {
			grad[j] = -gs[j] * par[j] / d.n
		}
	}
	return -ll / d.n
}

// FitBGBB fits BG/BB by maximum likelihood on (x, t_x, n) patterns with the
// analytic gradient; errors are as FitBGNBD's.
func FitBGBB(patterns []Pattern, opts SolverOptions) (*BGBB, error) {
	d, n, err := newBGBBData(patterns)
	if err != nil {
		return nil, err
	}
	start, err := startOrDefault(opts, []float64{1, 1, 1, 1})
	if err != nil {
		return nil, err
	}
	sol := minimize(d.negLL, start, opts)
	m := &BGBB{Alpha: math.Exp(sol.theta[0]), Beta: math.Exp(sol.theta[1]), Gamma: math.Exp(sol.theta[2]), Delta: math.Exp(sol.theta[3]),
		LogLikelihood: -sol.f * d.n, Customers: n, Convergence: sol.Convergence}
	return m, checkFit("bg/bb", sol, m.LogLikelihood, m.Alpha, m.Beta, m.Gamma, m.Delta)
}

// LogLikelihoodOf evaluates the model's log-likelihood on patterns.
func (m *BGBB) LogLikelihoodOf(patterns []Pattern) (float64, error) {
	d, _, err := newBGBBData(patterns)
	if err != nil {
		return 0, err
	}
	return -d.negLL(logStart([]float64{m.Alpha, m.Beta, m.Gamma, m.Delta}), nil) * d.n, nil
}

// PAlive is P(alive in period n+1 | x, t_x, n) (FHS 2010, eq. 11).
func (m *BGBB) PAlive(x, tx, n int) float64 {
	p := Pattern{X: x, Tx: tx, N: n}
	xf, nf := float64(x), float64(n)
	return math.Exp(mathext.Lbeta(m.Alpha+xf, m.Beta+nf-xf) + mathext.Lbeta(m.Gamma, m.Delta+nf+1) - m.logLik(p, nil, nil))
}

// ConditionalExpected is E[X(n, n+t) | x, t_x, n], the expected transactions
// in the next t periods (FHS 2010, eq. 13). t need not be whole: the
// gamma-function form interpolates smoothly between periods.
func (m *BGBB) ConditionalExpected(t float64, x, tx, n int) float64 {
	if !(t > 0) {
		return 0
	}
	xf, nf := float64(x), float64(n)
	ga, de := m.Gamma, m.Delta
	la := mathext.Lbeta(m.Alpha+xf+1, m.Beta+nf-xf) - m.logLik(Pattern{X: x, Tx: tx, N: n}, nil, nil)
	lg := func(v float64) float64 { r, _ := math.Lgamma(v); return r }
	// δ/(γ-1) Γ(γ+δ)/Γ(1+δ) [Γ(1+δ+n)/Γ(γ+δ+n) - Γ(1+δ+n+t)/Γ(γ+δ+n+t)]
	// = δ Γ(γ+δ)Γ(1+δ+n)/(Γ(1+δ)Γ(γ+δ+n)) * (1 - e^D)/(γ-1),
	// with D -> 0 as γ -> 1; the limit there is ψ(1+δ+n+t) - ψ(1+δ+n).
	base := lg(ga+de) + lg(1+de+nf) - lg(1+de) - lg(ga+de+nf)
	var frac float64
	if math.Abs(ga-1) < 1e-8 {
		frac = mathext.Digamma(1+de+nf+t) - mathext.Digamma(1+de+nf)
	} else {
		D := lg(1+de+nf+t) - lg(ga+de+nf+t) - lg(1+de+nf) + lg(ga+de+nf)
		frac = -math.Expm1(D) / (ga - 1)
	}
	return de * math.Exp(la+base+mathext.Lbeta(m.Gamma, m.Delta)) * frac
}

// ExpectedTransactions is E[X(t)], the expected transactions of a new
// customer in her first t periods (FHS 2010, eq. 7).
func (m *BGBB) ExpectedTransactions(t float64) float64 {
	return m.ConditionalExpected(t, 0, 0, 0)
}

// DERT is the discounted expected residual transactions (FHS 2010, eq. 14)
// at discount rate d per period, transactions of period n+1 discounted once:
//
//	B(α+x+1, β+n-x)/B(α,β) B(γ, δ+n+1)/(B(γ,δ)(1+d)) 2F1(1, δ+n+1; γ+δ+n+1; 1/(1+d)) / L.
func (m *BGBB) DERT(d float64, x, tx, n int) float64 {
	if !(d > 0) {
		return math.NaN()
	}
	xf, nf := float64(x), float64(n)
	l := mathext.Lbeta(m.Alpha+xf+1, m.Beta+nf-xf) + mathext.Lbeta(m.Gamma, m.Delta+nf+1) - m.logLik(Pattern{X: x, Tx: tx, N: n}, nil, nil)
	mant, ls := hypSeries(1, 0, 1, m.Delta+nf+1, m.Gamma+m.Delta+nf+1, 1/(1+d))
	return math.Exp(l+ls) * mant / (1 + d)
}
