package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

// dbFlags are the flags of every command that opens a database.
type dbFlags struct {
	path    string
	timeout time.Duration
	threads int
}

func (f *dbFlags) register(cmd *cobra.Command, defaultPath string) {
	cmd.Flags().StringVar(&f.path, "db", defaultPath, "DuckDB database file (created when absent; '' or :memory: for in-memory)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 60*time.Second, "bound on every query; a query past it is interrupted inside DuckDB")
	cmd.Flags().IntVar(&f.threads, "threads", 0, "DuckDB threads (0: one per core)")
}

func (f *dbFlags) open(ctx context.Context, log *slog.Logger) (*engine.Engine, error) {
	return engine.Open(ctx, engine.Options{Path: f.path, QueryTimeout: f.timeout, Threads: f.threads, Logger: log})
}

func newLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "custkpi",
		Short:         "Customer KPIs computed in embedded DuckDB, served over a JSON API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newDemoCommand(), newImportCommand(), newKPICommand(), newScorecardCommand(), newRulesCommand(), newCLVCommand())
	return root
}
