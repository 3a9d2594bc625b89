package engine

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func tierCounts(ev *Evaluation) map[string]int64 {
	m := map[string]int64{}
	for _, tc := range ev.Tiers {
		m[tc.Tier] = tc.Customers
	}
	return m
}

// Lifecycle (the built-in) on the hand-built data, as of the day after the
// latest order (2024-04-11): completed orders c1 4, c2 2, c3 2, c4 1, c5 1,
// c6 0; nobody is a year silent, and c1, the only customer with three order
// dates, is within twice its median gap (37 days): none lapsed.
//
//	potential c6; first_purchase c4, c5; repeat c1, c2, c3 (2-4 orders)
//	revenue shares: repeat (260 + 320 + 100)/840, first_purchase 160/840
//
// Both paths (SQL and Go) give the same tiers.
func TestEvaluateBuiltinLifecycle(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	for _, forceGo := range []bool{false, true} {
		ev, err := e.EvaluateRuleSet(ctx, "lifecycle", 0, time.Time{}, forceGo)
		if err != nil {
			t.Fatal(err)
		}
		wantPath := map[bool]string{false: "sql", true: "go"}[forceGo]
		if ev.Path != wantPath || ev.AsOf != "2024-04-11" || ev.Customers != 6 {
			t.Errorf("path %s as_of %s customers %d", ev.Path, ev.AsOf, ev.Customers)
		}
		got := tierCounts(ev)
		want := map[string]int64{"potential": 1, "lapsed": 0, "first_purchase": 2, "loyal": 0, "repeat": 3}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: tier %s has %d, want %d", wantPath, k, got[k], v)
			}
		}
		for _, tc := range ev.Tiers {
			switch tc.Tier {
			case "repeat":
				approx(t, "repeat revenue share", tc.RevenueShare, 680.0/840)
			case "first_purchase":
				approx(t, "first_purchase revenue share", tc.RevenueShare, 160.0/840)
			}
		}
		// recency_days is null only for c6, whom rule 1 (potential) takes
		// before rule 2 reads it: no null skips.
		if len(ev.NullSkips) != 4 || ev.NullSkips[1].Customers != 0 {
			t.Errorf("%s: null skips %+v", wantPath, ev.NullSkips)
		}
	}
	page, err := e.Assignments(ctx, "lifecycle", 0, "first_purchase", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 2 || page.Rows[0]["customer_id"] != "c4" || page.Rows[1]["customer_id"] != "c5" || page.Rows[0]["rule"] != int64(3) {
		t.Errorf("assignments %v", page.Rows)
	}
	d, err := e.Customer(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Tiers) != 1 || d.Tiers[0]["tier"] != "repeat" || d.Tiers[0]["ruleset"] != "lifecycle" {
		t.Errorf("c1 tiers %v", d.Tiers)
	}
}

