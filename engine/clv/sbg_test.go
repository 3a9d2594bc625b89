package clv

import (
	"math"
	"strconv"
	"testing"
)

// Fader & Hardie (2007), "How to Project Customer Retention": customers of
// 1,000 still active at the start of years 1-8.
var (
	survivorsRegular = []int{1000, 631, 468, 382, 326, 289, 262, 241}
	survivorsHighEnd = []int{1000, 869, 743, 653, 593, 551, 517, 491}
)

func fitSurvivors(t *testing.T, s []int) *SBG {
	t.Helper()
	g, err := SurvivorGroups(s)
	if err != nil {
		t.Fatal(err)
	}
	m, err := FitSBG(g, SolverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSBGPublishedFits(t *testing.T) {
	reg := fitSurvivors(t, survivorsRegular)
	high := fitSurvivors(t, survivorsHighEnd)
	t.Logf("regular: alpha=%.6f beta=%.6f LL=%.4f; high end: alpha=%.6f beta=%.6f LL=%.4f", reg.Alpha, reg.Beta, reg.LogLikelihood, high.Alpha, high.Beta, high.LogLikelihood)
	near(t, "regular alpha", reg.Alpha, 0.704, 0.0005)
	near(t, "regular beta", reg.Beta, 1.182, 0.0005)
	near(t, "high end alpha", high.Alpha, 0.668, 0.0005)
	near(t, "high end beta", high.Beta, 3.806, 0.0005)
	// Projected survival for years 8-12 is S(8)..S(12) in the paper's
	// indexing: the share still active after the renewal at the end of year t
	// (S(7) = 0.491 is the last observed).
	for i, w := range []float64{0.460, 0.436, 0.414, 0.395, 0.378} {
		near(t, "high end S("+strconv.Itoa(8+i)+")", high.Survival(8+i), w, 0.0005)
	}
}

func TestSBGIdentities(t *testing.T) {
	m := NewSBG(0.668, 3.806)
	// S(t) is the running product of the retention rates.
	s := 1.0
	for tt := 1; tt <= 20; tt++ {
		s *= m.Retention(tt)
		nearRel(t, "S(t)", m.Survival(tt), s, 1e-12)
	}
	// DERL is the explicit discounted sum.
	for _, k := range []int{0, 3} {
		var sum float64
		for j := 0; j < 5000; j++ {
			sum += m.Survival(k+1+j) / m.Survival(k) / math.Pow(1.1, float64(j))
		}
		nearRel(t, "DERL", m.DERL(0.1, k), sum, 1e-10)
	}
	g, err := SurvivorGroups(survivorsHighEnd)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := newSBGData(g)
	if err != nil {
		t.Fatal(err)
	}
	theta := logStart([]float64{0.5, 2})
	gr := make([]float64, 2)
	d.negLL(theta, gr)
	ng := numGrad(d.negLL, theta)
	for i := range gr {
		near(t, "gradient", gr[i], ng[i], 1e-7)
	}
}

func TestSBGBadSurvivors(t *testing.T) {
	for _, s := range [][]int{{0, 0, 0}, {100, 120, 90}, {100, 90}, {100, 100, 100}, {100, 90, -1}} {
		g, err := SurvivorGroups(s)
		if err == nil {
			_, err = FitSBG(g, SolverOptions{})
		}
		if !isInputError(err) {
			t.Errorf("%v: got %v, want an input error", s, err)
		}
	}
}

func TestRetentionReport(t *testing.T) {
	g, err := SurvivorGroups(survivorsHighEnd)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Retention(g, 5, 0.1, SolverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Curve) != 12 || rep.Curve[6].Projected || !rep.Curve[7].Projected || rep.DERL == nil {
		t.Fatalf("curve %+v", rep.Curve)
	}
	// Observed survival is the survivor share; fitted and projected follow S(t).
	for i, s := range survivorsHighEnd[1:] {
		near(t, "observed survival", *rep.Curve[i].ObservedSurvival, float64(s)/1000, 1e-12)
	}
	for i, w := range []float64{0.460, 0.436, 0.414, 0.395, 0.378} {
		near(t, "projected survival", rep.Curve[7+i].Survival, w, 0.0005)
	}
	near(t, "retention year 1", *rep.Curve[0].ObservedRetention, 0.869, 1e-12)
	nearRel(t, "DERL", *rep.DERL, rep.SBG.DERL(0.1, 0), 1e-12)
}
