package engine

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// driverSurveys: eight responses in January 2024 (csat, score_a, score_b)
// and three in December 2023:
//
//	1: 5 5 4   2: 4 4 4   3: 3 3 2   4: 2 2 3   5: 1 1 1   6: 4 5 5
//	7: 5 4 –   8: – 3 3   (7 lacks b, 8 lacks csat: not complete cases)
//
// score_a: 8 answers, mean 27/8, top-2-box 4/8, Likert 1,1,2,2,2.
// Over the complete cases 1–6 score_a and score_b correlate at 0.8876 >
// 0.8: a redundant pair.
const driverSurveys = `response_id,customer_id,survey_date,csat,nps,score_a,score_b
r1,c1,2024-01-02 10:00:00,5,9,5,4
r2,c2,2024-01-03 10:00:00,4,8,4,4
r3,c3,2024-01-04 10:00:00,3,6,3,2
r4,c4,2024-01-05 10:00:00,2,4,2,3
r5,c5,2024-01-06 10:00:00,1,2,1,1
r6,c6,2024-01-07 10:00:00,4,8,5,5
r7,c1,2024-01-08 10:00:00,5,9,4,
r8,c2,2024-01-09 10:00:00,,9,3,3
p1,c1,2023-12-02 10:00:00,3,9,2,4
p2,c2,2023-12-03 10:00:00,4,8,3,4
p3,c3,2023-12-04 10:00:00,3,6,2,2
`

func driverEngine(t *testing.T) *Engine {
	t.Helper()
	e := handBuilt(t)
	path := filepath.Join(t.TempDir(), "surveys.csv")
	if err := os.WriteFile(path, []byte(driverSurveys), 0o600); err != nil {
		t.Fatal(err)
	}
	mustImport(t, e, "surveys", path)
	return e
}

