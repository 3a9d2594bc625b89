package engine

import (
	"context"
	"slices"
	"testing"
)

func TestCheckInvariants(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	if _, err := e.EvaluateRuleSet(ctx, "lifecycle", 0, date("2024-02-01"), false); err != nil {
		t.Fatal(err)
	}
	failing := func() map[string]string {
		t.Helper()
		invs, err := e.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(invs) != len(invariantChecks) {
			t.Fatalf("%d invariants reported", len(invs))
		}
		out := map[string]string{}
		for _, inv := range invs {
			if !inv.OK {
				out[inv.Name] = inv.Problem
			}
		}
		return out
	}
	if f := failing(); len(f) != 0 {
		t.Fatalf("a database written by the engine breaks invariants: %v", f)
	}

	// Break each one behind the engine's back; check names exactly those.
	for _, stmt := range []string{
		"DELETE FROM customer_features WHERE customer_id = 'c1'",
		"INSERT INTO clv_scores VALUES ('c1', 0.5, 1, 10)",
		"DELETE FROM tier_assignments WHERE customer_id = 'c2'",
		"DELETE FROM orders WHERE order_id = 'o1'",
		"UPDATE meta_state SET generation = generation + 5",
		"UPDATE meta_derived SET data_generation = data_generation + 1",
		"UPDATE meta_derived SET data_end = data_end - INTERVAL 3 DAY",
	} {
		if _, err := e.DB().ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	f := failing()
	for _, name := range []string{"generation", "features_generation", "features_customers", "features_monetary", "dataset_rows", "fast_tables", "data_end", "evaluations", "scores"} {
		if f[name] == "" {
			t.Errorf("invariant %s not reported broken (broken: %v)", name, f)
		}
	}
	if want := "meta_state says generation"; len(f["generation"]) < len(want) || f["generation"][:len(want)] != want {
		t.Errorf("generation problem: %q", f["generation"])
	}
}

// TestCheckSuspectTotals: the check names fast_tables when the suspected
// churn changes per day disagree with the orders.
func TestCheckSuspectTotals(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	var eligible int64
	if err := e.DB().QueryRowContext(ctx, "SELECT coalesce(sum(eligible), 0) FROM fast_suspect_per_day").Scan(&eligible); err != nil {
		t.Fatal(err)
	}
	if eligible == 0 {
		t.Fatal("no customer of the hand-built data has three order days: the check is not exercised")
	}
	if _, err := e.DB().ExecContext(ctx, "UPDATE fast_suspect_per_day SET flagged = flagged + 1 WHERE day = (SELECT min(day) FROM fast_suspect_per_day)"); err != nil {
		t.Fatal(err)
	}
	invs, err := e.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		if inv.OK == (inv.Name == "fast_tables") {
			t.Errorf("invariant %s: ok %v (%s)", inv.Name, inv.OK, inv.Problem)
		}
	}
}

// TestCheckEngagementTables: the check names fast_tables_engagement when
// the tickets', events', surveys' or contracts' fast tables disagree with
// their datasets, each broken on its own.
func TestCheckEngagementTables(t *testing.T) {
	for _, stmt := range []string{
		"DELETE FROM fast_ticket_rows WHERE ticket_id = (SELECT min(ticket_id) FROM fast_ticket_rows)",
		"UPDATE fast_ticket_totals_by SET tickets = tickets + 1 WHERE day = (SELECT min(day) FROM fast_ticket_totals_by)",
		"DELETE FROM fast_event_rows WHERE day = (SELECT min(day) FROM fast_event_rows)",
		"UPDATE fast_event_totals_by SET email_sent = email_sent + 1 WHERE day = (SELECT min(day) FROM fast_event_totals_by)",
		"UPDATE fast_survey_days SET nps_responses = nps_responses + 1 WHERE day = (SELECT min(day) FROM fast_survey_days)",
		"DELETE FROM fast_survey_totals_by WHERE day = (SELECT max(day) FROM fast_survey_totals_by WHERE nps_responses > 0)",
		"DELETE FROM fast_contract_rows WHERE contract_id = (SELECT min(contract_id) FROM fast_contract_rows)",
	} {
		e := handBuilt(t)
		ctx := context.Background()
		for _, kind := range []string{"surveys", "tickets", "events", "contracts"} {
			mustImport(t, e, kind, "testdata/handbuilt/"+kind+".csv")
		}
		invs, err := e.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			if !inv.OK {
				t.Fatalf("before %q: invariant %s broken: %s", stmt, inv.Name, inv.Problem)
			}
		}
		if _, err := e.DB().ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		if invs, err = e.Check(ctx); err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			if inv.OK == (inv.Name == "fast_tables_engagement") {
				t.Errorf("after %q: invariant %s ok %v (%s)", stmt, inv.Name, inv.OK, inv.Problem)
			}
		}
	}
}

