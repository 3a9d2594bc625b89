package clv

import (
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// SolverOptions tunes the maximum-likelihood fits. The zero value is fine.
type SolverOptions struct {
	// MaxIterations bounds the major iterations of each optimiser run
	// (default 1000).
	MaxIterations int `json:"max_iterations"`
	// GradientTolerance is the largest gradient norm, of the mean negative
	// log-likelihood per customer with respect to the log-parameters, that
	// counts as converged (default 1e-5: in log-parameters, a 1% move then
	// changes the mean log-likelihood by about 1e-7, far inside the
	// parameters' own uncertainty). The optimiser itself aims at 1e-10.
	GradientTolerance float64 `json:"gradient_tolerance"`
	// Start optionally overrides the starting parameters (natural scale, in
	// the model's parameter order).
	Start []float64 `json:"start,omitempty"`
}

// Convergence describes how a fit ended.
type Convergence struct {
	Converged       bool    `json:"converged"`
	Status          string  `json:"status"`
	Method          string  `json:"method"`
	Iterations      int     `json:"iterations"`
	FuncEvaluations int     `json:"func_evaluations"`
	GradNorm        float64 `json:"grad_norm"`
}

// objective returns the mean negative log-likelihood at log-parameters theta
// and, when grad is not nil, its gradient with respect to theta. It returns
// +Inf for parameters it cannot evaluate.
type objective func(theta, grad []float64) float64

// maxLogParam bounds |log parameter|: e^30 ~ 1e13 is far beyond any sensible
// value in any unit, and the bound keeps lgamma and pow away from overflow.
const maxLogParam = 30

type solution struct {
	theta []float64
	f     float64
	Convergence
}

// minimize runs BFGS on obj from start (log scale). If BFGS does not reach
// the gradient tolerance it restarts from a Nelder-Mead solution, which
// tolerates the infinite values of a bad region; the better run wins.
func minimize(obj objective, start []float64, o SolverOptions) solution {
	if o.MaxIterations <= 0 {
		o.MaxIterations = 1000
	}
	if o.GradientTolerance <= 0 {
		o.GradientTolerance = 1e-5
	}
	best := runBFGS(obj, start, o, "bfgs")
	if best.Converged {
		return best
	}
	nm := runNelderMead(obj, start, o)
	if isFinite(nm.f) {
		polished := runBFGS(obj, nm.theta, o, "nelder-mead+bfgs")
		polished.Iterations += nm.Iterations
		polished.FuncEvaluations += nm.FuncEvaluations
		if polished.Converged || polished.f < best.f {
			best = polished
		}
	}
	return best
}

// cachedProblem evaluates value and gradient together: they share almost all
// of the work and gonum asks for both at the same point.
func cachedProblem(obj objective, dim int) optimize.Problem {
	var (
		lastX = make([]float64, dim)
		lastG = make([]float64, dim)
		lastF float64
		valid bool
	)
	eval := func(x []float64) {
		if valid && floats.Equal(x, lastX) {
			return
		}
		copy(lastX, x)
		lastF = obj(x, lastG)
		if !isFinite(lastF) {
			lastF = math.Inf(1)
			for i := range lastG {
				lastG[i] = math.NaN()
			}
		}
		valid = true
	}
	return optimize.Problem{
		Func: func(x []float64) float64 { eval(x); return lastF },
		Grad: func(g, x []float64) { eval(x); copy(g, lastG) },
	}
}

func runBFGS(obj objective, start []float64, o SolverOptions, method string) solution {
	dim := len(start)
	settings := &optimize.Settings{
		GradientThreshold: 1e-10,
		MajorIterations:   o.MaxIterations,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-14, Relative: 1e-14, Iterations: 20},
	}
	res, err := optimize.Minimize(cachedProblem(obj, dim), start, settings, &optimize.BFGS{})
	return finish(obj, res, err, start, o, method)
}

func runNelderMead(obj objective, start []float64, o SolverOptions) solution {
	// Nelder-Mead is only the fallback; bound its evaluations so that a
	// pathological data set cannot keep a large fit busy for minutes.
	settings := &optimize.Settings{
		MajorIterations: 2 * o.MaxIterations,
		FuncEvaluations: 4 * o.MaxIterations,
		Converger:       &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 200},
	}
	p := optimize.Problem{Func: func(x []float64) float64 {
		f := obj(x, nil)
		if !isFinite(f) {
			return math.Inf(1)
		}
		return f
	}}
	res, err := optimize.Minimize(p, start, settings, &optimize.NelderMead{SimplexSize: 0.5})
	return finish(obj, res, err, start, o, "nelder-mead")
}

// finish recomputes value and gradient at the optimiser's answer, so the
// convergence verdict rests on our own check rather than on gonum's status
// (a BFGS line search often "fails" at the optimum merely from rounding).
func finish(obj objective, res *optimize.Result, err error, start []float64, o SolverOptions, method string) solution {
	s := solution{theta: append([]float64(nil), start...), f: math.Inf(1)}
	s.Method = method
	if res == nil {
		s.Status = "failure"
		if err != nil {
			s.Status = err.Error()
		}
		return s
	}
	s.Status = res.Status.String()
	if err != nil {
		s.Status += ": " + err.Error()
	}
	s.Iterations = res.MajorIterations
	s.FuncEvaluations = res.FuncEvaluations
	if len(res.X) == len(start) {
		copy(s.theta, res.X)
	}
	g := make([]float64, len(start))
	s.f = obj(s.theta, g)
	s.GradNorm = floats.Norm(g, 2)
	s.Converged = isFinite(s.f) && isFinite(s.GradNorm) && s.GradNorm <= o.GradientTolerance
	if s.Converged && res.Status != optimize.GradientThreshold {
		s.Status = "converged (gradient below tolerance); optimizer stopped with: " + s.Status
	}
	return s
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func logParamsOK(theta []float64) bool {
	for _, t := range theta {
		if !(math.Abs(t) <= maxLogParam) { // also rejects NaN
			return false
		}
	}
	return true
}

func logStart(natural []float64) []float64 {
	out := make([]float64, len(natural))
	for i, v := range natural {
		out[i] = math.Log(v)
	}
	return out
}

// startOrDefault validates a user start point (length and positivity).
func startOrDefault(o SolverOptions, def []float64) ([]float64, error) {
	if o.Start == nil {
		return logStart(def), nil
	}
	if len(o.Start) != len(def) {
		return nil, inputErrorf("start", "needs %d parameters, got %d", len(def), len(o.Start))
	}
	for _, v := range o.Start {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, inputErrorf("start", "parameters must be positive and finite, got %v", o.Start)
		}
	}
	return logStart(o.Start), nil
}
