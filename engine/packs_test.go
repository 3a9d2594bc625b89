package engine

import (
	"context"
	"testing"
)

// Every built-in pack names KPIs of the catalog, with a goal.
func TestBuiltinPacksNameCatalogKPIs(t *testing.T) {
	e := mustOpen(t)
	packs, err := e.Packs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range packs {
		names[p.Name] = true
		for _, k := range p.KPIs {
			if _, err := e.Catalog().Lookup(k.KPI); err != nil {
				t.Errorf("pack %s: %v", p.Name, err)
			}
		}
	}
	for _, want := range []string{"growth", "profit", "retention", "service", "b2b", "ecommerce"} {
		if !names[want] {
			t.Errorf("no built-in pack %s", want)
		}
	}
}

// scorecard?pack=retention has the pack's KPIs whose data is there, in its
// order, and the others are left off; a saved pack works the same way.
func TestScorecardPack(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	sc, err := e.ScorecardOf(ctx, ScorecardQuery{From: date("2024-01-01"), To: date("2024-04-01"), Pack: "retention"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range sc.Rows {
		got = append(got, r.KPI)
	}
	want := []string{"repeat_purchase_rate", "retention_rate", "churn_rate", "suspected_churn_rate", "purchase_frequency"}
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rows %v, want %v", got, want)
		}
	}
	if sc.Pack == nil || sc.Pack.Goal == "" || sc.Rows[2].Direction != "lower_is_better" {
		t.Errorf("pack %+v, churn direction %s", sc.Pack, sc.Rows[2].Direction)
	}

	p, created, err := e.SavePack(ctx, "mine", []byte(`{"goal": "Watch two numbers.", "kpis": [{"kpi": "orders"}, {"kpi": "churn_rate", "direction": "lower_is_better"}]}`))
	if err != nil || !created || p.KPIs[0].Direction != "higher_is_better" {
		t.Fatalf("save: %v %v %+v", err, created, p)
	}
	if _, created, _ := e.SavePack(ctx, "mine", []byte(`{"goal": "Watch one.", "kpis": [{"kpi": "orders"}]}`)); created {
		t.Error("replacing a pack says created")
	}
	sc, err = e.ScorecardOf(ctx, ScorecardQuery{From: date("2024-01-01"), To: date("2024-04-01"), Pack: "mine"})
	if err != nil || len(sc.Rows) != 1 || sc.Rows[0].KPI != "orders" {
		t.Fatalf("saved pack scorecard: %v %+v", err, sc)
	}
	for _, bad := range []string{`{"goal": "x", "kpis": [{"kpi": "nope"}]}`, `{"kpis": [{"kpi": "orders"}]}`,
		`{"goal": "x", "kpis": [{"kpi": "orders", "direction": "up"}]}`, `{"goal": "x", "kpis": [], "extra": 1}`} {
		if _, _, err := e.SavePack(ctx, "bad", []byte(bad)); ErrorCode(err) != CodeInvalidParameter {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, _, err := e.SavePack(ctx, "retention", []byte(`{"goal": "x", "kpis": [{"kpi": "orders"}]}`)); ErrorCode(err) != CodeInvalidParameter {
		t.Errorf("overwrote a built-in pack: %v", err)
	}
	if _, err := e.ScorecardOf(ctx, ScorecardQuery{Pack: "nope"}); ErrorCode(err) != CodeNotFound {
		t.Errorf("unknown pack: %v", err)
	}
	if err := e.DeletePack(ctx, "mine"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PackByName(ctx, "mine"); ErrorCode(err) != CodeNotFound {
		t.Errorf("deleted pack: %v", err)
	}
}
