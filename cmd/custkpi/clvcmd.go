package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/spf13/cobra"

	"custkpi/engine"
	"custkpi/engine/clv"
)

func newCLVCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "clv", Short: "Probabilistic CLV: fit BG/NBD and Gamma-Gamma on the imported orders"}
	var db dbFlags
	var calibrationEnd, holdoutEnd string
	var format *formatFlag
	req := engine.CLVFitRequest{}
	fit := &cobra.Command{
		Use:   "fit",
		Short: "Fit the CLV models, store the fit and score every customer",
		Example: "  custkpi clv fit --db shop.duckdb --calibration-end 1997-09-30 --holdout-end 1998-06-30 --unit week\n" +
			"  custkpi clv fit --db shop.duckdb --calibration-end 1997-09-30 --model pareto_nbd\n" +
			"  custkpi clv fit --db shop.duckdb --calibration-end 1997-09-30 --model bgbb --period-days 28 --periods 9",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if req.CalibrationEnd, err = engine.ParseDate("calibration_end", calibrationEnd); err != nil {
				return usage(err)
			}
			if holdoutEnd != "" {
				var h time.Time
				if h, err = engine.ParseDate("holdout_end", holdoutEnd); err != nil {
					return usage(err)
				}
				req.HoldoutEnd = &h
			}
			progress := g.progress(cmd)
			return g.withBackend(cmd, &db, progress, func(ctx context.Context, b backend) error {
				f, err := b.FitCLV(ctx, req)
				progress.Done()
				if err != nil {
					return err
				}
				return fitView(f).write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.register(fit, "custkpi.duckdb")
	fit.Flags().StringVar(&calibrationEnd, "calibration-end", "", "last day of the calibration period (YYYY-MM-DD, inclusive)")
	fit.Flags().StringVar(&holdoutEnd, "holdout-end", "", "last day of a holdout period to validate on (YYYY-MM-DD)")
	fit.Flags().StringVar(&req.Unit, "unit", "week", "time unit: day, week or month")
	fit.Flags().Float64Var(&req.Margin, "margin", 0, "share of revenue kept (0: 1, CLV in revenue)")
	fit.Flags().Float64Var(&req.MonthlyDiscount, "discount", 0, "monthly discount rate")
	fit.Flags().IntVar(&req.HorizonMonths, "horizon", 12, "CLV horizon in months")
	fit.Flags().StringVar(&req.Model, "model", "bgnbd", "purchase-count model: bgnbd, pareto_nbd, mbgnbd or bgbb")
	fit.Flags().IntVar(&req.PeriodDays, "period-days", 0, "bgbb: length of a period in days")
	fit.Flags().IntVar(&req.Periods, "periods", 0, "bgbb: number of periods after the first purchase to count")
	format = addFormatFlag(fit)
	fit.MarkFlagRequired("calibration-end")
	cmd.AddCommand(fit, newCLVCompareCommand(g))
	return cmd
}

func newCLVCompareCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var calibrationEnd, holdoutEnd string
	var format *formatFlag
	req := engine.CLVCompareRequest{}
	cmd := &cobra.Command{
		Use:     "compare",
		Short:   "Fit BG/NBD, Pareto/NBD, MBG/NBD and NBD on one calibration period and rank them on the holdout",
		Example: "  custkpi clv compare --db shop.duckdb --calibration-end 1997-09-30 --holdout-end 1998-06-30",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if req.CalibrationEnd, err = engine.ParseDate("calibration_end", calibrationEnd); err != nil {
				return usage(err)
			}
			h, err := engine.ParseDate("holdout_end", holdoutEnd)
			if err != nil {
				return usage(err)
			}
			req.HoldoutEnd = &h
			progress := g.progress(cmd)
			return g.withBackend(cmd, &db, progress, func(ctx context.Context, b backend) error {
				c, err := b.CompareCLV(ctx, req)
				progress.Done()
				if err != nil {
					return err
				}
				return compareView(c).write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.register(cmd, "custkpi.duckdb")
	cmd.Flags().StringVar(&calibrationEnd, "calibration-end", "", "last day of the calibration period (YYYY-MM-DD, inclusive)")
	cmd.Flags().StringVar(&holdoutEnd, "holdout-end", "", "last day of the holdout period the models are ranked on (YYYY-MM-DD)")
	cmd.Flags().StringVar(&req.Unit, "unit", "week", "time unit: day, week or month")
	cmd.Flags().StringSliceVar(&req.Models, "models", nil, "models to compare (default bgnbd,pareto_nbd,mbgnbd,nbd)")
	format = addFormatFlag(cmd)
	cmd.MarkFlagRequired("calibration-end")
	cmd.MarkFlagRequired("holdout-end")
	return cmd
}

// compareView: the ranking, one model a row, best first.
func compareView(c *clv.Comparison) view {
	v := view{doc: c,
		cols: []string{"rank", "model", "log_likelihood", "bic", "expected_holdout", "actual_holdout", "total_error_pct", "customer_mae", "customer_rmse"},
		head: []string{fmt.Sprintf("%d customers, calibration to %s, holdout to %s (%d repeat transactions); ranked by per-customer holdout MAE",
			c.Summary.Customers, c.Summary.CalibrationEnd.Format(time.DateOnly), c.Summary.HoldoutEnd.Format(time.DateOnly), c.Summary.HoldoutRepeats)}}
	for _, m := range c.Models {
		v.rows = append(v.rows, []any{m.Rank, m.Model, round(m.LogLikelihood, 2), round(m.BIC, 2), round(m.ExpectedTotal, 1), c.Summary.HoldoutRepeats,
			round(m.TotalErrorPct, 1), round(m.CustomerMAE, 4), round(m.CustomerRMSE, 4)})
	}
	for _, f := range c.Failed {
		v.foot = append(v.foot, "not converged: "+f.Model+": "+f.Error)
	}
	return v
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// fitView: the fit as a person reads it; its main figures as one row.
func fitView(f *engine.CLVFit) view {
	g := f.GammaGamma
	name, params, ll, conv := countModelLine(f.FitResult)
	v := view{doc: f, noTable: true,
		cols: []string{"id", "customers", "unit", "calibration_end", "model", "parameters", "log_likelihood", "converged",
			"p", "q", "gamma", "gamma_gamma_log_likelihood", "gamma_gamma_converged", "holdout_actual", "holdout_expected", "scored"},
		head: []string{
			fmt.Sprintf("CLV fit %d on %d customers (%s, calibration end %s), %s", f.ID, f.Customers, f.Summary.Unit,
				f.Summary.CalibrationEnd.Format(time.DateOnly), f.Timings.Total.Round(time.Millisecond)),
			fmt.Sprintf("%-12s %s  LL=%.2f  converged=%v (%d iterations)", name, params, ll, conv.Converged, conv.Iterations),
			fmt.Sprintf("Gamma-Gamma  p=%.4f q=%.4f gamma=%.4f  LL=%.2f  converged=%v", g.P, g.Q, g.Gamma, g.LogLikelihood, g.Converged),
		}}
	var actual, expected any
	if h := f.Holdout; h != nil {
		actual, expected = h.ActualTotal, h.ExpectedTotal
		v.head = append(v.head, fmt.Sprintf("holdout      actual %d, expected %.1f (%.1f%%), per-customer MAE %.3f", h.ActualTotal, h.ExpectedTotal, h.TotalErrorPct, h.CustomerMAE))
	}
	v.head = append(v.head, fmt.Sprintf("scored %d customers: p_alive, expected_purchases_90d, clv_12m", f.Scored))
	v.rows = [][]any{{f.ID, f.Customers, f.Summary.Unit, f.Summary.CalibrationEnd.Format(time.DateOnly), f.Options.Model, params, ll, conv.Converged,
		g.P, g.Q, g.Gamma, g.LogLikelihood, g.Converged, actual, expected, f.Scored}}
	return v
}

// countModelLine names the fitted purchase-count model and formats its
// parameters.
func countModelLine(r *clv.FitResult) (name, params string, ll float64, conv clv.Convergence) {
	switch {
	case r.ParetoNBD != nil:
		m := r.ParetoNBD
		return "Pareto/NBD", fmt.Sprintf("r=%.4f alpha=%.4f s=%.4f beta=%.4f", m.R, m.Alpha, m.S, m.Beta), m.LogLikelihood, m.Convergence
	case r.MBGNBD != nil:
		m := r.MBGNBD
		return "MBG/NBD", fmt.Sprintf("r=%.4f alpha=%.4f a=%.4f b=%.4f", m.R, m.Alpha, m.A, m.B), m.LogLikelihood, m.Convergence
	case r.BGBB != nil:
		m := r.BGBB
		return "BG/BB", fmt.Sprintf("alpha=%.4f beta=%.4f gamma=%.4f delta=%.4f", m.Alpha, m.Beta, m.Gamma, m.Delta), m.LogLikelihood, m.Convergence
	case r.BGNBD != nil:
		m := r.BGNBD
		return "BG/NBD", fmt.Sprintf("r=%.4f alpha=%.4f a=%.4f b=%.4f", m.R, m.Alpha, m.A, m.B), m.LogLikelihood, m.Convergence
	}
	return "", "", 0, clv.Convergence{}
}
