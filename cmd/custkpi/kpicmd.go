package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"custkpi/engine"
	"custkpi/render"
)

func newKPICommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var window windowFlags
	var grain, by, where, format string
	var version int
	var params []string
	cmd := &cobra.Command{
		Use:     "kpi NAME",
		Short:   "Compute a KPI and print it (the same numbers as GET /v1/kpis/{name}/values)",
		Example: "  custkpi kpi churn_rate --db shop.duckdb --from 2024-01-01 --to 2025-01-01 --grain quarter --by region",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := engine.Query{KPI: args[0], Version: version, Where: where}
			var err error
			if q.From, q.To, err = window.parse(); err != nil {
				return err
			}
			if q.Grain, err = engine.ParseGrain(grain); err != nil {
				return err
			}
			q.By = splitList(by)
			if q.Params, err = parsePairs("--param", "name=value", params); err != nil {
				return err
			}
			return g.withBackend(cmd, &db, nil, func(ctx context.Context, b backend) error {
				if c, ok := b.(*client); ok && format == "csv" {
					// The server's CSV is the CLI's: same encoder, same
					// typed values (see kpiCSV).
					return c.kpiCSV(ctx, q, cmd.OutOrStdout())
				}
				res, err := b.Run(ctx, q)
				if err != nil {
					return err
				}
				return printResult(cmd.OutOrStdout(), res, format)
			})
		},
	}
	db.registerExisting(cmd, "custkpi.duckdb")
	window.register(cmd)
	cmd.Flags().StringVar(&grain, "grain", "none", "none, day, week, month, quarter or year")
	cmd.Flags().StringVar(&by, "by", "", "comma-separated dimensions (spaces around each are ignored)")
	cmd.Flags().StringVar(&where, "where", "", "CEL condition on customer features")
	cmd.Flags().IntVar(&version, "version", 0, "KPI version (default: the KPI's default)")
	// StringArray, not StringSlice: a value such as csi's
	// weights=score_a:0.4,score_b:0.6 holds commas and must stay whole.
	cmd.Flags().StringArrayVar(&params, "param", nil, "KPI parameter name=value (repeatable; the value is kept whole, commas included)")
	cmd.Flags().StringVar(&format, "format", "table", "table, csv or json")
	return cmd
}

func printResult(w io.Writer, res *engine.Result, format string) error {
	switch format {
	case "json":
		return printJSON(w, res)
	case "csv":
		return render.WriteCSV(w, res.Columns, res.Rows)
	case "table":
		fmt.Fprintf(w, "%s v%d  %s .. %s  grain %s\n", res.KPI, res.Version, res.From, res.To, res.Grain)
		return writeTable(w, res.Columns, res.Rows)
	}
	return fmt.Errorf("--format %q: want table, csv or json", format)
}

// writeTable prints aligned columns; nulls print as "null".
func writeTable(w io.Writer, cols []string, rows [][]any) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case nil:
				cells[i] = "null"
			case float64:
				// Six decimals are plenty on a terminal; csv and json keep
				// full precision.
				cells[i] = strconv.FormatFloat(math.Round(x*1e6)/1e6, 'f', -1, 64)
			default:
				cells[i] = render.Cell(v)
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}
