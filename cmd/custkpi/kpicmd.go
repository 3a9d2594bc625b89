package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"custkpi/api"
	"custkpi/engine"
)

func newKPICommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var window windowFlags
	var grain, by, where string
	var version int
	var params []string
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "kpi NAME",
		Short: "Compute a KPI and print it (the same numbers as GET /v1/kpis/{name}/values); `kpi list` lists the catalog",
		Example: "  custkpi kpi churn_rate --db shop.duckdb --from 2024-01-01 --to 2025-01-01 --grain quarter --by region\n" +
			"  custkpi kpi list --db shop.duckdb",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := engine.Query{KPI: args[0], Version: version, Where: where}
			var err error
			if q.From, q.To, err = window.parse(); err != nil {
				return usage(err)
			}
			if q.Grain, err = engine.ParseGrain(grain); err != nil {
				return usage(err)
			}
			q.By = splitList(by)
			if q.Params, err = parsePairs("--param", "name=value", params); err != nil {
				return usage(err)
			}
			return g.withBackend(cmd, &db, nil, func(ctx context.Context, b backend) error {
				if c, ok := b.(*client); ok && format.value == "csv" {
					// The server's CSV is the CLI's: same encoder, same
					// typed values (see kpiCSV).
					return c.kpiCSV(ctx, q, cmd.OutOrStdout())
				}
				res, err := b.Run(ctx, q)
				if err != nil {
					return err
				}
				return printResult(cmd.OutOrStdout(), res, format.value)
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
	format = addFormatFlag(cmd)
	cmd.AddCommand(newKPIsCommand(g, "list"))
	return cmd
}

func printResult(w io.Writer, res *engine.Result, format string) error {
	return view{
		head: []string{fmt.Sprintf("%s v%d  %s .. %s  grain %s", res.KPI, res.Version, res.From, res.To, res.Grain)},
		cols: res.Columns, rows: res.Rows, doc: res,
	}.write(w, format)
}

// newKPIsCommand lists the catalog: `custkpi kpis`, and `custkpi kpi list`.
func newKPIsCommand(g *globalFlags, use string) *cobra.Command {
	var db dbFlags
	var format *formatFlag
	cmd := &cobra.Command{
		Use:     use,
		Short:   "List the KPI catalog: name, default version, unit, kind, grains, dimensions, parameters, title (the same as GET /v1/kpis)",
		Example: "  custkpi kpis --db shop.duckdb\n  custkpi kpis --db shop.duckdb --format csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withBackend(cmd, &db, nil, func(ctx context.Context, b backend) error {
				list, err := b.KPIs(ctx)
				if err != nil {
					return err
				}
				return catalogView(list).write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.registerExisting(cmd, "custkpi.duckdb")
	format = addFormatFlag(cmd)
	return cmd
}

// catalogView is the catalog: every field in csv, ndjson and json; the
// table keeps what fits a line, with the dimensions of the customers
// (every customers column, age_band, tier:<ruleset>) as "customers".
func catalogView(list []api.KPIInfo) view {
	v := view{
		cols:  []string{"name", "version", "versions", "category", "unit", "kind", "direction", "grains", "dimensions", "params", "requires", "title", "description"},
		tcols: []string{"name", "version", "unit", "kind", "grains", "dimensions", "params", "title"},
		doc:   map[string]any{"kpis": list},
	}
	for _, k := range list {
		params := make([]string, len(k.Params))
		for i, p := range k.Params {
			params[i] = p.Name + "=" + p.Default
		}
		v.rows = append(v.rows, []any{k.Name, k.DefaultVersion, k.Versions, k.Category, k.Unit, k.Kind, k.Direction,
			k.Grains, k.Dimensions, params, k.Requires, k.Title, k.Description})
		grains, dims := "all", "customers"
		if len(k.Grains) == 1 {
			grains = k.Grains[0]
		}
		if !slices.Contains(k.Dimensions, "tier:<ruleset>") {
			dims = strings.Join(k.Dimensions, " ")
		}
		v.trows = append(v.trows, []any{k.Name, k.DefaultVersion, k.Unit, k.Kind, grains, dims, strings.Join(params, " "), k.Title})
	}
	v.head = []string{fmt.Sprintf("%d KPIs; dimensions \"customers\": every customers column, age_band and tier:<ruleset>", len(list))}
	return v
}
