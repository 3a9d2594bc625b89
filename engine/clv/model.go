package clv

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/integrate/quad"
)

// Names of the purchase-count models, as the API and the CLI spell them.
const (
	ModelBGNBD     = "bgnbd"
	ModelParetoNBD = "pareto_nbd"
	ModelMBGNBD    = "mbgnbd"
	ModelBGBB      = "bgbb"
	ModelNBD       = "nbd"
)

// CountModel is a fitted model of repeat purchases in continuous time
// (BG/NBD, Pareto/NBD, MBG/NBD, NBD). Every one of them factors the
// conditional expectation as E[Y(t)|x,t_x,T] = N(t; x, T) * P(alive|x,t_x,T),
// which lets scoring and validation compute the costly N once per distinct
// (x, T).
type CountModel interface {
	// ModelName is the model's name (ModelBGNBD, ...).
	ModelName() string
	// PAlive is P(still active at T | x, t_x, T).
	PAlive(x, tx, T float64) float64
	// ExpectedTransactions is E[X(t)] for a customer just acquired.
	ExpectedTransactions(t float64) float64
	// ConditionalExpected is E[Y(t) | x, t_x, T].
	ConditionalExpected(t, x, tx, T float64) float64
	// aliveExpected is N(t; x, T): E[Y(t)] for a customer known to be alive.
	aliveExpected(t, x, T float64) float64
	// logLik is the model's log-likelihood on grouped data.
	LogLikelihoodOf(groups []Triple) (float64, error)
}

// ModelName implements CountModel.
func (m *BGNBD) ModelName() string { return ModelBGNBD }

// DERT is the discounted expected residual transactions of a customer with
// summary (x, t_x, T) at the continuous discount rate delta per unit:
// ∫_0^∞ e^{-δt} dE[Y(t)|x,t_x,T] (Fader, Hardie & Lee 2005, "RFM and CLV").
// It is computed as the Laplace transform δ∫ e^{-δt} E[Y(t)] dt, which is
// the same integral after integration by parts. delta must be positive.
func DERT(m CountModel, delta, x, tx, T float64) float64 {
	if !(delta > 0) {
		return math.NaN()
	}
	return laplace(func(t float64) float64 { return m.aliveExpected(t, x, T) }, delta) * m.PAlive(x, tx, T)
}

// Nodes of the composite Gauss-Legendre rule of laplace, computed once.
var (
	legendreOnce sync.Once
	legendreX    []float64
	legendreW    []float64
)

const (
	legendreNodes  = 32
	legendrePanels = 8
)

func legendre() ([]float64, []float64) {
	legendreOnce.Do(func() {
		legendreX, legendreW = make([]float64, legendreNodes), make([]float64, legendreNodes)
		quad.Legendre{}.FixedLocations(legendreX, legendreW, 0, 1)
	})
	return legendreX, legendreW
}

// laplace returns δ∫_0^∞ e^{-δt} f(t) dt for a smooth f of at most
// polynomial growth. With t = (e^y - 1)/δ the integral becomes
// ∫_0^∞ exp(1 + y - e^y) f((e^y-1)/δ) dy, whose integrand is smooth and
// vanishes double-exponentially; it is negligible (< e^-55) beyond
// y = ln 61, so a composite Gauss-Legendre rule on [0, ln 61] suffices for
// every δ.
func laplace(f func(float64) float64, delta float64) float64 {
	xs, ws := legendre()
	upper := math.Log(61)
	h := upper / legendrePanels
	var sum float64
	for p := 0; p < legendrePanels; p++ {
		lo := float64(p) * h
		for i, u := range xs {
			y := lo + u*h
			ey := math.Exp(y)
			sum += ws[i] * h * math.Exp(1+y-ey) * f(math.Expm1(y)/delta)
		}
	}
	return sum
}
