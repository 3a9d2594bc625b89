package rules_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"custkpi/rules"
)

// The benchmarks evaluate value_tiers (five rules over five features, with
// nulls) for 1,000,000 customers, in Go and in DuckDB.

const benchRows = 1_000_000

var benchFeatures = []rules.Feature{
	{Name: "avg_monthly_spend", Type: rules.Double},
	{Name: "orders_last_90d", Type: rules.Int},
	{Name: "frequency", Type: rules.Int},
	{Name: "recency_days", Type: rules.Int},
	{Name: "suspected_churn", Type: rules.Bool},
}

func benchCompiled(b *testing.B) *rules.Compiled {
	b.Helper()
	schema, err := rules.NewSchema(benchFeatures)
	if err != nil {
		b.Fatal(err)
	}
	doc, _ := rules.BuiltinDocument("value_tiers")
	rs, err := rules.Parse(doc)
	if err != nil {
		b.Fatal(err)
	}
	c, err := rules.Compile(rs, schema)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func benchValues(r *rand.Rand) []any {
	v := []any{0.0, int64(0), int64(0), nil, nil}
	if r.Float64() < 0.8 {
		v[0] = r.Float64() * 900
		v[1] = int64(r.IntN(4))
		v[2] = int64(1 + r.IntN(12))
		v[3] = int64(r.IntN(700))
	}
	if r.Float64() < 0.5 {
		v[4] = r.Float64() < 0.25
	}
	return v
}

func BenchmarkEvalGo(b *testing.B) {
	c := benchCompiled(b)
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([]map[string]any, benchRows)
	for i := range rows {
		v := benchValues(r)
		row := make(map[string]any, len(benchFeatures))
		for k, f := range benchFeatures {
			row[f.Name] = v[k]
		}
		rows[i] = row
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := c.EvalGo(ctx, rows, rules.EvalEnv{AsOf: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/customer")
}

func BenchmarkEvaluatorValues(b *testing.B) {
	c := benchCompiled(b)
	// Inputs are in schema order, which is benchFeatures' order here.
	if got := strings.Join(c.Inputs(), ","); got != "avg_monthly_spend,orders_last_90d,frequency,recency_days,suspected_churn" {
		b.Fatalf("inputs %s", got)
	}
	r := rand.New(rand.NewPCG(3, 4))
	rows := make([][]any, benchRows)
	for i := range rows {
		rows[i] = benchValues(r)
	}
	ev, err := c.NewEvaluator(rules.EvalEnv{AsOf: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		for _, row := range rows {
			if _, err := ev.EvalValues(ctx, row); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/customer")
}

func BenchmarkSQL(b *testing.B) {
	c := benchCompiled(b)
	db := openDuck(b)
	if _, err := db.Exec(`SELECT setseed(0.5)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE bench AS SELECT range AS customer_id,
		CASE WHEN buyer THEN random() * 900 ELSE 0.0 END AS avg_monthly_spend,
		CASE WHEN buyer THEN CAST(floor(random() * 4) AS BIGINT) ELSE 0 END AS orders_last_90d,
		CASE WHEN buyer THEN CAST(1 + floor(random() * 12) AS BIGINT) ELSE 0 END AS frequency,
		CASE WHEN buyer THEN CAST(floor(random() * 700) AS BIGINT) END AS recency_days,
		CASE WHEN random() < 0.5 THEN random() < 0.25 END AS suspected_churn
		FROM (SELECT range, random() < 0.8 AS buyer FROM range(%d))`, benchRows)); err != nil {
		b.Fatal(err)
	}
	q, err := c.SQL(rules.SQLOptions{Alias: "f", Relation: "bench", AsOf: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	// What the engine's evaluate does: assign every customer, then count
	// customers per tier and null skips per rule.
	var sb strings.Builder
	sb.WriteString("SELECT tier, rule, count(*)")
	for i := range q.NullSkips {
		fmt.Fprintf(&sb, ", count(*) FILTER (WHERE ns%d)", i+1)
	}
	sb.WriteString(" FROM (SELECT customer_id, " + q.Tier + " AS tier, " + q.RuleIndex + " AS rule")
	for i, ns := range q.NullSkips {
		fmt.Fprintf(&sb, ", %s AS ns%d", ns, i+1)
	}
	sb.WriteString(" FROM bench AS f) GROUP BY ALL")
	query := sb.String()
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			b.Fatal(err)
		}
		total := 0
		for rows.Next() {
			var tier string
			var rule, n int64
			dest := []any{&tier, &rule, &n}
			for range q.NullSkips {
				dest = append(dest, new(int64))
			}
			if err := rows.Scan(dest...); err != nil {
				b.Fatal(err)
			}
			total += int(n)
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		if total != benchRows {
			b.Fatalf("counted %d customers", total)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/customer")
}
