package engine_test

import (
	"context"
	"flag"
	"os"
	"testing"
	"time"

	"custkpi/engine"
	"custkpi/engine/demo"
)

var benchCustomers = flag.Int("bench.customers", 1_000_000, "customers generated for the KPI benchmarks")

// demoEngine generates the demo dataset and imports it into an in-memory
// engine (once per benchmark run; generation is not measured).
func demoEngine(b *testing.B, customers int) *engine.Engine {
	b.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custkpi-bench-*")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	start := time.Now()
	files, err := demo.Generate(ctx, dir, demo.Options{Customers: customers, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	gen := time.Since(start)
	e, err := engine.Open(ctx, engine.Options{CacheEntries: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	var reqs []engine.ImportRequest
	for _, k := range engine.Kinds {
		reqs = append(reqs, engine.ImportRequest{Kind: k.Name, Path: files[k.Name]})
	}
	start = time.Now()
	if _, err := e.ImportBatch(ctx, reqs); err != nil {
		b.Fatal(err)
	}
	var orders int64
	for _, d := range e.Datasets() {
		if d.Kind == "orders" {
			orders = d.Rows
		}
	}
	b.Logf("%d customers, %d orders: generated in %s, imported in %s", customers, orders, gen.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return e
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
