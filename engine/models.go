package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"custkpi/engine/clv"
)

// CLVFitRequest asks for a CLV fit on the imported orders.
type CLVFitRequest struct {
	CalibrationEnd  time.Time
	HoldoutEnd      *time.Time
	Unit            string  // day, week (default), month
	Margin          float64 // share of revenue kept, (0, 1]; 0: 1
	MonthlyDiscount float64 // [0, 1)
	HorizonMonths   int     // default 12
	// Model is bgnbd (default), pareto_nbd, mbgnbd or bgbb; BG/BB needs
	// PeriodDays and Periods.
	Model      string
	PeriodDays int
	Periods    int
}

// CLVFit is a stored fit: the models, how they were fitted, and on what.
type CLVFit struct {
	ID          int64     `json:"id"`
	Model       string    `json:"model"`
	FittedAt    time.Time `json:"fitted_at" format:"date-time"`
	Fingerprint string    `json:"fingerprint"`
	Customers   int       `json:"customers"`
	Scored      int64     `json:"scored"`
	// The fit itself, flattened into the answer: options, summary, bgnbd,
	// gamma_gamma, holdout, tracking, timings (API.md's shape).
	*clv.FitResult
}

// modelKind is the pseudo-dataset a fitted model registers, so that KPIs on
// model scores can require it and cached answers change with a new fit.
const modelKind = "model:clv"

// FitCLV fits BG/NBD and Gamma-Gamma on the completed orders (summaries in
// DuckDB, likelihoods in Go), stores the fit, writes every customer's
// p_alive, expected_purchases_90d and clv_12m, and rebuilds the features so
// rules and the customer view see them. A fit that does not converge is
// refused with its diagnostics; nothing is scored from it.
func (e *Engine) FitCLV(ctx context.Context, req CLVFitRequest) (*CLVFit, error) {
	if err := unscoped(ctx); err != nil {
		return nil, err
	}
	if e.dataset("orders") == nil {
		return nil, &Error{Code: CodeMissingDataset, Message: "the CLV model is fitted on orders; import orders first",
			Details: map[string]any{"datasets": []string{"orders"}}}
	}
	if err := fitDatesInData(req, e.snap().dataEnd); err != nil {
		return nil, err
	}
	if req.Unit == "" {
		req.Unit = clv.UnitWeek
	}
	opts := clv.FitOptions{OrdersRelation: "orders", CalibrationEnd: req.CalibrationEnd, HoldoutEnd: req.HoldoutEnd, Unit: req.Unit,
		Margin: req.Margin, MonthlyDiscount: req.MonthlyDiscount, HorizonMonths: req.HorizonMonths,
		Model: req.Model, PeriodDays: req.PeriodDays, Periods: req.Periods}
	ctx, cancel := e.withJobTimeout(ctx)
	defer cancel()
	var fit *CLVFit
	// The fit reads the orders inside the write, so the data it scores is the
	// data it was fitted on; scores, features and the fit record commit
	// together or not at all.
	_, err := e.write(ctx, "clv fit", true, func(ctx context.Context, conn *sql.Conn, gen int64) error {
		progressOf(ctx).Phase("fitting")
		res, err := clv.Fit(ctx, conn, opts)
		if err != nil {
			return modelError(ctx, err, res)
		}
		progressOf(ctx).Phase("scoring")
		scored, err := clv.WriteScores(ctx, conn, res, clv.ScoreOptions{Table: "clv_scores"})
		if err != nil {
			return modelError(ctx, err, res)
		}
		fit = &CLVFit{Model: res.Options.Model + "+gamma_gamma", FittedAt: time.Now().UTC().Truncate(time.Microsecond),
			Fingerprint: fingerprintOf(e.snap(), "orders"), Customers: res.Summary.Customers, Scored: scored, FitResult: res}
		return recordFit(ctx, conn, gen, fit)
	})
	if err != nil {
		return nil, err
	}
	return fit, nil
}

// fitDatesInData refuses a calibration or holdout end after the end of the
// data (the day after the latest order): a model cannot be calibrated or
// checked on days without data, and such a date (9999-12-31) makes every
// customer's age and the tracking curve as long as the date is far.
func fitDatesInData(req CLVFitRequest, dataEnd time.Time) error {
	check := func(param string, t time.Time) error {
		if t.After(dataEnd) {
			return &Error{Code: CodeInvalidModel, Details: map[string]any{"parameter": param, "data_end": dataEnd.Format(time.DateOnly)},
				Message: fmt.Sprintf("clv fit: %s %s is after the end of the data (%s, the day after the latest order); choose a date within the data",
					param, t.Format(time.DateOnly), dataEnd.Format(time.DateOnly))}
		}
		return nil
	}
	if err := check("calibration_end", req.CalibrationEnd); err != nil {
		return err
	}
	if req.HoldoutEnd != nil {
		return check("holdout_end", *req.HoldoutEnd)
	}
	return nil
}

