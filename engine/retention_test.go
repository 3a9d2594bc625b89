package engine

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeContracts writes customers and yearly contracts that replay a
// survivor table: survivors[t] customers start year t+1, those lost after
// year t do not renew it, and the survivors of the last year are in a
// contract still running at the data's end. Two start cohorts (2010, 2011)
// replay the same table.
func writeContracts(t *testing.T, survivors []int) (customers, contracts string) {
	t.Helper()
	dir := t.TempDir()
	var cu, co strings.Builder
	cu.WriteString("customer_id,signup_date\n")
	co.WriteString("contract_id,customer_id,start_date,end_date,renewed\n")
	k := 0
	for _, start := range []int{2010, 2011} {
		for i := 0; i < survivors[0]; i++ {
			id := fmt.Sprintf("c%d-%d", start, i)
			fmt.Fprintf(&cu, "%s,%d-01-01\n", id, start)
			years := 0 // the contracts of customer i
			for years < len(survivors) && i < survivors[years] {
				years++
			}
			for y := 0; y < years; y++ {
				k++
				renewed := y < years-1
				// The last cohort member's final contract ends after the data's end.
				fmt.Fprintf(&co, "k%d,%s,%d-01-01,%d-12-31,%v\n", k, id, start+y, start+y, renewed)
			}
		}
	}
	customers, contracts = filepath.Join(dir, "customers.csv"), filepath.Join(dir, "contracts.csv")
	if err := os.WriteFile(customers, []byte(cu.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(contracts, []byte(co.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return customers, contracts
}

func TestFitRetention(t *testing.T) {
	ctx := context.Background()
	e := mustOpen(t)
	high := []int{1000, 869, 743, 653, 593, 551, 517, 491}
	fit, err := e.FitRetention(ctx, RetentionRequest{Survivors: high, Discount: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(fit.SBG.Alpha-0.668) > 0.0005 || math.Abs(fit.SBG.Beta-3.806) > 0.0005 || fit.DERL == nil || len(fit.Curve) != 12 {
		t.Fatalf("survivors fit %+v", fit)
	}
	// Contracts, as of the latest start (2018-01-01): the 2010 cohort's 491
	// last survivors ended their 8th contract on 2017-12-31 without renewal
	// (they left after 8 periods); the 2011 cohort's are in their 8th
	// contract, which runs past 2018-01-01: undecided, still active after 7.
	cu, co := writeContracts(t, high)
	mustImport(t, e, "customers", cu)
	mustImport(t, e, "contracts", co)
	fit, err = e.FitRetention(ctx, RetentionRequest{Source: "contracts", Period: "year", ByCohort: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(fit.Cohorts) != 2 || fit.Cohorts[0].Cohort != "2010" || fit.Cohorts[1].Customers != 1000 || fit.AsOf != "2018-01-01" {
		t.Fatalf("cohorts %+v as of %s", fit.Cohorts, fit.AsOf)
	}
	// So the 2011 cohort is exactly the survivor table: the published fit.
	c11 := fit.Cohorts[1].Fit.SBG
	if math.Abs(c11.Alpha-0.668) > 0.0005 || math.Abs(c11.Beta-3.806) > 0.0005 {
		t.Errorf("2011 cohort: alpha %.4f beta %.4f, want 0.668, 3.806", c11.Alpha, c11.Beta)
	}
	for _, c := range []struct {
		req   RetentionRequest
		param string
	}{
		{RetentionRequest{}, "survivors"},
		{RetentionRequest{Survivors: []int{100, 120, 90}}, "survivors"},
		{RetentionRequest{Survivors: []int{0, 0, 0}}, "survivors"},
		{RetentionRequest{Source: "invoices"}, "source"},
		{RetentionRequest{Source: "contracts", Period: "week"}, "period"},
	} {
		_, err := e.FitRetention(ctx, c.req)
		var ee *Error
		if !asError(err, &ee) || ee.Details["parameter"] != c.param || (ee.Code != CodeInvalidModel && ee.Code != CodeInvalidParameter) {
			t.Errorf("%+v: %v", c.req, err)
		}
	}
	// No contracts dataset, or one without renewals: refused, saying so.
	h := handBuilt(t)
	if _, err := h.FitRetention(ctx, RetentionRequest{Source: "contracts"}); ErrorCode(err) != CodeMissingDataset {
		t.Errorf("no contracts: %v", err)
	}
	none := filepath.Join(t.TempDir(), "contracts.csv")
	if err := os.WriteFile(none, []byte("contract_id,customer_id,start_date,end_date,renewed\nk1,c1,2023-01-01,2023-12-31,false\nk2,c2,2023-02-01,2024-01-31,false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustImport(t, h, "contracts", none)
	_, err = h.FitRetention(ctx, RetentionRequest{Source: "contracts"})
	var ee *Error
	if !asError(err, &ee) || ee.Details["parameter"] != "source" || !strings.Contains(ee.Message, "no renewals") {
		t.Errorf("contracts without renewals: %v", err)
	}
}
