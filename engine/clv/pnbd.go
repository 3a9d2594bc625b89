package clv

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// ParetoNBD is a fitted Pareto/NBD model (Schmittlein, Morrison & Colombo
// 1987): while alive a customer buys at Poisson rate λ ~ Gamma(r, α) and
// leaves after an exponential lifetime of rate μ ~ Gamma(s, β).
type ParetoNBD struct {
	R             float64 `json:"r"`
	Alpha         float64 `json:"alpha"`
	S             float64 `json:"s"`
	Beta          float64 `json:"beta"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     int     `json:"customers"`
	Convergence
}

// NewParetoNBD returns a model with the given parameters.
func NewParetoNBD(r, alpha, s, beta float64) *ParetoNBD {
	return &ParetoNBD{R: r, Alpha: alpha, S: s, Beta: beta}
}

// ModelName implements CountModel.
func (m *ParetoNBD) ModelName() string { return ModelParetoNBD }

// The likelihood (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD
// Model and Related Expressions") integrates the individual likelihood
// λ^x e^{-(λ+μ)T} + λ^x μ ∫_{t_x}^T e^{-(λ+μ)τ} dτ over the two gammas:
//
//	L = Γ(r+x) α^r β^s / Γ(r) * [ (α+T)^-(r+x) (β+T)^-s + s (I(t_x) - I(T)) ]
//	I(t) = ∫_t^∞ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ
//
// I is the Gaussian hypergeometric term of the usual form. After Euler's
// transformation it is, with a = r+s+x,
//
//	α ≥ β: I(t) = (α+t)^-(r+x) (β+t)^-s / a * Σ_n (r+x)_n/(a+1)_n z^n,   z = (α-β)/(α+t)
//	α < β: I(t) = (α+t)^-(r+x-1) (β+t)^-(s+1) / a * Σ_n (s+1)_n/(a+1)_n z^n, z = (β-α)/(β+t)
//
// Both series start at 1 and every term ratio is below z < 1, so they
// neither overflow (whatever x) nor lose precision, and are carried in log
// space together with their derivatives. I(t_x) - I(T) is formed as
// I(t_x)(1 - e^{ln I(T) - ln I(t_x)}), which is exactly 0 when t_x = T.

// pnbdKey is a distinct (x, t) at which I is evaluated.
type pnbdKey struct {
	x float64
	t float64
}

// pnbdRow is one distinct (x, t_x, T) with its weight; the indices point into
// the per-(x, t) and per-(x, T) tables of pnbdData.
type pnbdRow struct {
	xi, tx, tT int32 // distinct x; I at (x, t_x); I at (x, T)
	w          float64
}

type pnbdData struct {
	xs, wx []float64
	keys   []pnbdKey
	rows   []pnbdRow
	n      float64
	// scratch per key: log I and its gradient (r, α, s, β), and ln(α+t),
	// ln(β+t), 1/(α+t), 1/(β+t)
	lI     []float64
	gI     [][4]float64
	lA, lB []float64
	iA, iB []float64
}

func newPNBDData(groups []Triple, name string) (*pnbdData, int, error) {
	d := &pnbdData{}
	xIdx := map[int]int32{}
	kIdx := map[pnbdKey]int32{}
	key := func(k pnbdKey) int32 {
		i, ok := kIdx[k]
		if !ok {
			i = int32(len(d.keys))
			kIdx[k] = i
			d.keys = append(d.keys, k)
		}
		return i
	}
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
		xi, ok := xIdx[g.X]
		if !ok {
			xi = int32(len(d.xs))
			xIdx[g.X] = xi
			d.xs = append(d.xs, float64(g.X))
			d.wx = append(d.wx, 0)
		}
		d.wx[xi] += w
		if g.X > 0 {
			repeat += g.Count
		}
		x := float64(g.X)
		tx := math.Min(g.Tx, g.T)
		d.rows = append(d.rows, pnbdRow{xi: xi, tx: key(pnbdKey{x, tx}), tT: key(pnbdKey{x, g.T}), w: w})
	}
	if err := checkPopulation(d.n, repeat, name); err != nil {
		return nil, 0, err
	}
	k := len(d.keys)
	d.lI, d.gI = make([]float64, k), make([][4]float64, k)
	d.lA, d.lB, d.iA, d.iB = make([]float64, k), make([]float64, k), make([]float64, k), make([]float64, k)
	return d, int(d.n), nil
}

// checkTriple refuses a summary row no model can use.
func checkTriple(g Triple) error {
	if g.X < 0 || !isFinite(g.T) || !isFinite(g.Tx) || g.Tx < 0 || g.T < 0 || g.Tx > g.T+1e-9 {
		return inputErrorf("summary", "invalid triple x=%d t_x=%g T=%g: need x >= 0 and 0 <= t_x <= T", g.X, g.Tx, g.T)
	}
	return nil
}

// checkPopulation refuses data too thin to identify a model.
func checkPopulation(n float64, repeat int, name string) error {
	if n == 0 {
		return inputErrorf("summary", "no customers to fit")
	}
	if repeat < MinRepeatBuyers {
		return inputErrorf("calibration_end", "only %d customers made a repeat purchase in the calibration period; %s needs at least %d (choose a later calibration_end or more data)", repeat, name, MinRepeatBuyers)
	}
	return nil
}

// pnbdSeriesCap bounds the series of logI. Terms shrink at least like z^n,
// so it is reached only for z within ~1e-4 of 1 (one of α, β thousands of
// times the other and t small), a region the optimiser merely passes
// through; the remainder is then estimated from the last term ratio.
const pnbdSeriesCap = 400_000

// logI returns ln I(t) for frequency x and its gradient with respect to
// (r, α, s, β); see the comment above pnbdKey.
func logI(r, al, s, be, x, t float64) (float64, [4]float64) {
	a := r + s + x
	var g [4]float64
	var z, p, dzA, dzB, lead float64
	if al >= be {
		z = (al - be) / (al + t)
		p = r + x // numerator parameter of the series
		dzA = (be + t) / ((al + t) * (al + t))
		dzB = -1 / (al + t)
		lead = -(r+x)*math.Log(al+t) - s*math.Log(be+t)
		g[1] = -(r + x) / (al + t)
		g[3] = -s / (be + t)
	} else {
		z = (be - al) / (be + t)
		p = s + 1
		dzA = -1 / (be + t)
		dzB = (al + t) / ((be + t) * (be + t))
		lead = -(r+x-1)*math.Log(al+t) - (s+1)*math.Log(be+t)
		g[1] = -(r + x - 1) / (al + t)
		g[3] = -(s + 1) / (be + t)
	}
	g[0] = -math.Log(al+t) - 1/a
	g[2] = -math.Log(be+t) - 1/a
	sum, sr, ss, sz := pnbdSeries(z, p, a, al >= be)
	g[0] += sr / sum
	g[2] += ss / sum
	dz := sz / sum
	g[1] += dz * dzA
	g[3] += dz * dzB
	return lead - math.Log(a) + math.Log(sum), g
}

// pnbdSeries sums S = Σ_n c_n z^n with c_0 = 1, c_{n+1}/c_n = (p+n)/(a+1+n)
// and the derivatives of S with respect to r, s and z. With α ≥ β, p = r+x
// (a = r+s+x, so ∂p/∂r = 1, ∂p/∂s = 0); otherwise p = s+1 (∂p/∂r = 0,
// ∂p/∂s = 1). dr and ds accumulate ∂ln c_n along the series.
func pnbdSeries(z, p, a float64, pOfR bool) (sum, sr, ss, sz float64) {
	term, dr, ds := 1.0, 0.0, 0.0
	sum = 1
	if z == 0 {
		return 1, 0, 0, 0
	}
	for n := 0.0; n < pnbdSeriesCap; n++ {
		ratio := (p + n) / (a + 1 + n) * z
		ia := 1 / (a + 1 + n)
		ip := 1 / (p + n)
		if pOfR {
			dr += ip - ia
			ds -= ia
		} else {
			dr -= ia
			ds += ip - ia
		}
		term *= ratio
		sum += term
		sr += term * dr
		ss += term * ds
		sz += term * (n + 1) / z
		if term <= 1e-17*(1-ratio)*sum {
			return sum, sr, ss, sz
		}
	}
	// Not converged: the terms decay at least geometrically with the current
	// ratio, so add that geometric tail to the value.
	ratio := (p + pnbdSeriesCap) / (a + 1 + pnbdSeriesCap) * z
	return sum + term*ratio/(1-ratio), sr, ss, sz
}

// negLL is minus the mean Pareto/NBD log-likelihood and its gradient with
// respect to log(r, α, s, β).
func (d *pnbdData) negLL(theta, grad []float64) float64 {
	if !logParamsOK(theta) {
		return math.Inf(1)
	}
	r, al, s, be := math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2]), math.Exp(theta[3])
	for i, k := range d.keys {
		d.lI[i], d.gI[i] = logI(r, al, s, be, k.x, k.t)
		d.lA[i], d.lB[i] = math.Log(al+k.t), math.Log(be+k.t)
		d.iA[i], d.iB[i] = 1/(al+k.t), 1/(be+k.t)
	}
	lgr, _ := math.Lgamma(r)
	psr := mathext.Digamma(r)
	lal, lbe, ls := math.Log(al), math.Log(be), math.Log(s)
	var ll float64
	var gs [4]float64
	for i, x := range d.xs {
		w := d.wx[i]
		lgrx, _ := math.Lgamma(r + x)
		ll += w * (lgrx - lgr + r*lal + s*lbe)
		if grad != nil {
			gs[0] += w * (mathext.Digamma(r+x) - psr + lal)
			gs[1] += w * r / al
			gs[2] += w * lbe
			gs[3] += w * s / be
		}
	}
	for _, row := range d.rows {
		x := d.xs[row.xi]
		lAT, lBT := d.lA[row.tT], d.lB[row.tT]
		l1 := -(r+x)*lAT - s*lBT
		lse, w2, q := pnbdRowLL(l1, ls, d.lI[row.tx], d.lI[row.tT])
		ll += row.w * lse
		if grad == nil {
			continue
		}
		w1 := 1 - w2
		gs[0] -= row.w * w1 * lAT
		gs[1] -= row.w * w1 * (r + x) * d.iA[row.tT]
		gs[2] -= row.w * w1 * lBT
		gs[3] -= row.w * w1 * s * d.iB[row.tT]
		if w2 == 0 {
			continue
		}
		gTx, gT := &d.gI[row.tx], &d.gI[row.tT]
		for j := 0; j < 4; j++ {
			gs[j] += row.w * w2 * (gTx[j] - q*gT[j]) / (1 - q)
		}
		gs[2] += row.w * w2 / s
	}
	if grad != nil {
		p := [4]float64{r, al, s, be}
		for j := range grad {
			grad[j] = -gs[j] * p[j] / d.n
		}
	}
	return -ll / d.n
}

// pnbdRowLL returns the log of the bracket of the likelihood,
// ln(e^l1 + s (I(t_x) - I(T))) with ls = ln s, lTx = ln I(t_x), lT = ln I(T),
// the share w2 of the second term and q = I(T)/I(t_x). In the usual case it
// works relative to e^l1 (one log1p, two exp); when I(t_x) dwarfs e^l1 (a
// large x bought long ago) it falls back to log space.
func pnbdRowLL(l1, ls, lTx, lT float64) (lse, w2, q float64) {
	if lTx == lT { // t_x = T: no time to have died unseen
		return l1, 0, 1
	}
	if d := ls + lTx - l1; d < 600 {
		a, b := math.Exp(d), math.Exp(ls+lT-l1)
		R := a - b
		return l1 + math.Log1p(R), R / (1 + R), b / a
	}
	q = math.Exp(lT - lTx)
	lse, w2 = logSumExp2(l1, ls+lTx+math.Log1p(-q))
	return lse, w2, q
}

// logSumExp2 returns log(e^a + e^b) and the share e^b/(e^a+e^b).
func logSumExp2(a, b float64) (float64, float64) {
	if math.IsInf(b, -1) {
		return a, 0
	}
	if a >= b {
		e := math.Exp(b - a)
		return a + math.Log1p(e), e / (1 + e)
	}
	e := math.Exp(a - b)
	return b + math.Log1p(e), 1 / (1 + e)
}

// FitParetoNBD fits Pareto/NBD by maximum likelihood on grouped (x, t_x, T)
// data, with the analytic gradient; errors are as FitBGNBD's.
func FitParetoNBD(groups []Triple, opts SolverOptions) (*ParetoNBD, error) {
	d, n, err := newPNBDData(groups, "Pareto/NBD")
	if err != nil {
		return nil, err
	}
	// r = s = 1 and α = β matching the observed repeat rate: a start with
	// mean purchase rate and mean dropout rate of the same order.
	alpha0 := meanAge(groups)
	start, err := startOrDefault(opts, []float64{1, alpha0, 1, alpha0})
	if err != nil {
		return nil, err
	}
	sol := minimize(d.negLL, start, opts)
	m := &ParetoNBD{
		R: math.Exp(sol.theta[0]), Alpha: math.Exp(sol.theta[1]),
		S: math.Exp(sol.theta[2]), Beta: math.Exp(sol.theta[3]),
		LogLikelihood: -sol.f * d.n, Customers: n, Convergence: sol.Convergence,
	}
	return m, checkFit("pareto/nbd", sol, m.LogLikelihood, m.R, m.Alpha, m.S, m.Beta)
}

// meanAge is Σ T / Σ x of the groups (the inverse of the observed repeat
// rate), a scale for α that is right in any time unit.
func meanAge(groups []Triple) float64 {
	var sumX, sumT float64
	for _, g := range groups {
		if g.Count > 0 {
			sumX += float64(g.X * g.Count)
			sumT += g.T * float64(g.Count)
		}
	}
	v := sumT / sumX
	if !(v > 0) || math.IsInf(v, 0) {
		return 1
	}
	return v
}

// checkFit turns a non-finite or non-converged optimum into an error
// wrapping ErrNotConverged.
func checkFit(name string, sol solution, ll float64, params ...float64) error {
	for _, p := range append(params, ll) {
		if !isFinite(p) {
			return fmt.Errorf("clv %s: no finite optimum (%s): %w", name, sol.Status, ErrNotConverged)
		}
	}
	if !sol.Converged {
		return fmt.Errorf("clv %s: status %s, gradient norm %.3g: %w", name, sol.Status, sol.GradNorm, ErrNotConverged)
	}
	return nil
}

// LogLikelihoodOf evaluates the model's log-likelihood on grouped data.
func (m *ParetoNBD) LogLikelihoodOf(groups []Triple) (float64, error) {
	d, _, err := newPNBDData(groups, "Pareto/NBD")
	if err != nil {
		return 0, err
	}
	return -d.negLL(logStart([]float64{m.R, m.Alpha, m.S, m.Beta}), nil) * d.n, nil
}

// PAlive is the probability that a customer with summary (x, t_x, T) is
// still alive at T: the share of the "alive at T" term in the likelihood.
func (m *ParetoNBD) PAlive(x, tx, T float64) float64 {
	tx = math.Min(tx, T)
	l1 := -(m.R+x)*math.Log(m.Alpha+T) - m.S*math.Log(m.Beta+T)
	lTx, _ := logI(m.R, m.Alpha, m.S, m.Beta, x, tx)
	lT, _ := logI(m.R, m.Alpha, m.S, m.Beta, x, T)
	q := math.Exp(lT - lTx)
	if !(q < 1) {
		return 1
	}
	_, w2 := logSumExp2(l1, math.Log(m.S)+lTx+math.Log1p(-q))
	return 1 - w2
}

// aliveExpected is E[Y(t)] for a customer alive at T:
// (r+x)(β+T)/((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)], with its limit
// (r+x)(β+T)/(α+T) ln(1 + t/(β+T)) at s = 1.
func (m *ParetoNBD) aliveExpected(t, x, T float64) float64 {
	if !(t > 0) {
		return 0
	}
	return (m.R + x) / (m.Alpha + T) * (m.Beta + T) * expm1Ratio(m.S-1, math.Log1p(t/(m.Beta+T)))
}

// expm1Ratio is (1 - e^{-g L})/g for L >= 0, continuous at g = 0 (where it
// is L).
func expm1Ratio(g, L float64) float64 {
	if math.Abs(g*L) < 1e-12 {
		return L * (1 - g*L/2)
	}
	return -math.Expm1(-g*L) / g
}

// ExpectedTransactions is E[X(t)] = rβ/(α(s-1)) [1 - (β/(β+t))^(s-1)].
func (m *ParetoNBD) ExpectedTransactions(t float64) float64 {
	return m.aliveExpected(t, 0, 0)
}

// ConditionalExpected is E[Y(t) | x, t_x, T].
func (m *ParetoNBD) ConditionalExpected(t, x, tx, T float64) float64 {
	return m.aliveExpected(t, x, T) * m.PAlive(x, tx, T)
}
