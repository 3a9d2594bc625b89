package clv

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"

	"custkpi/internal/shareddata"
)

// readDonations reads the 22 recency/frequency patterns of the 1995 donor
// cohort (Fader, Hardie & Shang 2010).
func readDonations(t testing.TB) []Pattern {
	t.Helper()
	f, err := os.Open(shareddata.Path(t, "data/real/donations/donations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []Pattern
	for _, r := range recs[1:] {
		v := make([]int, 4)
		for i := range v {
			if v[i], err = strconv.Atoi(r[i]); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, Pattern{X: v[0], Tx: v[1], N: v[2], Count: v[3]})
	}
	return out
}

func TestBGBBDonations(t *testing.T) {
	pats := readDonations(t)
	m, err := FitBGBB(pats, SolverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BG/BB: alpha=%.6f beta=%.6f gamma=%.6f delta=%.6f LL=%.4f (%s, %d iterations)", m.Alpha, m.Beta, m.Gamma, m.Delta, m.LogLikelihood, m.Method, m.Iterations)
	if m.Customers != 11104 {
		t.Errorf("customers %d, want 11104", m.Customers)
	}
	near(t, "alpha", m.Alpha, 1.204, 0.0005)
	near(t, "beta", m.Beta, 0.750, 0.0005)
	near(t, "gamma", m.Gamma, 0.657, 0.0005)
	near(t, "delta", m.Delta, 2.783, 0.0005)
	near(t, "LL", m.LogLikelihood, -33225.58, 0.005)
	// P(alive in 2002), FHS Table 6 (two decimals).
	near(t, "P(alive|0,0)", m.PAlive(0, 0, 6), 0.11, 0.005)
	near(t, "P(alive|2,4)", m.PAlive(2, 4, 6), 0.59, 0.005)
	near(t, "P(alive|6,6)", m.PAlive(6, 6, 6), 0.93, 0.005)
	var next5 float64
	for _, p := range pats {
		next5 += float64(p.Count) * m.ConditionalExpected(5, p.X, p.Tx, p.N)
	}
	nearRel(t, "expected transactions of all donors in the next 5 periods", next5, 12884.2, 5e-5)
	nearRel(t, "E[X(10)]", m.ExpectedTransactions(10), 3.1798, 5e-5)
	nearRel(t, "E[Y(10)|0,0,6]", m.ConditionalExpected(10, 0, 0, 6), 0.1302169, 5e-4)
	nearRel(t, "E[Y(10)|4,5,6]", m.ConditionalExpected(10, 4, 5, 6), 3.627858, 5e-4)
	ll, err := m.LogLikelihoodOf(pats)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "LogLikelihoodOf", ll, m.LogLikelihood, 1e-8)
}

func TestBGBBIdentities(t *testing.T) {
	m := NewBGBB(1.204, 0.750, 0.657, 2.783)
	// The likelihood over all patterns of n periods sums to 1.
	for _, n := range []int{1, 6, 11} {
		var sum float64
		for x := 0; x <= n; x++ {
			for tx := x; tx <= n; tx++ {
				if (x == 0) != (tx == 0) {
					continue
				}
				// number of sequences with x ones, the last at tx
				seqs := 1.0
				if x > 0 {
					seqs = binom(tx-1, x-1)
				}
				sum += seqs * math.Exp(m.logLik(Pattern{X: x, Tx: tx, N: n}, nil, nil)-m.constant())
			}
		}
		near(t, "Σ L over sequences n="+strconv.Itoa(n), sum, 1, 1e-12)
	}
	// DERT is the discounted sum of per-period expectations.
	for _, p := range []Pattern{{0, 0, 6, 1}, {4, 5, 6, 1}, {6, 6, 6, 1}} {
		var sum, prev float64
		for k := 1; k <= 3000; k++ {
			cur := m.ConditionalExpected(float64(k), p.X, p.Tx, p.N)
			sum += (cur - prev) / math.Pow(1.1, float64(k))
			prev = cur
		}
		nearRel(t, "DERT", m.DERT(0.1, p.X, p.Tx, p.N), sum, 1e-9)
	}
	d, _, err := newBGBBData(readDonations(t))
	if err != nil {
		t.Fatal(err)
	}
	theta := logStart([]float64{0.8, 1.5, 2, 1.2})
	g := make([]float64, 4)
	d.negLL(theta, g)
	ng := numGrad(d.negLL, theta)
	for i := range g {
		near(t, "gradient", g[i], ng[i], 1e-7)
	}
}

func binom(n, k int) float64 {
	v := 1.0
	for i := 1; i <= k; i++ {
		v = v * float64(n-k+i) / float64(i)
	}
	return v
}
