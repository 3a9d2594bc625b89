package engine

import (
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// analyseDrivers turns the moments of a window (and of the previous one,
// when compared) into the drivers: importances, quadrants, flags, weights
// and the test of each attribute's change.
func analyseDrivers(attrs []string, m, prev *moments, compare bool) DriverSet {
	k := len(attrs)
	set := DriverSet{Attributes: []DriverAttribute{}, Redundant: []RedundantPair{}}
	if m == nil {
		m = &moments{}
	}
	set.Responses, set.CompleteCases, set.CSATMean = m.responses, m.complete, m.csatMean
	imp := importances(m, k)
	if imp != nil {
		set.RSquared = finite(imp.r2)
	}
	for i, a := range attrs {
		da := DriverAttribute{Attribute: a}
		if m.n != nil {
			da.Responses, da.Mean, da.StdDev, da.Top2Box, da.Likert = m.n[i], m.mean[i], m.sd[i], m.top2[i], m.likert[i]
			da.Pearson, da.Spearman = m.pearson[i], m.spear[i]
		}
		if imp != nil {
			da.LMG, da.Beta = finite(imp.lmg[i]), finite(imp.beta[i])
			if imp.r2 > 0 {
				da.Importance = finite(imp.lmg[i] / imp.r2)
			}
		}
		da.Weak = da.Pearson == nil || math.Abs(*da.Pearson) < weakR
		if compare {
			da.Previous = attributeChange(m, prev, i)
		}
		set.Attributes = append(set.Attributes, da)
	}
	quadrants(set.Attributes)
	set.Redundant = redundantPairs(attrs, m, set.Attributes)
	set.Weights = deriveWeights(set.Attributes)
	return set
}

// importance is the decomposition of R² over the attributes.
type importance struct {
	r2   float64
	lmg  []float64
	beta []float64
}

// importances decomposes R² of csat on the attributes from the correlation
// matrix of the complete cases. With R the attributes' correlations and r
// their correlations with csat, a subset S explains R²(S) = r_Sᵀ R_SS⁻¹ r_S.
// LMG gives attribute j the average, over every order in which the
// attributes could enter the regression, of the R² it adds when it enters:
// Σ_{S ∌ j} |S|!(k−|S|−1)!/k! · (R²(S ∪ {j}) − R²(S)); the parts sum to
// R²(all). Beyond maxLMGAttributes the Pratt measure β_j·r_j (which also
// sums to R²) stands in.
func importances(m *moments, k int) *importance {
	if m.complete < int64(k)+2 || m.corrCSAT == nil {
		return nil // fewer cases than a regression needs
	}
	for i := range k {
		if m.corrCSAT[i] == nil {
			return nil // an attribute (or csat) without variation
		}
		for j := range k {
			if m.corr[i][j] == nil {
				return nil
			}
		}
	}
	R := mat.NewSymDense(k, nil)
	r := make([]float64, k)
	for i := range k {
		r[i] = *m.corrCSAT[i]
		for j := i; j < k; j++ {
			R.SetSym(i, j, *m.corr[i][j])
		}
	}
	all := uint(1)<<k - 1
	r2All, beta := subsetR2(R, r, all)
	imp := &importance{r2: r2All, beta: beta, lmg: make([]float64, k)}
	if k > maxLMGAttributes {
		for j := range k {
			imp.lmg[j] = beta[j] * r[j]
		}
		return imp
	}
	r2 := make([]float64, 1<<k)
	for s := uint(1); s <= all; s++ {
		r2[s], _ = subsetR2(R, r, s)
	}
	fact := make([]float64, k+1)
	fact[0] = 1
	for i := 1; i <= k; i++ {
		fact[i] = fact[i-1] * float64(i)
	}
	for j := range k {
		bit := uint(1) << j
		for s := uint(0); s <= all; s++ {
			if s&bit != 0 {
				continue
			}
			size := bits.OnesCount(s)
			w := fact[size] * fact[k-size-1] / fact[k]
			imp.lmg[j] += w * (r2[s|bit] - r2[s])
		}
	}
	return imp
}

// subsetR2 is R² of the regression on the attributes in mask, and their
// standardized coefficients (β = R_SS⁻¹ r_S, in attribute order, 0 outside
// the mask). A singular submatrix (an attribute a copy of another) is
// solved by least squares, which gives the same R².
func subsetR2(R *mat.SymDense, r []float64, mask uint) (float64, []float64) {
	var idx []int
	for i := range r {
		if mask&(1<<i) != 0 {
			idx = append(idx, i)
		}
	}
	n := len(idx)
	sub := mat.NewSymDense(n, nil)
	rs := mat.NewVecDense(n, nil)
	for a, i := range idx {
		rs.SetVec(a, r[i])
		for b, j := range idx {
			if b >= a {
				sub.SetSym(a, b, R.At(i, j))
			}
		}
	}
	var b mat.VecDense
	var chol mat.Cholesky
	if ok := chol.Factorize(sub); !ok || chol.SolveVecTo(&b, rs) != nil {
		if err := b.SolveVec(mat.DenseCopyOf(sub), rs); err != nil {
			return 0, make([]float64, len(r))
		}
	}
	beta := make([]float64, len(r))
	r2 := 0.0
	for a, i := range idx {
		beta[i] = b.AtVec(a)
		r2 += beta[i] * r[i]
	}
	return r2, beta
}

// quadrants places each attribute in the importance-performance matrix:
// importance against the mean importance (1/k, as importances sum to 1),
// performance (the mean score) against the mean of the attribute means.
func quadrants(as []DriverAttribute) {
	var sumMean, nMean, sumImp, nImp float64
	for _, a := range as {
		if a.Mean != nil {
			sumMean, nMean = sumMean+*a.Mean, nMean+1
		}
		if a.Importance != nil {
			sumImp, nImp = sumImp+*a.Importance, nImp+1
		}
	}
	for i := range as {
		a := &as[i]
		if a.Mean == nil || a.Importance == nil {
			continue
		}
		important := *a.Importance >= sumImp/nImp
		performing := *a.Mean >= sumMean/nMean
		switch {
		case important && performing:
			a.Quadrant = "keep_up"
		case important:
			a.Quadrant = "concentrate_here"
		case performing:
			a.Quadrant = "possible_overkill"
		default:
			a.Quadrant = "low_priority"
		}
	}
}

// redundantPairs flags pairs of attributes correlated beyond redundantR
// (complete cases) and drops the less important of each pair.
func redundantPairs(attrs []string, m *moments, as []DriverAttribute) []RedundantPair {
	out := []RedundantPair{}
	if m.corr == nil {
		return out
	}
	for i := range attrs {
		for j := i + 1; j < len(attrs); j++ {
			c := m.corr[i][j]
			if c == nil || math.Abs(*c) <= redundantR {
				continue
			}
			drop := j
			if orZero(as[i].Importance) < orZero(as[j].Importance) {
				drop = i
			}
			as[drop].Redundant = true
			out = append(out, RedundantPair{A: attrs[i], B: attrs[j], R: *c, Dropped: attrs[drop]})
		}
	}
	return out
}

// deriveWeights weighs the attributes neither redundant nor weak by their
// importance, normalised to sum to 1, and writes them as csi's weights
// parameter takes them (rounded to 4 decimals; only ratios matter).
func deriveWeights(as []DriverAttribute) string {
	var sum float64
	for _, a := range as {
		if !a.Redundant && !a.Weak && a.Importance != nil && *a.Importance > 0 {
			sum += *a.Importance
		}
	}
	var parts []string
	for i := range as {
		a := &as[i]
		if sum == 0 || a.Redundant || a.Weak || a.Importance == nil || *a.Importance <= 0 {
			continue
		}
		a.Weight = math.Round(*a.Importance/sum*1e4) / 1e4
		parts = append(parts, a.Attribute+":"+strconv.FormatFloat(a.Weight, 'f', -1, 64))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// attributeChange tests the change of an attribute's mean against the
// previous window with Welch's t-test (unequal variances): t = (m₁ − m₀) /
// √(s₁²/n₁ + s₀²/n₀), with the Welch–Satterthwaite degrees of freedom.
func attributeChange(m, prev *moments, i int) *AttributeChange {
	c := &AttributeChange{}
	if prev == nil || prev.n == nil {
		return c
	}
	c.Responses, c.Mean = prev.n[i], prev.mean[i]
	if m.n == nil || m.mean[i] == nil || prev.mean[i] == nil {
		return c
	}
	c.Change = finite(*m.mean[i] - *prev.mean[i])
	t, df, p := welch(*m.mean[i], orZero(m.sd[i]), float64(m.n[i]), *prev.mean[i], orZero(prev.sd[i]), float64(prev.n[i]))
	c.T, c.DF, c.PValue = t, df, p
	if p != nil {
		sig := *p <= NoiseLevel
		c.Significant = &sig
	}
	return c
}

// welch is Welch's two-sample t-test, two-sided.
func welch(m1, s1, n1, m0, s0, n0 float64) (t, df, p *float64) {
	if n1 < 2 || n0 < 2 {
		return nil, nil, nil
	}
	v1, v0 := s1*s1/n1, s0*s0/n0
	if v1+v0 == 0 {
		return nil, nil, nil
	}
	tv := (m1 - m0) / math.Sqrt(v1+v0)
	dfv := (v1 + v0) * (v1 + v0) / (v1*v1/(n1-1) + v0*v0/(n0-1))
	pv := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: dfv}.Survival(math.Abs(tv))
	return finite(tv), finite(dfv), finite(pv)
}
