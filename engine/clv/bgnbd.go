package clv

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// ErrNotConverged marks a fit whose optimiser did not reach the gradient
// tolerance. The returned model is still filled in, with Converged = false.
var ErrNotConverged = errors.New("clv: maximum-likelihood fit did not converge")

// BGNBD is a fitted (or hand-made) BG/NBD model. Time is in the unit of the
// data it was fitted on.
type BGNBD struct {
	R             float64 `json:"r"`
	Alpha         float64 `json:"alpha"`
	A             float64 `json:"a"`
	B             float64 `json:"b"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     int     `json:"customers"`
	Convergence
}

// NewBGNBD returns a model with the given parameters, for predictions with
// published or stored parameters.
func NewBGNBD(r, alpha, a, b float64) *BGNBD {
	return &BGNBD{R: r, Alpha: alpha, A: a, B: b}
}

// bgRow is one group with x > 0, pointing into the distinct-value tables.
type bgRow struct {
	xi, ti, txi int32
	w           float64
}

// bgData holds the grouped data in a layout where every log and digamma is
// computed once per distinct x, T or t_x and the per-row work is one
// log-sum-exp.
type bgData struct {
	xs, wx []float64 // distinct x and the total weight of each
	ts     []float64 // distinct T
	txs    []float64 // distinct t_x
	rows   []bgRow   // groups with x > 0
	zeroT  []float64 // weight of x = 0 customers per distinct T index
	n      float64
	// scratch, one slot per distinct value
	lT, iT, lTx, iTx []float64
	lbx1, ibx1       []float64 // log and inverse of b+x-1 per distinct x
	// shift is 1 for MBG/NBD, where a customer may also leave right after
	// the first purchase: b+x becomes b+x+1 and x = 0 rows get the dropout
	// term too.
	shift float64
}

func newBGData(groups []Triple) (*bgData, int, error) {
	return newBGDataShift(groups, 0)
}

func newBGDataShift(groups []Triple, shift float64) (*bgData, int, error) {
	d := &bgData{shift: shift}
	xIdx, tIdx, txIdx := map[int]int32{}, map[float64]int32{}, map[float64]int32{}
	index := func(m map[float64]int32, vals *[]float64, v float64) int32 {
		i, ok := m[v]
		if !ok {
			i = int32(len(*vals))
			m[v] = i
			*vals = append(*vals, v)
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
		ti := index(tIdx, &d.ts, g.T)
		for len(d.zeroT) < len(d.ts) {
			d.zeroT = append(d.zeroT, 0)
		}
		if g.X == 0 && shift == 0 {
			// t_x does not enter the BG/NBD likelihood when x = 0.
			d.zeroT[ti] += w
			continue
		}
		if g.X > 0 {
			repeat += g.Count
		}
		d.rows = append(d.rows, bgRow{xi: xi, ti: ti, txi: index(txIdx, &d.txs, g.Tx), w: w})
	}
	if d.n == 0 {
		return nil, 0, inputErrorf("summary", "no customers to fit")
	}
	if repeat < MinRepeatBuyers {
		return nil, 0, inputErrorf("calibration_end", "only %d customers made a repeat purchase in the calibration period; BG/NBD needs at least %d (choose a later calibration_end or more data)", repeat, MinRepeatBuyers)
	}
	d.lT, d.iT = make([]float64, len(d.ts)), make([]float64, len(d.ts))
	d.lTx, d.iTx = make([]float64, len(d.txs)), make([]float64, len(d.txs))
	d.lbx1, d.ibx1 = make([]float64, len(d.xs)), make([]float64, len(d.xs))
	return d, int(d.n), nil
}

// negLL is the BG/NBD objective: minus the mean log-likelihood (FHL 2005,
// eq. 6) and its gradient with respect to theta = log(r, alpha, a, b).
//
//	log L = lnΓ(r+x) - lnΓ(r) + r ln α + lnB(a, b+x) - lnB(a, b)
//	        + log[ (α+T)^-(r+x) + [x>0] a/(b+x-1) (α+t_x)^-(r+x) ]
func (d *bgData) negLL(theta, grad []float64) float64 {
	if !logParamsOK(theta) {
		return math.Inf(1)
	}
	r, al, a, b := math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2]), math.Exp(theta[3])
	lgr, _ := math.Lgamma(r)
	lgb, _ := math.Lgamma(b)
	lgab, _ := math.Lgamma(a + b)
	psr, psb, psab := mathext.Digamma(r), mathext.Digamma(b), mathext.Digamma(a+b)
	lal, la := math.Log(al), math.Log(a)

	var ll, gr, gal, ga, gb float64
	for i, x := range d.xs {
		w := d.wx[i]
		bx := b + x + d.shift // b+x, or b+x+1 for MBG/NBD
		d.lbx1[i] = math.Log(bx - 1)
		d.ibx1[i] = 1 / (bx - 1)
		lgrx, _ := math.Lgamma(r + x)
		lgbx, _ := math.Lgamma(bx)
		lgabx, _ := math.Lgamma(a + bx)
		ll += w * (lgrx - lgr + r*lal + lgab + lgbx - lgb - lgabx)
		if grad != nil {
			psabx := mathext.Digamma(a + bx)
			gr += w * (mathext.Digamma(r+x) - psr + lal)
			gal += w * r / al
			ga += w * (psab - psabx)
			gb += w * (psab + mathext.Digamma(bx) - psb - psabx)
		}
	}
	for i, t := range d.ts {
		d.lT[i] = math.Log(al + t)
		d.iT[i] = 1 / (al + t)
		if w := d.zeroT[i]; w != 0 {
			ll -= w * r * d.lT[i]
			gr -= w * d.lT[i]
			gal -= w * r * d.iT[i]
		}
	}
	for i, t := range d.txs {
		d.lTx[i] = math.Log(al + t)
		d.iTx[i] = 1 / (al + t)
	}
	for _, row := range d.rows {
		rx := r + d.xs[row.xi]
		l3 := -rx * d.lT[row.ti]
		l4 := la - d.lbx1[row.xi] - rx*d.lTx[row.txi]
		// log(e^l3 + e^l4) without overflow; w4 is the share of the
		// "dropped out after the last purchase" term.
		var lse, w4 float64
		if l3 >= l4 {
			e := math.Exp(l4 - l3)
			lse = l3 + math.Log1p(e)
			w4 = e / (1 + e)
		} else {
			e := math.Exp(l3 - l4)
			lse = l4 + math.Log1p(e)
			w4 = 1 / (1 + e)
		}
		w3 := 1 - w4
		ll += row.w * lse
		if grad != nil {
			gr -= row.w * (w3*d.lT[row.ti] + w4*d.lTx[row.txi])
			gal -= row.w * rx * (w3*d.iT[row.ti] + w4*d.iTx[row.txi])
			ga += row.w * w4 / a
			gb -= row.w * w4 * d.ibx1[row.xi]
		}
	}
	if grad != nil {
		// chain rule for theta = log(param), and the sign/scale of -ll/n
		grad[0] = -gr * r / d.n
		grad[1] = -gal * al / d.n
		grad[2] = -ga * a / d.n
		grad[3] = -gb * b / d.n
	}
	return -ll / d.n
}

// FitBGNBD fits BG/NBD by maximum likelihood on grouped (x, t_x, T) data.
// The optimisation runs on log-parameters with BFGS and the analytic
// gradient, falling back to Nelder-Mead. A fit that does not converge is
// returned with Converged = false together with an error wrapping
// ErrNotConverged; bad data returns *InputError.
func FitBGNBD(groups []Triple, opts SolverOptions) (*BGNBD, error) {
	d, n, err := newBGData(groups)
	if err != nil {
		return nil, err
	}
	// Start at r = a = b = 1 with alpha matching the observed repeat rate
	// (E[rate] = r/alpha), so the start is sensible in any time unit.
	var sumX, sumT float64
	for _, g := range groups {
		if g.Count > 0 {
			sumX += float64(g.X * g.Count)
			sumT += g.T * float64(g.Count)
		}
	}
	alpha0 := sumT / sumX
	if !(alpha0 > 0) || math.IsInf(alpha0, 0) {
		alpha0 = 1
	}
	start, err := startOrDefault(opts, []float64{1, alpha0, 1, 1})
	if err != nil {
		return nil, err
	}
	sol := minimize(d.negLL, start, opts)
	m := &BGNBD{
		R: math.Exp(sol.theta[0]), Alpha: math.Exp(sol.theta[1]),
		A: math.Exp(sol.theta[2]), B: math.Exp(sol.theta[3]),
		LogLikelihood: -sol.f * d.n,
		Customers:     n,
		Convergence:   sol.Convergence,
	}
	if !isFinite(m.R) || !isFinite(m.Alpha) || !isFinite(m.A) || !isFinite(m.B) || !isFinite(m.LogLikelihood) {
		return nil, fmt.Errorf("clv bg/nbd: no finite optimum (%s): %w", sol.Status, ErrNotConverged)
	}
	if !m.Converged {
		return m, fmt.Errorf("clv bg/nbd: status %s, gradient norm %.3g: %w", m.Status, m.GradNorm, ErrNotConverged)
	}
	return m, nil
}

// LogLikelihoodOf evaluates the model's log-likelihood on grouped data.
func (m *BGNBD) LogLikelihoodOf(groups []Triple) (float64, error) {
	d, _, err := newBGData(groups)
	if err != nil {
		return 0, err
	}
	theta := logStart([]float64{m.R, m.Alpha, m.A, m.B})
	return -d.negLL(theta, nil) * d.n, nil
}

// PAlive is P(customer still active | x, t_x, T) (FHL 2005, eq. 11 of the
// technical note): 1 / (1 + [x>0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x)).
func (m *BGNBD) PAlive(x, tx, T float64) float64 {
	if x <= 0 {
		return 1
	}
	le := math.Log(m.A) - math.Log(m.B+x-1) + (m.R+x)*(math.Log(m.Alpha+T)-math.Log(m.Alpha+tx))
	return 1 / (1 + math.Exp(le)) // exp overflow gives +Inf and so 0, as it should
}

// ExpectedTransactions is E[X(t)], the expected number of repeat
// transactions of a new customer in the t units after the first purchase.
func (m *BGNBD) ExpectedTransactions(t float64) float64 {
	return m.aliveExpected(t, 0, 0)
}

// ConditionalExpected is E[Y(t) | x, t_x, T], the expected number of
// transactions in the next t units of a customer with calibration summary
// (x, t_x, T).
func (m *BGNBD) ConditionalExpected(t, x, tx, T float64) float64 {
	return m.aliveExpected(t, x, T) * m.PAlive(x, tx, T)
}

// maxSeriesTerms caps the hypergeometric series; it is reached only when
// t/(α+T) exceeds about 1e5, i.e. a horizon absurdly long for the data.
const maxSeriesTerms = 2_000_000

// aliveExpected is E[Y(t)] for a customer known to be alive:
//
//	(a+b+x-1)/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)],  z = t/(α+T+t).
//
// It depends on (x, T) but not on t_x, which is what lets WriteScores
// compute it once per distinct (x, T). Two equivalent series are used:
//
//   - Euler's transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z)
//     turns the bracket into 1 - (1-z)^g F with g = a-1 and
//     F = 2F1(a+b-1-r, g; a+b+x-1; z). Writing F = 1 + g S,
//     bracket/g = -expm1(g ln(1-z))/g - (1-z)^g S with
//     S = Σ_{n≥1} (a+b-1-r)_n (a)_{n-1} z^n / ((a+b+x-1)_n n!),
//     so a = 1 is no singularity and large x costs nothing: this is the
//     usual case (fitted a is typically below a few).
//   - The direct series, when a is large compared with x (e.g. a near-
//     deterministic dropout probability), where the transformed series would
//     need about a*z terms.
//
// The choice compares the products of the upper parameters, which govern how
// far the terms grow before they shrink. Both sums are carried with a
// separate exponent so that neither can overflow.
func (m *BGNBD) aliveExpected(t, x, T float64) float64 {
	if !(t > 0) {
		return 0
	}
	a, b, r := m.A, m.B, m.R
	g := a - 1
	L := -math.Log1p(t / (m.Alpha + T)) // ln(1-z)
	z := t / (m.Alpha + T + t)
	A := a + b - 1 - r
	C := a + b + x - 1
	if math.Abs(A*g) <= (r+x)*(b+x) {
		mant, ls := hypSeries(A/C*z, 1, A, g, C, z)
		gl := g * L
		var first float64 // -expm1(g L)/g, with its limit -L at g = 0
		if math.Abs(gl) < 1e-12 {
			first = -L * (1 + gl/2)
		} else {
			first = -math.Expm1(gl) / g
		}
		return C * (first - math.Exp(gl+ls)*mant)
	}
	mant, ls := hypSeries(1, 0, r+x, b+x, C, z)
	e := (r+x)*L + ls
	if mant > 0 { // always, unless a+b+x-1 < 0 makes terms negative
		return C / g * -math.Expm1(e+math.Log(mant))
	}
	return C / g * (1 - math.Exp(e)*mant)
}

// hypSeries sums the hypergeometric-type series Σ_{n≥n0} t_n with
// t_{n+1} = t_n (p+n)(q+n)/((c+n)(n+1)) z, starting from t_{n0} = first. The
// result is mant*exp(logScale); mant is rescaled whenever it grows large.
func hypSeries(first float64, n0 int, p, q, c, z float64) (mant, logScale float64) {
	const big, scale = 1e200, 200 * math.Ln10
	term, sum := first, first
	for n := float64(n0); n < maxSeriesTerms && term != 0; n++ {
		ratio := (p + n) * (q + n) / ((c + n) * (n + 1)) * z
		term *= ratio
		sum += term
		if math.Abs(sum) > big {
			sum /= big
			term /= big
			logScale += scale
		}
		// Once |ratio| < 1 for good (it tends to z < 1) the terms shrink at
		// least geometrically, so the remainder is below |term| r/(1-r).
		if ar := math.Abs(ratio); ar < 1 && n+1 > -c && math.Abs(term)*ar <= 1e-17*(1-ar)*math.Abs(sum) {
			break
		}
	}
	return sum, logScale
}

// ProbNTransactions is P(X(t) = n) for a new customer (FHL 2005, eq. 8). The
// tail 1 - (α/(α+t))^r Σ_{j<n} ... is the negative-binomial survival function,
// evaluated as a regularised incomplete beta to avoid cancellation.
func (m *BGNBD) ProbNTransactions(n int, t float64) float64 {
	if n < 0 {
		return 0
	}
	if !(t > 0) {
		if n == 0 {
			return 1
		}
		return 0
	}
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	nf := float64(n)
	lbab := mathext.Lbeta(a, b)
	lgrn, _ := math.Lgamma(r + nf)
	lgr, _ := math.Lgamma(r)
	lgn1, _ := math.Lgamma(nf + 1)
	lp := -math.Log1p(t / al) // log(α/(α+t))
	lq := -math.Log1p(al / t) // log(t/(α+t))
	p := math.Exp(mathext.Lbeta(a, b+nf) - lbab + lgrn - lgr - lgn1 + r*lp + nf*lq)
	if n > 0 {
		p += math.Exp(mathext.Lbeta(a+1, b+nf-1)-lbab) * mathext.RegIncBeta(nf, r, t/(al+t))
	}
	return p
}
