package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"custkpi/engine"
	"custkpi/engine/demo"
)

// demoOptions are the flags of `custkpi demo`.
type demoOptions struct {
	customers int
	seed      int64
	dir       string
	keep      bool
	addr      string
	noServe   bool
	web       webFlags
}

func newDemoCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate a demo dataset (every dataset kind), import it and serve the API",
		Long: "Generates a deterministic demo dataset (same --seed, same data) of every dataset kind as Parquet, " +
			"imports it into an embedded DuckDB database and serves the API. Nothing to set up.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.refuseServer(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			log := newLogger(cmd)
			if db.path == "" {
				db.path = filepath.Join(os.TempDir(), fmt.Sprintf("custkpi-demo-%d-%d.duckdb", o.customers, o.seed))
			}
			srv := o.web.server(log, &db) // before the engine opens: its metrics hear the demo's import
			db.warm = true
			eng, err := db.open(ctx, log)
			if err != nil {
				return err
			}
			defer eng.Close()
			if err := loadDemo(ctx, cmd.OutOrStdout(), g.progress(cmd), eng, o); err != nil {
				return err
			}
			if o.noServe {
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "database %s\n", db.path)
			eng.ConfigureAlerts(o.web.alertOptions(o.addr))
			return serveAPI(ctx, cmd.OutOrStdout(), eng, o.addr, srv)
		},
	}
	db.register(cmd, "")
	cmd.Flags().IntVar(&o.customers, "customers", 10000, "number of customers to generate")
	cmd.Flags().Int64Var(&o.seed, "seed", 1, "random seed; the same seed gives the same data")
	cmd.Flags().StringVar(&o.dir, "dir", "", "where to write the Parquet files (default: a temporary directory, removed after import)")
	cmd.Flags().BoolVar(&o.keep, "keep", false, "keep the generated Parquet files")
	cmd.Flags().StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().BoolVar(&o.noServe, "no-serve", false, "generate and import, then exit")
	o.web.register(cmd)
	return cmd
}

// loadDemo generates the demo dataset and imports every kind of it,
// showing its progress on progress.
func loadDemo(ctx context.Context, out io.Writer, progress *progressDisplay, eng *engine.Engine, o demoOptions) error {
	defer progress.Done()
	start := time.Now()
	dir := o.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "custkpi-demo-*")
		if err != nil {
			return err
		}
		dir = tmp
		if !o.keep {
			defer os.RemoveAll(tmp)
		}
	}
	// The generator reports nothing itself; its phase still shows how long
	// it has been running.
	progress.Phase("generating demo data")
	files, err := demo.Generate(ctx, dir, demo.Options{Customers: o.customers, Seed: o.seed})
	if err != nil {
		return err
	}
	generated := time.Since(start)
	var reqs []engine.ImportRequest
	for _, k := range engine.Kinds {
		if p, ok := files[k.Name]; ok {
			reqs = append(reqs, engine.ImportRequest{Kind: k.Name, Path: p})
		}
	}
	res, err := eng.ImportBatch(engine.WithProgress(ctx, progress), reqs)
	progress.Done()
	if err != nil {
		return describeError(err)
	}
	for _, r := range res {
		fmt.Fprintf(out, "imported %-18s %10d rows\n", r.Kind, r.Rows)
	}
	fmt.Fprintf(out, "demo data: %d customers, seed %d: generated in %s, imported in %s\n",
		o.customers, o.seed, generated.Round(time.Millisecond), (time.Since(start) - generated).Round(time.Millisecond))
	return nil
}
