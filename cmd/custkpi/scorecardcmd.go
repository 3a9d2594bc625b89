package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"custkpi/engine"
	"custkpi/render"
)

func newScorecardCommand() *cobra.Command {
	var db dbFlags
	var window windowFlags
	var format string
	cmd := &cobra.Command{
		Use:     "scorecard",
		Short:   "Print every KPI against its target and the previous window (the same as GET /v1/scorecard)",
		Example: "  custkpi scorecard --db shop.duckdb --from 2024-01-01 --to 2025-01-01",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := window.parse()
			if err != nil {
				return err
			}
			return db.withEngine(cmd, func(eng *engine.Engine) error {
				sc, err := eng.Scorecard(cmd.Context(), from, to)
				if err != nil {
					return err
				}
				return printScorecard(cmd.OutOrStdout(), sc, format)
			})
		},
	}
	db.registerExisting(cmd, "custkpi.duckdb")
	window.register(cmd)
	cmd.Flags().StringVar(&format, "format", "table", "table, csv or json")
	return cmd
}

// statusMark makes the status visible at a glance in a terminal table.
var statusMark = map[string]string{"ok": "✔ ok", "warn": "▲ warn", "alert": "✖ alert"}

func printScorecard(w io.Writer, sc *engine.Scorecard, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sc)
	}
	cols := []string{"kpi", "scope", "unit", "value", "previous", "change", "change_pct", "target", "status"}
	var rows [][]any
	for _, r := range sc.Rows {
		scope := ""
		for k, v := range r.By {
			scope += k + "=" + v + " "
		}
		status := any(nil)
		if r.Status != nil {
			status = *r.Status
			if format == "table" {
				status = statusMark[*r.Status]
			}
		}
		rows = append(rows, []any{r.KPI, scope, r.Unit, deref(r.Value), deref(r.Previous), deref(r.Change), deref(r.ChangePct), deref(r.Target), status})
	}
	switch format {
	case "csv":
		return render.WriteCSV(w, cols, rows)
	case "table":
		fmt.Fprintf(w, "scorecard %s .. %s (previous window from %s), %.0f ms\n", sc.From, sc.To, sc.PreviousFrom, sc.Elapsed)
		if err := writeTable(w, cols, rows); err != nil {
			return err
		}
		for _, s := range sc.Skipped {
			fmt.Fprintf(w, "skipped %s: %s\n", s.KPI, s.Reason)
		}
		return nil
	}
	return fmt.Errorf("--format %q: want table, csv or json", format)
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
