package clv

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

var (
	pnbd1MOnce sync.Once
	pnbd1M     []Triple
)

// pnbdDaily1M draws 1,000,000 Pareto/NBD customers with the CDNOW
// estimates in days (α and β times 7), born over 84 days and observed to day
// 272 as in CDNOW, grouped into distinct (x, t_x, T) in whole days.
func pnbdDaily1M() []Triple {
	pnbd1MOnce.Do(func() {
		rng := rand.New(rand.NewPCG(11, 7))
		type key struct{ x, tx, T int }
		counts := map[key]int{}
		for i := 0; i < 1_000_000; i++ {
			T := simCalDay - rng.IntN(simBirthDays)
			lambda, mu := gammaRand(rng, 0.553, 10.578*7), gammaRand(rng, 0.606, 11.669*7)
			x, last := poissonUntil(rng, lambda, math.Min(float64(T), rng.ExpFloat64()/mu))
			counts[key{x, int(last), T}]++
		}
		for k, c := range counts {
			pnbd1M = append(pnbd1M, Triple{X: k.x, Tx: float64(k.tx), T: float64(k.T), Count: c})
		}
	})
	return pnbd1M
}

// BenchmarkParetoNBDFit1M is the maximum-likelihood fit of Pareto/NBD on
// 1,000,000 simulated customers (grouped by pattern).
func BenchmarkParetoNBDFit1M(b *testing.B) {
	tr := pnbdDaily1M()
	var m *ParetoNBD
	for b.Loop() {
		var err error
		if m, err = FitParetoNBD(tr, SolverOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(tr)), "patterns")
	b.ReportMetric(float64(m.Iterations), "iterations")
	b.Logf("r=%.4f alpha=%.3f s=%.4f beta=%.3f (simulated 0.553, %.3f, 0.606, %.3f)", m.R, m.Alpha, m.S, m.Beta, 10.578*7, 11.669*7)
}

// BenchmarkFit1MParetoNBD is the whole fit (DuckDB summary, Pareto/NBD,
// Gamma-Gamma, holdout) on the 1,000,000-customer order table.
func BenchmarkFit1MParetoNBD(b *testing.B) {
	db := bigSim(b)
	ctx := context.Background()
	opts := simOptions()
	opts.Model = ModelParetoNBD
	var res *FitResult
	for b.Loop() {
		var err error
		if res, err = Fit(ctx, db, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Timings.Summary.Milliseconds()), "summary-ms")
	b.ReportMetric(float64(res.Timings.Model.Milliseconds()), "model-ms")
	b.ReportMetric(float64(len(res.Data.Triples)), "triples")
}

// BenchmarkModelsCDNOW fits each model on the CDNOW sample: the whole Fit
// (summary, model, Gamma-Gamma, holdout) for the models on orders, the
// likelihood fit alone for sBG on the survivor table.
func BenchmarkModelsCDNOW(b *testing.B) {
	db := openCDNOW(b)
	ctx := context.Background()
	h := holdoutEnd
	for _, model := range []string{ModelBGNBD, ModelParetoNBD, ModelMBGNBD} {
		b.Run(model, func(b *testing.B) {
			for b.Loop() {
				if _, err := Fit(ctx, db, FitOptions{CalibrationEnd: calEnd, HoldoutEnd: &h, Model: model}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("bgbb", func(b *testing.B) {
		for b.Loop() {
			if _, err := Fit(ctx, db, FitOptions{CalibrationEnd: calEnd, Model: ModelBGBB, PeriodDays: 28, Periods: 9}); err != nil {
				b.Fatal(err)
			}
		}
	})
	s, err := Summary(ctx, db, cdnowOptions())
	if err != nil {
		b.Fatal(err)
	}
	// The likelihood fits alone, on the grouped summary.
	for name, fit := range map[string]func() error{
		"ml-bgnbd":      func() error { _, err := FitBGNBD(s.Triples, SolverOptions{}); return err },
		"ml-pareto_nbd": func() error { _, err := FitParetoNBD(s.Triples, SolverOptions{}); return err },
		"ml-mbgnbd":     func() error { _, err := FitMBGNBD(s.Triples, SolverOptions{}); return err },
		"ml-nbd":        func() error { _, err := FitNBD(s.Triples, SolverOptions{}); return err },
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := fit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ml-bgbb-donations", func(b *testing.B) {
		pats := readDonations(b)
		for b.Loop() {
			if _, err := FitBGBB(pats, SolverOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compare", func(b *testing.B) {
		for b.Loop() {
			if _, err := Compare(ctx, db, CompareOptions{CalibrationEnd: calEnd, HoldoutEnd: &h}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sbg", func(b *testing.B) {
		g, _ := SurvivorGroups(survivorsHighEnd)
		for b.Loop() {
			if _, err := FitSBG(g, SolverOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
