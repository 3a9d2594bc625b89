package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

func newCLVCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "clv", Short: "Probabilistic CLV: fit BG/NBD and Gamma-Gamma on the imported orders"}
	var db dbFlags
	var calibrationEnd, holdoutEnd string
	var format *formatFlag
	req := engine.CLVFitRequest{}
	fit := &cobra.Command{
		Use:     "fit",
		Short:   "Fit the CLV models, store the fit and score every customer",
		Example: "  custkpi clv fit --db shop.duckdb --calibration-end 1997-09-30 --holdout-end 1998-06-30 --unit week",
		Args:    cobra.NoArgs,
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
	format = addFormatFlag(fit)
	fit.MarkFlagRequired("calibration-end")
	cmd.AddCommand(fit)
	return cmd
}

// fitView: the fit as a person reads it; its main figures as one row.
func fitView(f *engine.CLVFit) view {
	m, g := f.BGNBD, f.GammaGamma
	v := view{doc: f, noTable: true,
		cols: []string{"id", "customers", "unit", "calibration_end", "r", "alpha", "a", "b", "bgnbd_log_likelihood", "bgnbd_converged",
			"p", "q", "gamma", "gamma_gamma_log_likelihood", "gamma_gamma_converged", "holdout_actual", "holdout_expected", "scored"},
		head: []string{
			fmt.Sprintf("CLV fit %d on %d customers (%s, calibration end %s), %s", f.ID, f.Customers, f.Summary.Unit,
				f.Summary.CalibrationEnd.Format(time.DateOnly), f.Timings.Total.Round(time.Millisecond)),
			fmt.Sprintf("BG/NBD       r=%.4f alpha=%.4f a=%.4f b=%.4f  LL=%.2f  converged=%v (%d iterations)",
				m.R, m.Alpha, m.A, m.B, m.LogLikelihood, m.Converged, m.Iterations),
			fmt.Sprintf("Gamma-Gamma  p=%.4f q=%.4f gamma=%.4f  LL=%.2f  converged=%v", g.P, g.Q, g.Gamma, g.LogLikelihood, g.Converged),
		}}
	var actual, expected any
	if h := f.Holdout; h != nil {
		actual, expected = h.ActualTotal, h.ExpectedTotal
		v.head = append(v.head, fmt.Sprintf("holdout      actual %d, expected %.1f (%.1f%%), per-customer MAE %.3f", h.ActualTotal, h.ExpectedTotal, h.TotalErrorPct, h.CustomerMAE))
	}
	v.head = append(v.head, fmt.Sprintf("scored %d customers: p_alive, expected_purchases_90d, clv_12m", f.Scored))
	v.rows = [][]any{{f.ID, f.Customers, f.Summary.Unit, f.Summary.CalibrationEnd.Format(time.DateOnly), m.R, m.Alpha, m.A, m.B, m.LogLikelihood, m.Converged,
		g.P, g.Q, g.Gamma, g.LogLikelihood, g.Converged, actual, expected, f.Scored}}
	return v
}
