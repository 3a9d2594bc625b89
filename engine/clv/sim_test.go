package clv

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// simParams are the CDNOW estimates with time in days (alpha*7), and the
// Gamma-Gamma estimates.
type simParams struct {
	r, alpha, a, b float64
	p, q, gamma    float64
}

var cdnowDaily = simParams{r: 0.243, alpha: 4.414 * 7, a: 0.793, b: 2.426, p: 6.25, q: 3.74, gamma: 15.44}

var simStart = date("2024-01-01")

// Calendar of the simulation: births over 12 weeks, calibration through day
// 272 (39 weeks), holdout through day 545 (78 weeks), as in CDNOW.
const (
	simBirthDays = 84
	simCalDay    = 272
	simEndDay    = 545
)

// gammaRand draws Gamma(shape, rate) by Marsaglia & Tsang, with the usual
// U^(1/shape) boost for shape < 1.
func gammaRand(rng *rand.Rand, shape, rate float64) float64 {
	boost := 1.0
	if shape < 1 {
		boost = math.Pow(rng.Float64(), 1/shape)
		shape++
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return boost * d * v / rate
		}
	}
}

func betaRand(rng *rand.Rand, a, b float64) float64 {
	x := gammaRand(rng, a, 1)
	return x / (x + gammaRand(rng, b, 1))
}

