package clv

import "math"

// RetentionPoint is period t of a retention report: the fitted renewal
// rate at its end and survival after it, with the observed values where the
// data reach (nil beyond: projected).
type RetentionPoint struct {
	Period            int      `json:"period"`
	Projected         bool     `json:"projected"`
	Retention         float64  `json:"retention"`
	Survival          float64  `json:"survival"`
	ObservedRetention *float64 `json:"observed_retention" extensions:"x-nullable"`
	ObservedSurvival  *float64 `json:"observed_survival" extensions:"x-nullable"`
	// AtRisk is the number of customers whose renewal decision at the end
	// of period t was observed.
	AtRisk int `json:"at_risk"`
}

// RetentionReport is an sBG fit with its fitted, observed and projected
// retention and survival curves.
type RetentionReport struct {
	SBG    *SBG             `json:"sbg"`
	Curve  []RetentionPoint `json:"curve"`
	Groups []LifetimeGroup  `json:"groups"`
	// DERL of a customer just acquired, with the discount rate per period
	// it was computed at (absent without a discount rate).
	DERL     *float64 `json:"derl,omitempty"`
	Discount *float64 `json:"discount,omitempty"`
}

// Retention fits the sBG model to lifetime groups and reports the curves
// through horizon periods after the last observed one; with discount > 0
// it adds the DERL of a new customer. Bad groups return *InputError; a fit
// that does not converge returns the report and an error wrapping
// ErrNotConverged.
func Retention(groups []LifetimeGroup, horizon int, discount float64, solver SolverOptions) (*RetentionReport, error) {
	if horizon < 0 || horizon > 1000 {
		return nil, inputErrorf("horizon", "%d is not in 0..1000", horizon)
	}
	if !(discount >= 0) || math.IsInf(discount, 0) {
		return nil, inputErrorf("discount", "%g is not a non-negative rate per period", discount)
	}
	m, err := FitSBG(groups, solver)
	if m == nil {
		return nil, err
	}
	rep := &RetentionReport{SBG: m, Groups: groups}
	if err != nil {
		return rep, err
	}
	observed := observedRetention(groups)
	s, obsS := 1.0, 1.0
	for t := 1; t <= len(observed)+horizon; t++ {
		s *= m.Retention(t)
		p := RetentionPoint{Period: t, Retention: m.Retention(t), Survival: s, Projected: t > len(observed)}
		if !p.Projected {
			o := observed[t-1]
			p.AtRisk = o.atRisk
			if o.atRisk > 0 {
				r := float64(o.renewed) / float64(o.atRisk)
				obsS *= r
				sv := obsS
				p.ObservedRetention, p.ObservedSurvival = &r, &sv
			}
		}
		rep.Curve = append(rep.Curve, p)
	}
	if discount > 0 {
		d, disc := m.DERL(discount, 0), discount
		rep.DERL, rep.Discount = &d, &disc
	}
	return rep, nil
}

type riskSet struct{ atRisk, renewed int }

// observedRetention counts, for each renewal decision t = 1..max, the
// customers whose decision was observed and those who renewed: a customer
// who left after period L decided at 1..L and renewed at 1..L-1; one still
// active after L periods renewed at 1..L. This is the Kaplan-Meier view of
// censored lifetimes; with one cohort fully observed it is s_t/s_{t-1}.
func observedRetention(groups []LifetimeGroup) []riskSet {
	maxT := 0
	for _, g := range groups {
		maxT = max(maxT, g.Periods)
	}
	out := make([]riskSet, maxT)
	for _, g := range groups {
		for t := 1; t <= g.Periods; t++ {
			out[t-1].atRisk += g.Count
			if !g.Churned || t < g.Periods {
				out[t-1].renewed += g.Count
			}
		}
	}
	// Trailing decisions nobody was observed at carry no information.
	for len(out) > 0 && out[len(out)-1].atRisk == 0 {
		out = out[:len(out)-1]
	}
	return out
}
