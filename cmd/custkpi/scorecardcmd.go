package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

func newScorecardCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var window windowFlags
	var format *formatFlag
	cmd := &cobra.Command{
		Use:     "scorecard",
		Short:   "Print every KPI against its target and the previous window (the same as GET /v1/scorecard)",
		Example: "  custkpi scorecard --db shop.duckdb --from 2024-01-01 --to 2025-01-01",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := window.parse()
			if err != nil {
				return usage(err)
			}
			return g.withBackend(cmd, &db, nil, func(ctx context.Context, b backend) error {
				sc, err := b.Scorecard(ctx, from, to)
				if err != nil {
					return err
				}
				return printScorecard(cmd.OutOrStdout(), sc, format.value)
			})
		},
	}
	db.registerExisting(cmd, "custkpi.duckdb")
	window.register(cmd)
	format = addFormatFlag(cmd)
	return cmd
}

// statusMark makes the status visible at a glance in a terminal table.
var statusMark = map[string]string{"ok": "✔ ok", "warn": "▲ warn", "alert": "✖ alert"}

func printScorecard(w io.Writer, sc *engine.Scorecard, format string) error {
	cols := []string{"kpi", "scope", "unit", "value", "previous", "change", "change_pct", "target", "status"}
	var rows [][]any
	for _, r := range sc.Rows {
		scope := scopeText(r.By)
		status := any(nil)
		if r.Status != nil {
			status = *r.Status
			if format == "table" {
				status = statusMark[*r.Status]
			}
		}
		rows = append(rows, []any{r.KPI, scope, r.Unit, deref(r.Value), deref(r.Previous), deref(r.Change), deref(r.ChangePct), deref(r.Target), status})
	}
	v := view{cols: cols, rows: rows, doc: sc,
		head: []string{fmt.Sprintf("scorecard %s .. %s (previous window from %s), %.0f ms", sc.From, sc.To, sc.PreviousFrom, sc.Elapsed)}}
	for _, s := range sc.Skipped {
		v.foot = append(v.foot, fmt.Sprintf("skipped %s: %s", s.KPI, s.Reason))
	}
	return v.write(w, format)
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// scopeText is a scoped target's dimensions, "region=north segment=b2b ",
// in name order: a map's own order changes from run to run.
func scopeText(by map[string]string) string {
	names := make([]string, 0, len(by))
	for k := range by {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k + "=" + by[k] + " ")
	}
	return b.String()
}