// Tiers as a KPI dimension, where= on KPIs and customers, and the migration
// matrix between two as-of dates.
//
// As of 2024-02-01 the completed orders are c1 2 (o1, o2), c2 1 (o4),
// c3 2 (o7, o8), others 0: c1 repeat, c2 first_purchase, c3 repeat,
// c4 c5 c6 potential. To 2024-04-11: c2 → repeat, c4 c5 → first_purchase;
// 3 moved, 3 stayed.
func TestTiersAsDimensionWhereAndTransitions(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	tr, err := e.RuleSetTransitions(ctx, "lifecycle", 0, 0, date("2024-02-01"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Moved != 3 || tr.Stayed != 3 {
		t.Errorf("moved %d stayed %d: %+v", tr.Moved, tr.Stayed, tr.Matrix)
	}
	moves := map[string]int64{}
	for _, m := range tr.Matrix {
		moves[*m.From+">"+*m.To] = m.Customers
	}
	if moves["potential>first_purchase"] != 2 || moves["first_purchase>repeat"] != 1 || moves["repeat>repeat"] != 2 || moves["potential>potential"] != 1 {
		t.Errorf("matrix %v", moves)
	}

	// Transitions answer a GET: they store nothing and make no generation.
	gen := e.Generation()
	if _, err := e.Run(ctx, Query{KPI: "revenue", By: []string{"tier:lifecycle"}}); ErrorCode(err) != CodeUnknownDimension {
		t.Errorf("transitions stored an evaluation: %v", err)
	}
	if e.Generation() != gen {
		t.Errorf("transitions wrote: generation %d -> %d", gen, e.Generation())
	}
	if _, err := e.EvaluateRuleSet(ctx, "lifecycle", 0, time.Time{}, false); err != nil {
		t.Fatal(err)
	}
	if e.Generation() != gen+1 {
		t.Errorf("an evaluation is one generation: %d -> %d", gen, e.Generation())
	}

	// Q1 2024 revenue: repeat c1 160 + c3 100; first_purchase c4 70 + c5 90.
	res, err := e.Run(ctx, Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-04-01"), By: []string{"tier:lifecycle"}})
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, res, []row{{"first_purchase", 160.0, nil, nil}, {"repeat", 260.0, nil, nil}})
	if _, err := e.Run(ctx, Query{KPI: "revenue", By: []string{"tier:abc"}}); ErrorCode(err) != CodeUnknownDimension {
		t.Errorf("tier of an unevaluated rule set: %v", err)
	}

	// where= through the SQL translation, and through the Go fallback (a
	// comprehension does not translate): frequency 1 is c4 and c5.
	for where, want := range map[string]float64{
		"frequency >= 2":                        260, // c1 160 + c3 100 (c2 had no Q1 order)
		"[1].exists(x, x == frequency)":         160,
		`region in ["north"] && monetary > 0.0`: 160,
	} {
		res, err := e.Run(ctx, Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-04-01"), Where: where})
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		assertRows(t, res, []row{{"", want, nil, nil}})
	}
	_, err = e.Run(ctx, Query{KPI: "revenue", Where: "monetery > 1.0"})
	var ee *Error
	if !asError(err, &ee) || ee.Code != CodeInvalidParameter || ee.Details["parameter"] != "where" || !strings.Contains(ee.Message, "monetary") {
		t.Errorf("bad where: %v", err)
	}
	page, err := e.Customers(ctx, CustomerQuery{Where: "monetary > 200.0", OrderBy: "monetary"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 2 || page.Rows[0]["customer_id"] != "c1" {
		t.Errorf("customers where: %d %v", page.Total, page.Rows)
	}
}

func TestSaveRuleSetVersionsAndErrors(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	doc := "name: spenders\nrules:\n  - tier: big\n    when: monetary >= 250.0\ndefault: small\n"
	info, err := e.SaveRuleSet(ctx, "spenders", []byte(doc))
	if err != nil || info.Version != 1 {
		t.Fatalf("save: %+v %v", info, err)
	}
	info, err = e.SaveRuleSet(ctx, "spenders", []byte(strings.Replace(doc, "250.0", "300.0", 1)))
	if err != nil || info.Version != 2 {
		t.Fatalf("save v2: %+v %v", info, err)
	}
	v1, err := e.RuleSet(ctx, "spenders", 1)
	if err != nil || !strings.Contains(v1.Document, "250.0") || !slices.Equal(v1.Tiers, []string{"big", "small"}) {
		t.Fatalf("v1: %+v %v", v1, err)
	}
	// v1: c1 260, c2 320 big; v2: only c2.
	ev1, err := e.EvaluateRuleSet(ctx, "spenders", 1, time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	ev2, err := e.EvaluateRuleSet(ctx, "spenders", 2, time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if tierCounts(ev1)["big"] != 2 || tierCounts(ev2)["big"] != 1 {
		t.Errorf("v1 %v v2 %v", tierCounts(ev1), tierCounts(ev2))
	}
	// Recency in days as of 2024-04-11: c1 14, c2 1, c3 77, c4 27, c5 22,
	// c6 null: c6 reaches the rule with an unknown condition (a null skip)
	// and falls to the default.
	if _, err := e.SaveRuleSet(ctx, "recent", []byte("name: recent\nrules:\n  - tier: recent\n    when: recency_days < 30\ndefault: other\n")); err != nil {
		t.Fatal(err)
	}
	for _, forceGo := range []bool{false, true} {
		ev, err := e.EvaluateRuleSet(ctx, "recent", 0, time.Time{}, forceGo)
		if err != nil {
			t.Fatal(err)
		}
		if c := tierCounts(ev); c["recent"] != 4 || c["other"] != 2 || ev.NullSkips[0].Customers != 1 {
			t.Errorf("go=%v: %v, null skips %+v", forceGo, c, ev.NullSkips)
		}
	}
	list, err := e.RuleSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, r := range list {
		names[r.Name] = r.LatestVersion
	}
	if names["spenders"] != 2 || names["rfm_segments"] != 1 || len(names) != 8 {
		t.Errorf("rule sets %v", names)
	}

	bad := "name: spenders\nrules:\n  - tier: big\n    when: monetery > \"100\"\ndefault: small\n"
	_, err = e.SaveRuleSet(ctx, "spenders", []byte(bad))
	var ee *Error
	if !asError(err, &ee) || ee.Code != CodeInvalidRuleset {
		t.Fatalf("bad rule set: %v", err)
	}
	if !strings.Contains(ee.Message, "did you mean 'monetary'") || !strings.Contains(ee.Message, "line 4, column 11") {
		t.Errorf("message %q", ee.Message)
	}
	if _, err := e.RuleSet(ctx, "spenders", 3); ErrorCode(err) != CodeNotFound {
		t.Errorf("unsaved version: %v", err)
	}
}

// The six built-ins on the hand-built data, as of 2024-04-11, worked out by
// hand from the features (see features_test.go):
//
//	            c1     c2     c3     c4    c5    c6
//	frequency   4      2      2      1     1     0
//	monetary    260    320    100    70    90    0
//	recency     14     1      77     27    22    null
//	r, f, m     4,5,4  5,3,5  1,4,3  2,1,1 3,2,2 null
//	rank_pct    0.2    0      0.4    0.8   0.6   null
//	segment     b2c    b2b    b2c    b2c   b2c   b2c
//
// percentile("monetary", p) runs over all six (0, 70, 90, 100, 260, 320):
// p 0.8 → 260; p 0.95 → 260 + 0.75·60 = 305; p 0.75 → 100 + 0.75·160 = 220.
func TestBuiltinsOnHandBuilt(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	want := map[string]map[string]string{
		"rfm_segments": {"c1": "champions", "c2": "potential_loyalist", "c3": "at_risk", "c4": "hibernating", "c5": "potential_loyalist", "c6": "no_purchase"},
		"abc":          {"c1": "C", "c2": "A", "c3": "C", "c4": "C", "c5": "C", "c6": "C"},
		"lifecycle":    {"c1": "repeat", "c2": "repeat", "c3": "repeat", "c4": "first_purchase", "c5": "first_purchase", "c6": "potential"},
		// c1 and c2 reach 260 and are repeat buyers not suspected of churn.
		"volume_loyalty": {"c1": "star", "c2": "star", "c3": "rising", "c4": "low_value", "c5": "low_value", "c6": "low_value"},
		// Nobody spends 50 a month over the last year; c6 never bought.
		"value_tiers": {"c1": "C", "c2": "C", "c3": "C", "c4": "C", "c5": "C", "c6": "D"},
		// c2, the only b2b account, spent 320 ≥ 305.
		"account_tiers": {"c1": "other", "c2": "strategic", "c3": "other", "c4": "other", "c5": "other", "c6": "other"},
	}
	for name, tiers := range want {
		for _, forceGo := range []bool{false, true} {
			ev, err := e.EvaluateRuleSet(ctx, name, 0, time.Time{}, forceGo)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			page, err := e.Assignments(ctx, name, 0, "", 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Rows {
				id := r["customer_id"].(string)
				if r["tier"] != tiers[id] {
					t.Errorf("%s (%s path): %s is %v, want %s", name, ev.Path, id, r["tier"], tiers[id])
				}
			}
		}
	}
}

// A rule set saved again and re-evaluated changes the answer of by=tier, and
// so must change its fingerprint (the ETag): the old one must not answer
// 304 for the new rows. Monetary: c1 260, c3 250 are big at 250, only c1 at
// 255 (see the fixture).
func TestTierFingerprintFollowsEvaluation(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	doc := "name: spenders\nrules:\n  - tier: big\n    when: monetary >= 250.0\ndefault: small\n"
	q := Query{KPI: "active_customers", From: date("2023-01-01"), To: date("2025-01-01"), By: []string{"tier:spenders"}}
	run := func(doc string) *Result {
		t.Helper()
		if _, err := e.SaveRuleSet(ctx, "spenders", []byte(doc)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.EvaluateRuleSet(ctx, "spenders", 0, time.Time{}, false); err != nil {
			t.Fatal(err)
		}
		res, err := e.Run(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a := run(doc)
	b := run(strings.Replace(doc, "250.0", "1000000.0", 1))
	if a.Fingerprint == b.Fingerprint {
		t.Errorf("same fingerprint %s for two evaluations", a.Fingerprint)
	}
	if b.Cached {
		t.Error("the second evaluation's answer came from the cache")
	}
	// Everyone is small now: one row.
	if len(b.Rows) != 1 || b.Rows[0][0] != "small" {
		t.Errorf("rows after re-evaluation: %v", b.Rows)
	}
	if len(a.Rows) != 2 {
		t.Errorf("rows of the first evaluation: %v", a.Rows)
	}
}
