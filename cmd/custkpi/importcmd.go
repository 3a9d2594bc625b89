package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

func newImportCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var req engine.ImportRequest
	var mapping []string
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "import KIND FILE",
		Short: "Import a Parquet or CSV file as a dataset (customers, orders, surveys, tickets, events, acquisition_spend, contracts)",
		Example: "  custkpi import --db shop.duckdb orders ./orders.parquet --map order_date=created_at\n" +
			"  custkpi import --db shop.duckdb orders ./more.csv --mode append --orphans drop --format json",
		Args: cobra.ExactArgs(2),
		// The API's format field is the file's; --format is the output's.
		Annotations: map[string]string{"flag:format": "file-format"},
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Kind, req.Path = args[0], args[1]
			var err error
			if req.Mapping, err = parsePairs("--map", "canonical=source", mapping); err != nil {
				return usage(err)
			}
			progress := g.progress(cmd)
			return g.withBackend(cmd, &db, progress, func(ctx context.Context, b backend) error {
				res, err := b.Import(ctx, req)
				progress.Done()
				if err != nil {
					return err
				}
				return importView(res).write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.register(cmd, "custkpi.duckdb")
	cmd.Flags().StringSliceVar(&mapping, "map", nil, "canonical=source column mapping (repeatable, or comma-separated; spaces around names are ignored)")
	cmd.Flags().StringVar(&req.Mode, "mode", "replace", "replace or append")
	cmd.Flags().StringVar(&req.Orphans, "orphans", "reject", "reject or drop rows whose customer_id is not in customers")
	cmd.Flags().StringVar(&req.Format, "file-format", "", "the file's format, parquet or csv (default: from the extension)")
	cmd.Flags().BoolVar(&req.AllowEmpty, "allow-empty", false, "accept a file without data rows (otherwise refused: it would empty the dataset)")
	format = addFormatFlag(cmd)
	db.registerDateRange(cmd)
	return cmd
}

// importView: a sentence and the warnings for a person; one row per import
// otherwise.
func importView(res *engine.ImportResult) view {
	v := view{
		cols: []string{"kind", "mode", "rows", "total_rows", "source", "checksum", "imported_at", "columns", "warnings"},
		rows: [][]any{{res.Kind, res.Mode, res.Rows, res.TotalRows, res.Source, res.Checksum, res.ImportedAt, res.Columns, strings.Join(res.Warnings, "; ")}},
		doc:  res, noTable: true,
		head: []string{fmt.Sprintf("imported %d %s rows from %s (%s); %s has %d rows", res.Rows, res.Kind, res.Source, res.Mode, res.Kind, res.TotalRows),
			"columns: " + strings.Join(res.Columns, ", ")},
	}
	for _, w := range res.Warnings {
		v.foot = append(v.foot, "warning: "+w)
	}
	return v
}
