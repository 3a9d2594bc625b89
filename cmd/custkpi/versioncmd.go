package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"custkpi/buildinfo"
	"custkpi/engine"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit it was built from, and the Go and DuckDB versions",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return printVersion(cmd) },
	}
}

// printVersion prints the build (runtime/debug.ReadBuildInfo) and the
// DuckDB library linked in, read from an in-memory database.
func printVersion(cmd *cobra.Command) error {
	b := buildinfo.Read()
	ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
	defer cancel()
	duck, err := engine.DuckDBVersion(ctx)
	if err != nil {
		return err
	}
	revision := b.Revision
	switch {
	case revision == "":
		revision = "unknown (built without VCS stamping)"
	case b.Modified:
		revision += " (with uncommitted changes)"
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "custkpi %s\n", b.Version)
	fmt.Fprintf(w, "  revision:  %s\n", revision)
	if b.Time != "" {
		fmt.Fprintf(w, "  committed: %s\n", b.Time)
	}
	fmt.Fprintf(w, "  go:        %s\n", b.GoVersion)
	fmt.Fprintf(w, "  duckdb:    %s\n", duck)
	return nil
}
