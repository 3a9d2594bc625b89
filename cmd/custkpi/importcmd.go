package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

func newImportCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var req engine.ImportRequest
	var mapping []string
	cmd := &cobra.Command{
		Use:   "import KIND FILE",
		Short: "Import a Parquet or CSV file as a dataset (customers, orders, surveys, tickets, events, acquisition_spend, contracts)",
		Example: "  custkpi import --db shop.duckdb orders ./orders.parquet --map order_date=created_at\n" +
			"  custkpi import --db shop.duckdb orders ./more.csv --mode append --orphans drop",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Kind, req.Path = args[0], args[1]
			var err error
			if req.Mapping, err = parsePairs("--map", "canonical=source", mapping); err != nil {
				return err
			}
			progress := g.progress(cmd)
			return g.withBackend(cmd, &db, progress, func(ctx context.Context, b backend) error {
				res, err := b.Import(ctx, req)
				progress.Done()
				if err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), res)
			})
		},
	}
	db.register(cmd, "custkpi.duckdb")
	cmd.Flags().StringSliceVar(&mapping, "map", nil, "canonical=source column mapping (repeatable, or comma-separated; spaces around names are ignored)")
	cmd.Flags().StringVar(&req.Mode, "mode", "replace", "replace or append")
	cmd.Flags().StringVar(&req.Orphans, "orphans", "reject", "reject or drop rows whose customer_id is not in customers")
	cmd.Flags().StringVar(&req.Format, "format", "", "parquet or csv (default: from the extension)")
	cmd.Flags().BoolVar(&req.AllowEmpty, "allow-empty", false, "accept a file without data rows (otherwise refused: it would empty the dataset)")
	db.registerDateRange(cmd)
	return cmd
}

// describeError adds the machine details of a caller-fault error to its
// message, so the CLI shows the same information as the API.
func describeError(err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) && len(ee.Details) > 0 {
		d, _ := json.Marshal(ee.Details)
		return fmt.Errorf("%s [%s] %s", ee.Message, ee.Code, d)
	}
	return err
}

// printJSON is the CLI's JSON output: indented, one value.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
