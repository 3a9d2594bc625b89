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
	var calibrationEnd, holdoutEnd, format string
	req := engine.CLVFitRequest{}
	fit := &cobra.Command{
		Use:     "fit",
		Short:   "Fit the CLV models, store the fit and score every customer",
		Example: "  custkpi clv fit --db shop.duckdb --calibration-end 1997-09-30 --holdout-end 1998-06-30 --unit week",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if req.CalibrationEnd, err = engine.ParseDate("calibration-end", calibrationEnd); err != nil {
				return err
			}
			if holdoutEnd != "" {
				var h time.Time
				if h, err = engine.ParseDate("holdout-end", holdoutEnd); err != nil {
					return err
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
				if format == "json" {
					return printJSON(cmd.OutOrStdout(), f)
				}
				w := cmd.OutOrStdout()
				m, g := f.BGNBD, f.GammaGamma
				fmt.Fprintf(w, "CLV fit %d on %d customers (%s, calibration end %s), %s\n", f.ID, f.Customers, f.Summary.Unit,
					f.Summary.CalibrationEnd.Format(time.DateOnly), f.Timings.Total.Round(time.Millisecond))
				fmt.Fprintf(w, "BG/NBD       r=%.4f alpha=%.4f a=%.4f b=%.4f  LL=%.2f  converged=%v (%d iterations)\n",
					m.R, m.Alpha, m.A, m.B, m.LogLikelihood, m.Converged, m.Iterations)
				fmt.Fprintf(w, "Gamma-Gamma  p=%.4f q=%.4f gamma=%.4f  LL=%.2f  converged=%v\n", g.P, g.Q, g.Gamma, g.LogLikelihood, g.Converged)
				if h := f.Holdout; h != nil {
					fmt.Fprintf(w, "holdout      actual %d, expected %.1f (%.1f%%), per-customer MAE %.3f\n", h.ActualTotal, h.ExpectedTotal, h.TotalErrorPct, h.CustomerMAE)
				}
				fmt.Fprintf(w, "scored %d customers: p_alive, expected_purchases_90d, clv_12m\n", f.Scored)
				return nil
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
	fit.Flags().StringVar(&format, "format", "table", "table or json")
	fit.MarkFlagRequired("calibration-end")
	cmd.AddCommand(fit)
	return cmd
}
