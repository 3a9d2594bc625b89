package clv

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// GammaGamma is a fitted Gamma-Gamma spend model (Fader & Hardie 2013):
// transaction values ~ Gamma(p, ν) per customer, ν ~ Gamma(q, γ).
type GammaGamma struct {
	P             float64 `json:"p"`
	Q             float64 `json:"q"`
	Gamma         float64 `json:"gamma"`
	LogLikelihood float64 `json:"log_likelihood"`
	// Customers is the number of repeat buyers fitted; Excluded counts the
	// repeat buyers left out because their mean repeat value is not positive
	// (the model has no mass there).
	Customers int `json:"customers"`
	Excluded  int `json:"excluded"`
	Convergence
}

// NewGammaGamma returns a model with the given parameters.
func NewGammaGamma(p, q, gamma float64) *GammaGamma {
	return &GammaGamma{P: p, Q: q, Gamma: gamma}
}

// ExpectedAverageSpend is E[M | x, zbar] = p(γ + x zbar)/(p x + q - 1), the
// expected value of a customer's future transactions; with x = 0 it is the
// population mean pγ/(q-1). It needs q > 1 (finite mean), which FitGammaGamma
// guarantees.
func (g *GammaGamma) ExpectedAverageSpend(x, zbar float64) float64 {
	return g.P * (g.Gamma + x*zbar) / (g.P*x + g.Q - 1)
}

// ggData is the grouped spend data with the per-x sufficient statistics
// pre-summed, so that the per-row work of an evaluation is one log.
type ggData struct {
	xs      []float64 // distinct x
	wx      []float64 // weight per distinct x
	slz     []float64 // Σ w ln zbar per distinct x
	rowXi   []int32
	rowXZ   []float64 // x * zbar
	rowW    []float64
	n       float64
	sumLogX float64 // Σ w x ln x, times p in the likelihood
}

func newGGData(groups []SpendGroup) (*ggData, int, int, error) {
	d := &ggData{}
	xIdx := map[int]int32{}
	repeat, excluded := 0, 0
	for _, g := range groups {
		if g.Count <= 0 || g.X <= 0 {
			continue
		}
		repeat += g.Count
		if math.IsNaN(g.Zbar) || math.IsInf(g.Zbar, 0) {
			return nil, 0, 0, inputErrorf("amount", "mean repeat value is not finite for %d customers", g.Count)
		}
		if g.Zbar <= 0 {
			excluded += g.Count
			continue
		}
		xi, ok := xIdx[g.X]
		if !ok {
			xi = int32(len(d.xs))
			xIdx[g.X] = xi
			d.xs = append(d.xs, float64(g.X))
			d.wx = append(d.wx, 0)
			d.slz = append(d.slz, 0)
		}
		w, x := float64(g.Count), float64(g.X)
		d.wx[xi] += w
		d.slz[xi] += w * math.Log(g.Zbar)
		d.sumLogX += w * x * math.Log(x)
		d.rowXi = append(d.rowXi, xi)
		d.rowXZ = append(d.rowXZ, x*g.Zbar)
		d.rowW = append(d.rowW, w)
		d.n += w
	}
	if repeat > 0 && d.n == 0 {
		return nil, 0, 0, inputErrorf("amount", "all %d repeat buyers have zero or negative spend; the Gamma-Gamma model needs positive transaction values", repeat)
	}
	if int(d.n) < MinRepeatBuyers {
		return nil, 0, 0, inputErrorf("calibration_end", "only %d repeat buyers with positive spend; Gamma-Gamma needs at least %d", int(d.n), MinRepeatBuyers)
	}
	return d, int(d.n), excluded, nil
}

// negLL is minus the mean Gamma-Gamma log-likelihood of zbar given x and its
// gradient with respect to log(p, q, γ):
//
//	lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q ln γ + (px-1) ln zbar + px ln x - (px+q) ln(γ + x zbar)
func (d *ggData) negLL(theta, grad []float64) float64 {
	if !logParamsOK(theta) {
		return math.Inf(1)
	}
	p, q, gm := math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2])
	lgq, _ := math.Lgamma(q)
	psq := mathext.Digamma(q)
	lgm := math.Log(gm)
	var ll, gp, gq, gg float64
	ll += p * d.sumLogX
	gp += d.sumLogX
	for i, x := range d.xs {
		w := d.wx[i]
		px := p * x
		lgpxq, _ := math.Lgamma(px + q)
		lgpx, _ := math.Lgamma(px)
		ll += w*(lgpxq-lgpx-lgq+q*lgm) + (px-1)*d.slz[i]
		if grad != nil {
			pspxq := mathext.Digamma(px + q)
			gp += w*x*(pspxq-mathext.Digamma(px)) + x*d.slz[i]
			gq += w * (pspxq - psq + lgm)
			gg += w * q / gm
		}
	}
	for i, xz := range d.rowXZ {
		x := d.xs[d.rowXi[i]]
		w := d.rowW[i]
		s := gm + xz
		ls := math.Log(s)
		ll -= w * (p*x + q) * ls
		if grad != nil {
			gp -= w * x * ls
			gq -= w * ls
			gg -= w * (p*x + q) / s
		}
	}
	if grad != nil {
		grad[0] = -gp * p / d.n
		grad[1] = -gq * q / d.n
		grad[2] = -gg * gm / d.n
	}
	return -ll / d.n
}

// FitGammaGamma fits the Gamma-Gamma model by maximum likelihood on the
// (x, zbar) groups of repeat buyers (x > 0, zbar > 0). Errors as FitBGNBD; a
// fit with q <= 1 (infinite mean spend) is rejected with an error because
// E[M] would not exist.
func FitGammaGamma(groups []SpendGroup, opts SolverOptions) (*GammaGamma, error) {
	d, n, excluded, err := newGGData(groups)
	if err != nil {
		return nil, err
	}
	// p = 1, q = 2 makes E[M] = γ; start γ at the mean zbar so the start has
	// the right scale in any currency.
	var sz float64
	for i, xz := range d.rowXZ {
		sz += d.rowW[i] * xz / d.xs[d.rowXi[i]]
	}
	start, err := startOrDefault(opts, []float64{1, 2, sz / d.n})
	if err != nil {
		return nil, err
	}
	sol := minimize(d.negLL, start, opts)
	g := &GammaGamma{
		P: math.Exp(sol.theta[0]), Q: math.Exp(sol.theta[1]), Gamma: math.Exp(sol.theta[2]),
		LogLikelihood: -sol.f * d.n,
		Customers:     n,
		Excluded:      excluded,
		Convergence:   sol.Convergence,
	}
	if !isFinite(g.P) || !isFinite(g.Q) || !isFinite(g.Gamma) || !isFinite(g.LogLikelihood) {
		return nil, fmt.Errorf("clv gamma-gamma: no finite optimum (%s): %w", sol.Status, ErrNotConverged)
	}
	if !g.Converged {
		return g, fmt.Errorf("clv gamma-gamma: status %s, gradient norm %.3g: %w", g.Status, g.GradNorm, ErrNotConverged)
	}
	if g.Q <= 1 {
		return g, inputErrorf("amount", "spend is too heavy-tailed for the Gamma-Gamma model (q = %.3g <= 1 means an infinite expected spend)", g.Q)
	}
	return g, nil
}