// custkpi check finds keyed tier assignments missing, or keyed to
// another tier, where an evaluation holds them.
func TestCheckKeyedTiers(t *testing.T) {
	for _, stmt := range []string{
		// A customer's tier lost, or another's in its place.
		"UPDATE fast_tier_lists SET codes = list_transform(codes, (c, i) -> CASE WHEN i = 1 THEN NULL ELSE c END)",
		"UPDATE fast_tier_lists SET codes = list_transform(codes, (c, i) -> CASE WHEN i = len(codes) THEN coalesce(c % len(tiers)::UTINYINT + 1, 1) ELSE c END)",
	} {
		e := handBuilt(t)
		ctx := context.Background()
		if _, err := e.EvaluateRuleSet(ctx, "lifecycle", 0, date("2024-02-01"), false); err != nil {
			t.Fatal(err)
		}
		broken := func() []string { return brokenInvariants(t, e) }
		if b := broken(); len(b) > 0 {
			t.Fatalf("before %q: broken %v", stmt, b)
		}
		if _, err := e.DB().ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		if b := broken(); !slices.Equal(b, []string{"fast_tiers"}) {
			t.Errorf("after %q: broken %v, want fast_tiers", stmt, b)
		}
	}
}

// The check finds sums per tier that lost a tier's orders or active
// customers, or a latest evaluation without them.
func TestCheckTierSums(t *testing.T) {
	for _, stmt := range []string{
		"DELETE FROM fast_order_calendar_tiers WHERE months = 1 AND ckey = (SELECT max(ckey) FROM fast_order_calendar_tiers)",
		"UPDATE fast_calendar_activity_tiers SET active = active + 1 WHERE months = 1 AND pstart = (SELECT min(pstart) FROM fast_calendar_activity_tiers WHERE months = 1)",
		"DELETE FROM fast_tier_sums",
	} {
		e := handBuilt(t)
		ctx := context.Background()
		if _, err := e.EvaluateRuleSet(ctx, "lifecycle", 0, date("2024-02-01"), false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.DB().ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		if broken := brokenInvariants(t, e); !slices.Equal(broken, []string{"tier_sums"}) {
			t.Errorf("after %q: broken %v, want tier_sums", stmt, broken)
		}
	}
}

// TestCheckWideSums breaks the sums per wide dimension's value (the
// demo's signup date) three ways, each restored after: each breaks
// wide_sums alone.
func TestCheckWideSums(t *testing.T) {
	e := fastDemo(t)
	ctx := context.Background()
	if broken := brokenInvariants(t, e); len(broken) > 0 {
		t.Fatalf("broken before: %v", broken)
	}
	for table, stmt := range map[string]string{
		"fast_order_calendar_wide":    "DELETE FROM fast_order_calendar_wide WHERE months = 1 AND ckey = (SELECT max(ckey) FROM fast_order_calendar_wide)",
		"fast_calendar_activity_wide": "UPDATE fast_calendar_activity_wide SET active = active + 1 WHERE months = 1 AND pstart = (SELECT min(pstart) FROM fast_calendar_activity_wide WHERE months = 1)",
		"fast_wide_codes":             "UPDATE fast_wide_codes SET codes = codes[2:]",
	} {
		for _, s := range []string{"CREATE TABLE zz_kept AS SELECT * FROM " + table, stmt} {
			if _, err := e.DB().ExecContext(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if broken := brokenInvariants(t, e); !slices.Equal(broken, []string{"wide_sums"}) {
			t.Errorf("after %q: broken %v, want wide_sums", stmt, broken)
		}
		for _, s := range []string{"CREATE OR REPLACE TABLE " + table + " AS SELECT * FROM zz_kept", "DROP TABLE zz_kept"} {
			if _, err := e.DB().ExecContext(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// brokenInvariants are the names of the invariants e's check finds broken.
func brokenInvariants(t *testing.T, e *Engine) []string {
	t.Helper()
	invs, err := e.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, inv := range invs {
		if !inv.OK {
			out = append(out, inv.Name)
		}
	}
	return out
}
