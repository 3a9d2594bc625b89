package engine_test

import (
	"context"
	"flag"
	"os"
	"sync"
	"testing"
	"time"

	"custkpi/engine"
	"custkpi/engine/clv"
	"custkpi/engine/demo"
)

var benchCustomers = flag.Int("bench.customers", 1_000_000, "customers generated for the KPI benchmarks")

var (
	benchOnce   sync.Once
	benchEngine *engine.Engine
	benchErr    error
)

// demoEngine generates the demo dataset and imports it into an in-memory
// engine, once for all the benchmarks of a run (generation and import are
// not measured; they are logged with -v).
func demoEngine(b *testing.B, customers int) *engine.Engine {
	b.Helper()
	benchOnce.Do(func() { benchEngine, benchErr = loadDemo(b, customers) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchEngine
}

func loadDemo(b *testing.B, customers int) (*engine.Engine, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custkpi-bench-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	files, err := demo.Generate(ctx, dir, demo.Options{Customers: customers, Seed: 1})
	if err != nil {
		return nil, err
	}
	gen := time.Since(start)
	e, err := engine.Open(ctx, engine.Options{CacheEntries: -1})
	if err != nil {
		return nil, err
	}
	var reqs []engine.ImportRequest
	for _, k := range engine.Kinds {
		reqs = append(reqs, engine.ImportRequest{Kind: k.Name, Path: files[k.Name]})
	}
	start = time.Now()
	if _, err := e.ImportBatch(ctx, reqs); err != nil {
		return nil, err
	}
	var orders int64
	for _, d := range e.Datasets() {
		if d.Kind == "orders" {
			orders = d.Rows
		}
	}
	b.Logf("%d customers, %d orders: generated in %s, imported in %s", customers, orders, gen.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return e, nil
}

// BenchmarkScorecard times the whole scorecard (every KPI with its data,
// window and previous window) without the results cache.
func BenchmarkScorecard(b *testing.B) {
	e := demoEngine(b, *benchCustomers)
	from, _ := time.Parse(time.DateOnly, "2024-01-01")
	to, _ := time.Parse(time.DateOnly, "2025-01-01")
	for b.Loop() {
		if _, err := e.Scorecard(context.Background(), from, to); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateRuleSet evaluates the five-rule value_tiers set over
// every demo customer and stores the assignments, on each path.
func BenchmarkEvaluateRuleSet(b *testing.B) {
	e := demoEngine(b, *benchCustomers)
	for _, path := range []string{"sql", "go"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				ev, err := e.EvaluateRuleSet(context.Background(), "value_tiers", 0, time.Time{}, path == "go")
				if err != nil {
					b.Fatal(err)
				}
				if ev.Path != path {
					b.Fatalf("ran on %s", ev.Path)
				}
			}
		})
	}
}

// BenchmarkCLVFit fits BG/NBD and Gamma-Gamma on the demo orders,
// including the SQL summary (clv.Fit), and the whole product path
// (FitCLV: fit, score every customer, rebuild the features).
func BenchmarkCLVFit(b *testing.B) {
	e := demoEngine(b, *benchCustomers)
	end, _ := time.Parse(time.DateOnly, "2024-06-30")
	b.Run("fit", func(b *testing.B) {
		for b.Loop() {
			res, err := clv.Fit(context.Background(), e.DB(), clv.FitOptions{CalibrationEnd: end, Unit: "week"})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(res.Summary.Customers), "customers")
		}
	})
	b.Run("fit_score_features", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.FitCLV(context.Background(), engine.CLVFitRequest{CalibrationEnd: end, Unit: "week"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkKPIValues times one KPI request end to end through the engine
// (plan, one SQL statement, read back), without the results cache, on the
// demo data: `go test ./engine -run x -bench KPIValues -benchtime 5x`.
func BenchmarkKPIValues(b *testing.B) {
	e := demoEngine(b, *benchCustomers)
	ctx := context.Background()
	from, _ := time.Parse(time.DateOnly, "2024-01-01")
	to, _ := time.Parse(time.DateOnly, "2025-01-01")
	cases := []struct {
		name string
		q    engine.Query
	}{
		{"revenue_none", engine.Query{KPI: "revenue", From: from, To: to}},
		{"revenue_month_region", engine.Query{KPI: "revenue", From: from, To: to, Grain: engine.GrainMonth, By: []string{"region"}}},
		{"churn_rate_quarter_region", engine.Query{KPI: "churn_rate", From: from, To: to, Grain: engine.GrainQuarter, By: []string{"region"}}},
		{"repeat_purchase_rate_month_segment_age", engine.Query{KPI: "repeat_purchase_rate", From: from, To: to, Grain: engine.GrainMonth, By: []string{"segment", "age_band"}}},
		{"new_customers_month", engine.Query{KPI: "new_customers", From: from, To: to, Grain: engine.GrainMonth}},
		{"recency_days_quarter", engine.Query{KPI: "recency_days", From: from, To: to, Grain: engine.GrainQuarter}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Run(ctx, c.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
