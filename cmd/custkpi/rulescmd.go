package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

func newRulesCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Check, save and evaluate CEL tier rule sets",
	}
	// One set of database flags each: save may create the database, the
	// others only read it.
	var checkDB, saveDB, evaluateDB, listDB dbFlags
	check := &cobra.Command{
		Use:     "check FILE",
		Short:   "Compile a rule set against the loaded data's features, without saving",
		Example: "  custkpi rules check --db shop.duckdb value_tiers.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDocument(cmd, g, &checkDB, args[0], func(ctx context.Context, b backend, doc []byte) error {
				v, err := b.ValidateRuleSet(ctx, doc)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid; tiers %v; runs in %s\n", args[0], v.Tiers, v.Path)
				return nil
			})
		},
	}
	save := &cobra.Command{
		Use:   "save FILE",
		Short: "Save a rule set as the next version of its name",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDocument(cmd, g, &saveDB, args[0], func(ctx context.Context, b backend, doc []byte) error {
				info, err := b.SaveRuleSet(ctx, "", doc)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "saved %s version %d\n", info.Name, info.Version)
				return nil
			})
		},
	}
	var version int
	var asOf string
	var forceGo bool
	evaluate := &cobra.Command{
		Use:   "evaluate NAME",
		Short: "Assign every customer a tier and print the distribution",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var at time.Time
			if asOf != "" {
				var err error
				if at, err = engine.ParseDate("as_of", asOf); err != nil {
					return err
				}
			}
			progress := g.progress(cmd)
			return g.withBackend(cmd, &evaluateDB, progress, func(ctx context.Context, b backend) error {
				ev, err := b.EvaluateRuleSet(ctx, args[0], version, at, forceGo)
				progress.Done()
				if err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), ev)
			})
		},
	}
	evaluate.Flags().IntVar(&version, "version", 0, "version (default: latest)")
	evaluate.Flags().StringVar(&asOf, "as-of", "", "as-of date (default: the day after the latest order)")
	evaluate.Flags().BoolVar(&forceGo, "go", false, "evaluate in Go instead of SQL (for comparison)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the rule sets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withBackend(cmd, &listDB, nil, func(ctx context.Context, b backend) error {
				l, err := b.RuleSets(ctx)
				if err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), l)
			})
		},
	}
	checkDB.registerExisting(check, "custkpi.duckdb")
	saveDB.register(save, "custkpi.duckdb")
	evaluateDB.registerExisting(evaluate, "custkpi.duckdb")
	listDB.registerExisting(list, "custkpi.duckdb")
	cmd.AddCommand(check, save, evaluate, list)
	return cmd
}

// withDocument reads a rule set file and runs fn with it and the backend.
func withDocument(cmd *cobra.Command, g *globalFlags, db *dbFlags, path string, fn func(context.Context, backend, []byte) error) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return g.withBackend(cmd, db, nil, func(ctx context.Context, b backend) error { return fn(ctx, b, doc) })
}
