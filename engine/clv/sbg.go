package clv

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// SBG is the shifted-beta-geometric model of contractual retention (Fader &
// Hardie 2007, "How to Project Customer Retention"): at every renewal a
// customer leaves with her own probability θ ~ Beta(α, β), so the cohort's
// retention rate rises over time as the likely leavers go first.
type SBG struct {
	Alpha         float64 `json:"alpha"`
	Beta          float64 `json:"beta"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     int     `json:"customers"`
	Convergence
}

// NewSBG returns a model with the given parameters.
func NewSBG(alpha, beta float64) *SBG { return &SBG{Alpha: alpha, Beta: beta} }

// LifetimeGroup counts customers by how their observed lifetime ended:
// Churned customers were active in periods 1..Periods and left at its end;
// the others were still active after Periods periods (right-censored).
type LifetimeGroup struct {
	Periods int  `json:"periods"`
	Churned bool `json:"churned"`
	Count   int  `json:"count"`
}

// SurvivorGroups turns a cohort's survivor counts (customers active at the
// start of periods 1, 2, ..., the first being the cohort's size) into
// lifetime groups. The counts must start above 0 and never increase.
func SurvivorGroups(survivors []int) ([]LifetimeGroup, error) {
	if len(survivors) < 3 {
		return nil, inputErrorf("survivors", "needs at least 3 counts (the cohort size and two later periods) to tell α from β; got %d", len(survivors))
	}
	if survivors[0] <= 0 {
		return nil, inputErrorf("survivors", "the first count is the cohort size and must be positive, got %d", survivors[0])
	}
	var out []LifetimeGroup
	for t := 1; t < len(survivors); t++ {
		lost := survivors[t-1] - survivors[t]
		if survivors[t] < 0 || lost < 0 {
			return nil, inputErrorf("survivors", "counts must not increase or be negative: %d at period %d follows %d; give the customers of one cohort still active at the start of each period", survivors[t], t+1, survivors[t-1])
		}
		if lost > 0 {
			out = append(out, LifetimeGroup{Periods: t, Churned: true, Count: lost})
		}
	}
	if n := survivors[len(survivors)-1]; n > 0 {
		out = append(out, LifetimeGroup{Periods: len(survivors) - 1, Count: n})
	}
	return out, nil
}

// sbgData holds the groups as (log P(T=t) or log S(t)) weights per period.
type sbgData struct {
	churned, censored []float64 // weight per period t (index t)
	n                 float64
}

func newSBGData(groups []LifetimeGroup) (*sbgData, int, error) {
	maxT := 0
	for _, g := range groups {
		if g.Periods < 0 || g.Count < 0 || (g.Churned && g.Periods < 1) {
			return nil, 0, inputErrorf("survivors", "invalid lifetime group %+v", g)
		}
		maxT = max(maxT, g.Periods)
	}
	d := &sbgData{churned: make([]float64, maxT+1), censored: make([]float64, maxT+1)}
	lost := 0
	for _, g := range groups {
		w := float64(g.Count)
		d.n += w
		if g.Churned {
			d.churned[g.Periods] += w
			lost += g.Count
		} else {
			d.censored[g.Periods] += w
		}
	}
	if d.n == 0 {
		return nil, 0, inputErrorf("survivors", "no customers to fit")
	}
	if lost == 0 {
		return nil, 0, inputErrorf("survivors", "nobody left in the periods observed, so retention cannot be estimated; give a longer history")
	}
	if maxT < 2 {
		return nil, 0, inputErrorf("survivors", "needs at least two periods of history to tell α from β")
	}
	return d, int(d.n), nil
}

// negLL is minus the mean sBG log-likelihood
//
//	Σ_t churned_t ln P(T=t) + censored_t ln S(t),
//	P(T=t) = B(α+1, β+t-1)/B(α,β),  S(t) = B(α, β+t)/B(α,β),
//
// and its gradient with respect to log(α, β).
func (d *sbgData) negLL(theta, grad []float64) float64 {
	if !logParamsOK(theta) {
		return math.Inf(1)
	}
	a, b := math.Exp(theta[0]), math.Exp(theta[1])
	lb := mathext.Lbeta(a, b)
	psab, psa, psb := mathext.Digamma(a+b), mathext.Digamma(a), mathext.Digamma(b)
	var ll, ga, gb float64
	for t := range d.churned {
		tf := float64(t)
		if w := d.churned[t]; w != 0 {
			ll += w * (mathext.Lbeta(a+1, b+tf-1) - lb)
			if grad != nil {
				ps := mathext.Digamma(a + b + tf)
				ga += w * (mathext.Digamma(a+1) - ps - psa + psab)
				gb += w * (mathext.Digamma(b+tf-1) - ps - psb + psab)
			}
		}
		if w := d.censored[t]; w != 0 {
			ll += w * (mathext.Lbeta(a, b+tf) - lb)
			if grad != nil {
				ps := mathext.Digamma(a + b + tf)
				ga += w * (psa - ps - psa + psab)
				gb += w * (mathext.Digamma(b+tf) - ps - psb + psab)
			}
		}
	}
	if grad != nil {
		grad[0] = -ga * a / d.n
		grad[1] = -gb * b / d.n
	}
	return -ll / d.n
}

// FitSBG fits the sBG model by maximum likelihood; errors are as FitBGNBD's.
func FitSBG(groups []LifetimeGroup, opts SolverOptions) (*SBG, error) {
	d, n, err := newSBGData(groups)
	if err != nil {
		return nil, err
	}
	start, err := startOrDefault(opts, []float64{1, 1})
	if err != nil {
		return nil, err
	}
	sol := minimize(d.negLL, start, opts)
	m := &SBG{Alpha: math.Exp(sol.theta[0]), Beta: math.Exp(sol.theta[1]), LogLikelihood: -sol.f * d.n, Customers: n, Convergence: sol.Convergence}
	return m, checkFit("sbg", sol, m.LogLikelihood, m.Alpha, m.Beta)
}

// Survival is S(t) = P(T > t) = B(α, β+t)/B(α, β): the share of a cohort
// still active after t renewal decisions (S(0) = 1).
func (m *SBG) Survival(t int) float64 {
	return math.Exp(mathext.Lbeta(m.Alpha, m.Beta+float64(t)) - mathext.Lbeta(m.Alpha, m.Beta))
}

// Retention is r_t = S(t)/S(t-1) = (β+t-1)/(α+β+t-1), the share of the
// customers active in period t who renew into period t+1.
func (m *SBG) Retention(t int) float64 {
	return (m.Beta + float64(t) - 1) / (m.Alpha + m.Beta + float64(t) - 1)
}

// DERL is the discounted expected residual lifetime (Fader & Hardie 2010,
// "Customer-Base Valuation in a Contractual Setting") of a customer who has
// made `renewals` renewals, at discount rate d per period: the expected
// number of her future renewal payments, the one due now undiscounted and
// each later one discounted by (1+d) per period,
//
//	Σ_{j≥0} S(k+1+j)/S(k) / (1+d)^j = (β+k)/(α+β+k) 2F1(1, β+k+1; α+β+k+1; 1/(1+d)).
//
// Multiplied by the payment per period it is the residual value. d must be
// positive.
func (m *SBG) DERL(d float64, renewals int) float64 {
	if !(d > 0) || renewals < 0 {
		return math.NaN()
	}
	k := float64(renewals)
	mant, ls := hypSeries(1, 0, 1, m.Beta+k+1, m.Alpha+m.Beta+k+1, 1/(1+d))
	return (m.Beta + k) / (m.Alpha + m.Beta + k) * mant * math.Exp(ls)
}
