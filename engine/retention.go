package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"custkpi/engine/clv"
)

// RetentionRequest asks for an sBG fit: from a cohort's survivor counts, or
// from the contracts dataset.
type RetentionRequest struct {
	// Survivors are the customers of one cohort active at the start of
	// each period, the first being the cohort's size.
	Survivors []int
	// Source "contracts" reads the contracts dataset instead: a customer's
	// periods are her contracts in start order, cohorts are the month or
	// year (Period) of her first contract.
	Source string
	Period string // month or year (default year)
	// ByCohort fits each start cohort on its own as well as all pooled.
	ByCohort bool
	// AsOf is the day the contracts are known to (default: the latest
	// start_date): a last contract not renewed and ending after it is still
	// undecided.
	AsOf *time.Time
	// Horizon is the number of periods projected after the data (default 5).
	Horizon int
	// Discount per period for DERL (0: no DERL).
	Discount float64
}

// CohortRetention is the fit of one start cohort.
type CohortRetention struct {
	Cohort    string               `json:"cohort"`
	Customers int                  `json:"customers"`
	Fit       *clv.RetentionReport `json:"fit,omitempty"`
	// Error says why this cohort could not be fitted (too short a history,
	// nobody left yet, no convergence).
	Error string `json:"error,omitempty"`
}

// RetentionFit is the answer of FitRetention.
type RetentionFit struct {
	*clv.RetentionReport
	Source  string            `json:"source"`
	Period  string            `json:"period,omitempty"`
	AsOf    string            `json:"as_of,omitempty"`
	Cohorts []CohortRetention `json:"cohorts,omitempty"`
}

// FitRetention fits the shifted-beta-geometric model of contractual
// retention. It stores nothing.
func (e *Engine) FitRetention(ctx context.Context, req RetentionRequest) (*RetentionFit, error) {
	if req.Horizon == 0 {
		req.Horizon = 5
	}
	switch {
	case req.Source == "" && len(req.Survivors) > 0:
		groups, err := clv.SurvivorGroups(req.Survivors)
		if err != nil {
			return nil, retentionError(err, nil)
		}
		rep, err := clv.Retention(groups, req.Horizon, req.Discount, clv.SolverOptions{})
		if err != nil {
			return nil, retentionError(err, rep)
		}
		return &RetentionFit{RetentionReport: rep, Source: "survivors"}, nil
	case req.Source == "contracts":
		if len(req.Survivors) > 0 {
			return nil, invalidParam("survivors", "give either survivors or source \"contracts\", not both")
		}
		return e.contractRetention(ctx, req)
	case req.Source == "":
		return nil, invalidParam("survivors", "give survivors (a cohort's customers active at the start of each period, e.g. [1000, 631, 468]) or source \"contracts\"")
	default:
		return nil, invalidParam("source", "%q is not a source; the one source is \"contracts\"", req.Source)
	}
}