// recordFit stores a fit with the generation that wrote its scores.
func recordFit(ctx context.Context, conn *sql.Conn, gen int64, fit *CLVFit) error {
	doc, err := json.Marshal(fit)
	if err != nil {
		return fmt.Errorf("clv fit: encode: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `INSERT INTO meta_model_fits (model, fitted_at, fingerprint, result, generation, scored)
		VALUES ('clv', ?, ?, ?, ?, ?) RETURNING id`, fit.FittedAt, fit.Fingerprint, string(doc), gen, fit.Scored).Scan(&fit.ID); err != nil {
		return contextErr(ctx, err, "clv fit: store")
	}
	return nil
}

// modelError turns the model's input errors into caller faults naming the
// field, and a fit that did not converge into its own code with the
// diagnostics (never silent garbage).
func modelError(ctx context.Context, err error, res *clv.FitResult) error {
	var in *clv.InputError
	if errors.As(err, &in) {
		return &Error{Code: CodeInvalidModel, Message: "clv fit: " + in.Error(), Details: map[string]any{"parameter": in.Field}, Err: err}
	}
	if errors.Is(err, clv.ErrNotConverged) {
		details := map[string]any{}
		if res != nil {
			details["model"], details["gamma_gamma"] = res.Options.Model, res.GammaGamma
			switch {
			case res.BGNBD != nil:
				details["bgnbd"] = res.BGNBD
			case res.ParetoNBD != nil:
				details["pareto_nbd"] = res.ParetoNBD
			case res.MBGNBD != nil:
				details["mbgnbd"] = res.MBGNBD
			case res.BGBB != nil:
				details["bgbb"] = res.BGBB
			}
		}
		return &Error{Code: CodeNotConverged, Message: "the CLV fit did not converge: " + err.Error() +
			"; try another calibration_end or unit, or more data", Details: details, Err: err}
	}
	return contextErr(ctx, err, "clv fit")
}

// LastCLVFit returns the last stored CLV fit.
func (e *Engine) LastCLVFit(ctx context.Context) (*CLVFit, error) {
	var doc string
	var id int64
	err := e.db.QueryRowContext(ctx, "SELECT id, CAST(result AS VARCHAR) FROM meta_model_fits WHERE model = 'clv' ORDER BY id DESC LIMIT 1").Scan(&id, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &Error{Code: CodeNotFound, Message: "no CLV model has been fitted yet; fit one first"}
	}
	if err != nil {
		return nil, fmt.Errorf("clv model: %w", err)
	}
	fit := &CLVFit{}
	if err := json.Unmarshal([]byte(doc), fit); err != nil {
		return nil, fmt.Errorf("clv model: decode: %w", err)
	}
	fit.ID = id
	return fit, nil
}

// fingerprintOf identifies the current data of the given kinds.
func fingerprintOf(s *snapshot, kinds ...string) string {
	out := ""
	for _, k := range kinds {
		var gen int64
		if d := s.datasets[k]; d != nil {
			gen = d.Generation
		}
		out += fmt.Sprintf("%s:%d;", k, gen)
	}
	return out
}

// CLVCompareRequest asks to compare purchase-count models on a holdout.
type CLVCompareRequest struct {
	CalibrationEnd time.Time
	HoldoutEnd     *time.Time
	Unit           string
	Models         []string // default bgnbd, pareto_nbd, mbgnbd, nbd
}

// CompareCLV fits several purchase-count models on the same calibration
// period and ranks them on the holdout. It reads only: nothing is stored or
// scored.
func (e *Engine) CompareCLV(ctx context.Context, req CLVCompareRequest) (*clv.Comparison, error) {
	if err := unscoped(ctx); err != nil {
		return nil, err
	}
	if e.dataset("orders") == nil {
		return nil, &Error{Code: CodeMissingDataset, Message: "the models are fitted on orders; import orders first",
			Details: map[string]any{"datasets": []string{"orders"}}}
	}
	if err := fitDatesInData(CLVFitRequest{CalibrationEnd: req.CalibrationEnd, HoldoutEnd: req.HoldoutEnd}, e.snap().dataEnd); err != nil {
		return nil, err
	}
	ctx, cancel := e.withJobTimeout(ctx)
	defer cancel()
	var out *clv.Comparison
	err := e.read(ctx, func(ctx context.Context, conn *sql.Conn) error {
		progressOf(ctx).Phase("fitting")
		c, err := clv.Compare(ctx, conn, clv.CompareOptions{OrdersRelation: "orders", CalibrationEnd: req.CalibrationEnd, HoldoutEnd: req.HoldoutEnd,
			Unit: req.Unit, Models: req.Models})
		if err != nil {
			return compareError(ctx, err, c)
		}
		out = c
		return nil
	})
	return out, err
}

func compareError(ctx context.Context, err error, c *clv.Comparison) error {
	if errors.Is(err, clv.ErrNotConverged) {
		details := map[string]any{}
		if c != nil {
			details["failed"] = c.Failed
		}
		return &Error{Code: CodeNotConverged, Message: "no model converged on this calibration period; try another calibration_end or unit, or more data",
			Details: details, Err: err}
	}
	return modelError(ctx, err, nil)
}

// PAliveMatrix evaluates the last CLV fit's P(alive) and expected purchases
// on a frequency × recency grid.
func (e *Engine) PAliveMatrix(ctx context.Context, o clv.MatrixOptions) (*clv.AliveMatrix, error) {
	fit, err := e.LastCLVFit(ctx)
	if err != nil {
		return nil, err
	}
	m, err := fit.Matrix(o)
	if err != nil {
		var in *clv.InputError
		if errors.As(err, &in) {
			return nil, invalidParam(in.Field, "%s", in.Message)
		}
		return nil, err
	}
	return m, nil
}
