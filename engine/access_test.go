package engine

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// A north-scoped key's answer of every KPI computed per customer equals the
// north row of the same KPI by region for an unscoped key.
func TestScopeEqualsTheScopedGroup(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	north := WithPrincipal(ctx, &Principal{Name: "north", Role: RoleReader, Scope: Scope{"region": {"north"}}})
	from, to := date("2023-07-01"), date("2024-07-01")
	checked := 0
	for _, k := range e.Catalog().List() {
		d := k.Default
		if d.Dimensions != nil || len(d.Group) > 0 {
			continue
		}
		byRegion, err := e.Run(ctx, Query{KPI: k.Name, From: from, To: to, By: []string{"region"}})
		if ErrorCode(err) == CodeMissingDataset || ErrorCode(err) == CodeMissingColumn {
			continue
		}
		if err != nil {
			t.Fatalf("%s by region: %v", k.Name, err)
		}
		want := (*float64)(nil)
		for _, r := range byRegion.Rows {
			if r[0] == "north" {
				if v, ok := r[1].(float64); ok {
					want = &v
				}
			}
		}
		scoped, err := e.Run(north, Query{KPI: k.Name, From: from, To: to})
		if err != nil {
			t.Fatalf("%s scoped: %v", k.Name, err)
		}
		got, _ := scoped.Rows[0][0].(float64)
		switch {
		case want == nil && scoped.Rows[0][0] != nil && got != 0:
			t.Errorf("%s: scoped %v, no north group", k.Name, scoped.Rows[0][0])
		case want != nil && math.Abs(got-*want) > 1e-9*math.Max(1, math.Abs(*want)):
			t.Errorf("%s: scoped %v, north row %v", k.Name, got, *want)
		}
		if scoped.Fingerprint == byRegion.Fingerprint {
			t.Errorf("%s: the scope is not in the fingerprint", k.Name)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d KPIs compared", checked)
	}
}

func TestScopeRestrictsCustomersAndRefusesWholeDataWork(t *testing.T) {
	e := handBuilt(t)
	ctx := WithPrincipal(context.Background(), &Principal{Name: "north", Role: RoleAdmin, Scope: Scope{"region": {"north"}}})
	page, err := e.Customers(ctx, CustomerQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Rows {
		if r["region"] != "north" {
			t.Errorf("customer outside the scope: %v", r)
		}
	}
	if page.Total == 0 || page.Total >= 6 {
		t.Errorf("scoped total %d", page.Total)
	}
	var outside string
	all, _ := e.Customers(context.Background(), CustomerQuery{})
	for _, r := range all.Rows {
		if r["region"] != "north" {
			outside = r["customer_id"].(string)
		}
	}
	if _, err := e.Customer(ctx, outside); ErrorCode(err) != CodeNotFound {
		t.Errorf("customer %s outside the scope: %v, want not_found", outside, err)
	}
	if _, err := e.EvaluateRuleSet(ctx, "lifecycle", 0, time.Time{}, false); ErrorCode(err) != CodeForbidden {
		t.Errorf("scoped evaluation: %v", err)
	}
	if _, err := e.Run(ctx, Query{KPI: "cac"}); ErrorCode(err) != CodeForbidden && ErrorCode(err) != CodeMissingDataset {
		t.Errorf("scoped cac: %v", err)
	}
	sc, err := e.Scorecard(ctx, date("2024-01-01"), date("2024-07-01"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sc.Rows {
		if r.KPI == "cac" {
			t.Error("the scorecard of a scoped key has cac")
		}
	}
}

func TestKeysAuthenticateAndRevoke(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	if e.HasKeys() {
		t.Fatal("a new database has keys")
	}
	if _, err := e.CreateKey(ctx, "x", "root", nil); ErrorCode(err) != CodeInvalidParameter {
		t.Errorf("bad role: %v", err)
	}
	if _, err := e.CreateKey(ctx, "x", RoleReader, Scope{"planet": {"mars"}}); ErrorCode(err) != CodeInvalidParameter {
		t.Errorf("bad scope column: %v", err)
	}
	k, err := e.CreateKey(ctx, "ops", RoleAnalyst, Scope{"region": {"north"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Secret, "ck_"+k.ID+"_") || len(k.Secret) < 50 {
		t.Errorf("secret %q", k.Secret)
	}
	p, ok := e.Authenticate(k.Secret)
	if !ok || p.Role != RoleAnalyst || p.Scope["region"][0] != "north" || p.KeyID != k.ID {
		t.Fatalf("authenticate: %v %+v", ok, p)
	}
	for _, bad := range []string{"", "ck_", k.Secret + "x", strings.Replace(k.Secret, k.ID, "0000000000000000", 1), "Bearer " + k.Secret} {
		if _, ok := e.Authenticate(bad); ok {
			t.Errorf("%q authenticated", bad)
		}
	}
	var stored string
	e.DB().QueryRow("SELECT hash FROM meta_keys WHERE id = ?", k.ID).Scan(&stored)
	if stored == "" || strings.Contains(k.Secret, stored) {
		t.Errorf("stored %q", stored)
	}
	if err := e.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Authenticate(k.Secret); ok {
		t.Error("a revoked key authenticated")
	}
	if e.HasKeys() {
		t.Error("only a revoked key, yet keys")
	}
	if err := e.RevokeKey(ctx, k.ID); ErrorCode(err) != CodeNotFound {
		t.Errorf("revoke twice: %v", err)
	}
}