func (e *Engine) contractRetention(ctx context.Context, req RetentionRequest) (*RetentionFit, error) {
	if err := unscoped(ctx); err != nil {
		return nil, err
	}
	if req.Period == "" {
		req.Period = "year"
	}
	if req.Period != "year" && req.Period != "month" {
		return nil, invalidParam("period", "%q is not a cohort period; use month or year", req.Period)
	}
	if e.dataset("contracts") == nil {
		return nil, &Error{Code: CodeMissingDataset, Message: "retention from contracts needs the contracts dataset; import it first, or give survivors",
			Details: map[string]any{"datasets": []string{"contracts"}}}
	}
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	var rows []cohortGroup
	var asOf time.Time
	err := e.read(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var err error
		rows, asOf, err = contractGroups(ctx, conn, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return retentionByCohort(rows, req, asOf)
}

// cohortGroup is a lifetime group within a start cohort.
type cohortGroup struct {
	cohort string
	clv.LifetimeGroup
}

// contractGroups derives lifetime groups from the contracts: a customer's
// periods are her contracts; she left after the last one if it was not
// renewed and ended by as_of, is still undecided in it if it ends later,
// and survived all of them if it was renewed.
func contractGroups(ctx context.Context, conn *sql.Conn, req RetentionRequest) ([]cohortGroup, time.Time, error) {
	var asOf sql.NullTime
	var renewals int64
	if err := conn.QueryRowContext(ctx, "SELECT max(start_date), count(*) FILTER (WHERE renewed) FROM contracts").Scan(&asOf, &renewals); err != nil {
		return nil, time.Time{}, contextErr(ctx, err, "retention: contracts")
	}
	if renewals == 0 {
		return nil, time.Time{}, invalidParam("source", "the contracts dataset has no renewals (renewed is never true), so retention cannot be estimated from it; import contracts with their renewal history, or give survivors")
	}
	at := asOf.Time
	if req.AsOf != nil {
		at = *req.AsOf
	}
	format := "%Y"
	if req.Period == "month" {
		format = "%Y-%m"
	}
	rows, err := conn.QueryContext(ctx, `WITH c AS (
    SELECT customer_id, min(start_date) AS first_start, count(*) AS n,
        arg_max(coalesce(renewed, false), start_date) AS last_renewed, arg_max(end_date, start_date) AS last_end
    FROM contracts WHERE customer_id IS NOT NULL AND start_date <= ? GROUP BY customer_id
)
SELECT strftime(first_start, ?) AS cohort,
    CASE WHEN last_renewed THEN n WHEN last_end > ? THEN n - 1 ELSE n END AS periods,
    NOT last_renewed AND last_end <= ? AS churned, count(*)
FROM c GROUP BY ALL ORDER BY ALL`, at, format, at, at)
	if err != nil {
		return nil, at, contextErr(ctx, err, "retention: contracts")
	}
	defer rows.Close()
	var out []cohortGroup
	for rows.Next() {
		var g cohortGroup
		if err := rows.Scan(&g.cohort, &g.Periods, &g.Churned, &g.Count); err != nil {
			return nil, at, fmt.Errorf("retention: scan: %w", err)
		}
		out = append(out, g)
	}
	return out, at, contextErr(ctx, rows.Err(), "retention: contracts")
}

func retentionByCohort(rows []cohortGroup, req RetentionRequest, asOf time.Time) (*RetentionFit, error) {
	var pooled []clv.LifetimeGroup
	byCohort := map[string][]clv.LifetimeGroup{}
	var order []string
	for _, g := range rows {
		pooled = append(pooled, g.LifetimeGroup)
		if _, ok := byCohort[g.cohort]; !ok {
			order = append(order, g.cohort)
		}
		byCohort[g.cohort] = append(byCohort[g.cohort], g.LifetimeGroup)
	}
	rep, err := clv.Retention(pooled, req.Horizon, req.Discount, clv.SolverOptions{})
	if err != nil {
		return nil, retentionError(err, rep)
	}
	out := &RetentionFit{RetentionReport: rep, Source: "contracts", Period: req.Period, AsOf: asOf.Format(time.DateOnly)}
	if !req.ByCohort {
		return out, nil
	}
	for _, c := range order {
		cr := CohortRetention{Cohort: c}
		for _, g := range byCohort[c] {
			cr.Customers += g.Count
		}
		cr.Fit, err = clv.Retention(byCohort[c], req.Horizon, req.Discount, clv.SolverOptions{})
		if err != nil {
			cr.Fit, cr.Error = nil, err.Error()
		}
		out.Cohorts = append(out.Cohorts, cr)
	}
	return out, nil
}

// retentionError maps the model's errors: bad input to 400 naming the
// field, no convergence to 422 with the diagnostics.
func retentionError(err error, rep *clv.RetentionReport) error {
	var in *clv.InputError
	if errors.As(err, &in) {
		return &Error{Code: CodeInvalidModel, Message: "retention fit: " + in.Message, Details: map[string]any{"parameter": in.Field}, Err: err}
	}
	if errors.Is(err, clv.ErrNotConverged) {
		details := map[string]any{}
		if rep != nil {
			details["sbg"] = rep.SBG
		}
		return &Error{Code: CodeNotConverged, Message: "the retention fit did not converge: " + err.Error(), Details: details, Err: err}
	}
	return err
}