// pearson over the pairs where both are present (-1 marks absent).
func pearson(x, y []float64) float64 {
	var xs, ys []float64
	for i := range x {
		if x[i] >= 0 && y[i] >= 0 {
			xs, ys = append(xs, x[i]), append(ys, y[i])
		}
	}
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	mx, my = mx/float64(len(xs)), my/float64(len(ys))
	var sxy, sxx, syy float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
		syy += (ys[i] - my) * (ys[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

func TestSatisfactionDriversHandWorked(t *testing.T) {
	e := driverEngine(t)
	d, err := e.SatisfactionDrivers(context.Background(), DriversQuery{From: date("2024-01-01"), To: date("2024-02-01"), Compare: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Responses != 8 || d.CompleteCases != 6 || d.PreviousFrom != "2023-12-01" {
		t.Fatalf("responses %d complete %d previous_from %s", d.Responses, d.CompleteCases, d.PreviousFrom)
	}
	a, b := d.Attributes[0], d.Attributes[1]
	if a.Attribute != "score_a" || b.Attribute != "score_b" {
		t.Fatalf("attributes %s %s", a.Attribute, b.Attribute)
	}
	approx(t, "mean a", a.Mean, 27.0/8)
	approx(t, "top2 a", a.Top2Box, 0.5)
	if a.Likert != [5]int64{1, 1, 2, 2, 2} || a.Responses != 8 || b.Responses != 7 {
		t.Errorf("likert a %v, responses %d %d", a.Likert, a.Responses, b.Responses)
	}
	// Pairwise complete: a with csat over r1–r7, b with csat over r1–r6.
	csat := []float64{5, 4, 3, 2, 1, 4, 5, -1}
	sa := []float64{5, 4, 3, 2, 1, 5, 4, 3}
	sb := []float64{4, 4, 2, 3, 1, 5, -1, 3}
	approx(t, "pearson a", a.Pearson, pearson(sa, csat))
	approx(t, "pearson b", b.Pearson, pearson(sb, csat))
	// Spearman of b: ranks of b over r1–r6 (4,4,2,3,1,5 → 4.5,4.5,2,3,1,6)
	// against those of csat (5,4,3,2,1,4 → 6,4.5,3,2,1,4.5).
	approx(t, "spearman b", b.Spearman, pearson([]float64{4.5, 4.5, 2, 3, 1, 6}, []float64{6, 4.5, 3, 2, 1, 4.5}))
	// LMG with two attributes, over the complete cases r1–r6: R² =
	// (ra² + rb² − 2·ra·rb·rab)/(1 − rab²); a gets half its own r² and half
	// what it adds to b.
	c6 := csat[:6]
	ra, rb, rab := pearson(sa[:6], c6), pearson(sb[:6], c6), pearson(sa[:6], sb[:6])
	r2 := (ra*ra + rb*rb - 2*ra*rb*rab) / (1 - rab*rab)
	approx(t, "r2", d.RSquared, r2)
	approx(t, "lmg a", a.LMG, ra*ra/2+(r2-rb*rb)/2)
	approx(t, "lmg b", b.LMG, rb*rb/2+(r2-ra*ra)/2)
	approx(t, "importance a", a.Importance, (ra*ra/2+(r2-rb*rb)/2)/r2)
	approx(t, "beta a", a.Beta, (ra-rb*rab)/(1-rab*rab))
	// rab = 0.8876 > 0.8: b, the less important, is dropped; a weighs all.
	if len(d.Redundant) != 1 || d.Redundant[0].Dropped != "score_b" || !b.Redundant || a.Redundant {
		t.Errorf("redundant %+v", d.Redundant)
	}
	if d.Weights != "score_a:1" {
		t.Errorf("weights %q", d.Weights)
	}
	// a is more important (above 1/2) and performs better (27/8 > 22/7).
	if a.Quadrant != "keep_up" || b.Quadrant != "low_priority" {
		t.Errorf("quadrants %s %s", a.Quadrant, b.Quadrant)
	}
	// Welch: December a = 2, 3, 2 (mean 7/3, s² = 1/3); January 27/8, s² from the eight.
	var ss float64
	for _, v := range sa {
		ss += (v - 27.0/8) * (v - 27.0/8)
	}
	v1, v0 := ss/7/8, (1.0/3)/3
	approx(t, "welch t", a.Previous.T, (27.0/8-7.0/3)/math.Sqrt(v1+v0))
	approx(t, "welch df", a.Previous.DF, (v1+v0)*(v1+v0)/(v1*v1/7+v0*v0/2))
	approx(t, "change", a.Previous.Change, 27.0/8-7.0/3)
}

// csi?weights=derived is csi weighted by the drivers' weights.
func TestCSIDerivedWeights(t *testing.T) {
	e := driverEngine(t)
	ctx := context.Background()
	q := Query{KPI: "csi", From: date("2024-01-01"), To: date("2024-02-01"), Params: map[string]string{"weights": "derived"}}
	got, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	q.Params["weights"] = "score_a:1"
	want, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows[0][0] != want.Rows[0][0] || got.Params["weights"] != "score_a:1" {
		t.Errorf("derived %v (%v), explicit %v", got.Rows, got.Params, want.Rows)
	}
}

func TestSatisfactionDriversBadInput(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	if _, err := e.SatisfactionDrivers(ctx, DriversQuery{}); ErrorCode(err) != CodeMissingDataset {
		t.Errorf("no surveys: %v", err)
	}
	path := filepath.Join(t.TempDir(), "surveys.csv")
	os.WriteFile(path, []byte("response_id,customer_id,survey_date,csat\nr1,c1,2024-01-02,4\n"), 0o600)
	mustImport(t, e, "surveys", path)
	_, err := e.SatisfactionDrivers(ctx, DriversQuery{})
	if ErrorCode(err) != CodeMissingColumn || !strings.Contains(err.Error(), "score_*") {
		t.Errorf("no score columns: %v", err)
	}
	e2 := driverEngine(t)
	if _, err := e2.SatisfactionDrivers(ctx, DriversQuery{By: "shoe_size"}); ErrorCode(err) != CodeUnknownDimension {
		t.Errorf("unknown by: %v", err)
	}
}

// By region: north holds c1 and c2 (r1, r2, r7, r8).
func TestSatisfactionDriversBy(t *testing.T) {
	e := driverEngine(t)
	d, err := e.SatisfactionDrivers(context.Background(), DriversQuery{From: date("2024-01-01"), To: date("2024-02-01"), By: "region"})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range d.Groups {
		if g.Value == "north" {
			if g.Responses != 4 {
				t.Errorf("north responses %d", g.Responses)
			}
			approx(t, "north mean a", g.Attributes[0].Mean, (5+4+4+3)/4.0)
			return
		}
	}
	t.Errorf("no north group: %+v", d.Groups)
}

// Uncorrelated attributes: each one's LMG is its own r².
func TestLMGUncorrelated(t *testing.T) {
	one, zero := 1.0, 0.0
	r := []float64{0.5, 0.3, 0.1}
	m := &moments{complete: 100, corr: [][]*float64{{&one, &zero, &zero}, {&zero, &one, &zero}, {&zero, &zero, &one}}}
	for i := range r {
		m.corrCSAT = append(m.corrCSAT, &r[i])
	}
	imp := importances(m, 3)
	approx(t, "r2", imp.r2, 0.35)
	for i := range r {
		approx(t, "lmg", imp.lmg[i], r[i]*r[i])
	}
}