// simulateOrders fills a canonical orders table with n customers drawn from
// BG/NBD + Gamma-Gamma: λ ~ Gamma(r, α), p ~ Beta(a, b); purchases follow a
// Poisson(λ) process from the birth day and after each repeat purchase the
// customer leaves with probability p. About 3% extra orders are cancelled
// (must be ignored) and statuses mix NULL and 'completed'.
func simulateOrders(tb testing.TB, db *sql.DB, n int, sp simParams, seed uint64) int {
	tb.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE orders (customer_id VARCHAR, order_date TIMESTAMP, amount DOUBLE, status VARCHAR)`); err != nil {
		tb.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	rows := 0
	err = conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "orders")
		if err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		completed, cancelled := "completed", "cancelled"
		add := func(id string, day float64, amount float64, status *string) error {
			rows++
			ts := simStart.Add(time.Duration(day * float64(24*time.Hour)))
			var st any
			if status != nil {
				st = *status
			}
			return app.AppendRow(id, ts, math.Round(amount*100)/100, st)
		}
		record := func(id string, day, nu float64) error {
			var st *string
			if rng.IntN(2) == 0 {
				st = &completed
			}
			if err := add(id, day, gammaRand(rng, sp.p, nu), st); err != nil {
				return err
			}
			if rng.IntN(33) == 0 {
				return add(id, day, 1000, &cancelled)
			}
			return nil
		}
		for i := 0; i < n; i++ {
			id := "c" + strconv.Itoa(i)
			lambda := gammaRand(rng, sp.r, sp.alpha)
			pDrop := betaRand(rng, sp.a, sp.b)
			nu := gammaRand(rng, sp.q, sp.gamma)
			t := float64(rng.IntN(simBirthDays)) + rng.Float64()
			if err := record(id, t, nu); err != nil {
				return err
			}
			for {
				t += rng.ExpFloat64() / lambda
				if t >= simEndDay+1 {
					break
				}
				if err := record(id, t, nu); err != nil {
					return err
				}
				// BG/NBD: a customer may leave only after a repeat purchase.
				if rng.Float64() < pDrop {
					break
				}
			}
		}
		return app.Close()
	})
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

func simOptions() FitOptions {
	h := simStart.AddDate(0, 0, simEndDay)
	return FitOptions{CalibrationEnd: simStart.AddDate(0, 0, simCalDay), HoldoutEnd: &h, Unit: UnitDay, Margin: 0.3, MonthlyDiscount: 0.01}
}

// TestRecoversSimulatedParameters checks the whole pipeline against data
// with known parameters: the fit must find them within sampling error.
func TestRecoversSimulatedParameters(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := simulateOrders(t, db, 100_000, cdnowDaily, 1)
	res, err := Fit(context.Background(), db, simOptions())
	if err != nil {
		t.Fatal(err)
	}
	bg, gg := res.BGNBD, res.GammaGamma
	t.Logf("%d orders; %d customers, %d triples; BG/NBD r=%.4f alpha=%.3f a=%.4f b=%.4f; GG p=%.3f q=%.3f gamma=%.3f; %v",
		n, res.Summary.Customers, len(res.Data.Triples), bg.R, bg.Alpha, bg.A, bg.B, gg.P, gg.Q, gg.Gamma, res.Timings.Total)
	if res.Summary.Customers != 100_000 {
		t.Errorf("%d customers", res.Summary.Customers)
	}
	// Tolerances are several standard errors at this size.
	nearRel(t, "r", bg.R, cdnowDaily.r, 0.06)
	nearRel(t, "alpha", bg.Alpha, cdnowDaily.alpha, 0.12)
	nearRel(t, "a", bg.A, cdnowDaily.a, 0.2)
	nearRel(t, "b", bg.B, cdnowDaily.b, 0.3)
	nearRel(t, "p", gg.P, cdnowDaily.p, 0.15)
	nearRel(t, "q", gg.Q, cdnowDaily.q, 0.15)
	nearRel(t, "gamma", gg.Gamma, cdnowDaily.gamma, 0.25)
	// A correctly specified model predicts the holdout well.
	if math.Abs(res.Holdout.TotalErrorPct) > 3 {
		t.Errorf("holdout error %.2f%% (actual %d, expected %.0f)", res.Holdout.TotalErrorPct, res.Holdout.ActualTotal, res.Holdout.ExpectedTotal)
	}
	if math.Abs(res.Holdout.TrackingError) > 0.03*float64(res.Holdout.ActualTotal) {
		t.Errorf("tracking error %.1f of %d", res.Holdout.TrackingError, res.Holdout.ActualTotal)
	}
}

var (
	bigOnce sync.Once
	bigDB   *sql.DB
	bigRows int
)

// bigSim is the shared 1,000,000-customer data set of the benchmarks.
func bigSim(b *testing.B) *sql.DB {
	bigOnce.Do(func() {
		db, err := sql.Open("duckdb", "")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		bigRows = simulateOrders(b, db, 1_000_000, cdnowDaily, 7)
		bigDB = db
		b.Logf("simulated 1,000,000 customers, %d orders in %v", bigRows, time.Since(start))
	})
	if bigDB == nil {
		b.Fatal("simulation failed")
	}
	return bigDB
}

func BenchmarkFitCDNOW(b *testing.B) {
	db := openCDNOW(b)
	h := holdoutEnd
	opts := FitOptions{CalibrationEnd: calEnd, HoldoutEnd: &h, Unit: UnitWeek}
	ctx := context.Background()
	for b.Loop() {
		if _, err := Fit(ctx, db, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFitCDNOWNoHoldout(b *testing.B) {
	db := openCDNOW(b)
	opts := FitOptions{CalibrationEnd: calEnd, Unit: UnitWeek}
	ctx := context.Background()
	for b.Loop() {
		if _, err := Fit(ctx, db, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFit1M(b *testing.B) {
	db := bigSim(b)
	ctx := context.Background()
	var res *FitResult
	for b.Loop() {
		var err error
		if res, err = Fit(ctx, db, simOptions()); err != nil {
			b.Fatal(err)
		}
	}
	t := res.Timings
	b.ReportMetric(float64(t.Summary.Milliseconds()), "summary-ms")
	b.ReportMetric(float64(t.BGNBD.Milliseconds()), "bgnbd-ms")
	b.ReportMetric(float64(t.GammaGamma.Milliseconds()), "gg-ms")
	b.ReportMetric(float64(t.Holdout.Milliseconds()), "holdout-ms")
	b.ReportMetric(float64(len(res.Data.Triples)), "triples")
	b.ReportMetric(float64(len(res.Data.Spend)), "spend-groups")
}

func BenchmarkWriteScores1M(b *testing.B) {
	db := bigSim(b)
	ctx := context.Background()
	res, err := Fit(ctx, db, simOptions())
	if err != nil {
		b.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	for b.Loop() {
		n, err := WriteScores(ctx, conn, res, ScoreOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if n != int64(res.Summary.Customers) {
			b.Fatalf("wrote %d of %d", n, res.Summary.Customers)
		}
	}
}

var (
	bigSummaryOnce sync.Once
	bigSummary     *SummaryData
)

func bigSim1MSummary(b *testing.B) *SummaryData {
	db := bigSim(b)
	bigSummaryOnce.Do(func() {
		s, err := Summary(context.Background(), db, simOptions().summaryOptions())
		if err != nil {
			b.Fatal(err)
		}
		bigSummary = s
	})
	return bigSummary
}

func BenchmarkSummary1M(b *testing.B) {
	db := bigSim(b)
	opts := simOptions().summaryOptions()
	for b.Loop() {
		if _, err := Summary(context.Background(), db, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBGNBDFit1M(b *testing.B) {
	s := bigSim1MSummary(b)
	for b.Loop() {
		if _, err := FitBGNBD(s.Triples, SolverOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGammaGammaFit1M(b *testing.B) {
	s := bigSim1MSummary(b)
	for b.Loop() {
		if _, err := FitGammaGamma(s.Spend, SolverOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
