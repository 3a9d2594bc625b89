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
	cmd.AddCommand(newRulesCheckCommand(g), newRulesSaveCommand(g), newRulesEvaluateCommand(g), newRulesListCommand(g))
	return cmd
}

func newRulesCheckCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	check := &cobra.Command{
		Use:     "check FILE",
		Short:   "Compile a rule set against the loaded data's features, without saving",
		Example: "  custkpi rules check --db shop.duckdb value_tiers.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDocument(cmd, g, &db, args[0], func(ctx context.Context, b backend, doc []byte) error {
				v, err := b.ValidateRuleSet(ctx, doc)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid; tiers %v; runs in %s\n", args[0], v.Tiers, v.Path)
				return nil
			})
		},
	}
	db.registerExisting(check, "custkpi.duckdb")
	return check
}

func newRulesSaveCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	save := &cobra.Command{
		Use:   "save FILE",
		Short: "Save a rule set as the next version of its name",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDocument(cmd, g, &db, args[0], func(ctx context.Context, b backend, doc []byte) error {
				info, err := b.SaveRuleSet(ctx, "", doc)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "saved %s version %d\n", info.Name, info.Version)
				return nil
			})
		},
	}
	db.register(save, "custkpi.duckdb")
	return save
}

func newRulesEvaluateCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
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
			return g.withBackend(cmd, &db, progress, func(ctx context.Context, b backend) error {
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
	db.registerExisting(evaluate, "custkpi.duckdb")
	return evaluate
}

func newRulesListCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List the rule sets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withBackend(cmd, &db, nil, func(ctx context.Context, b backend) error {
				l, err := b.RuleSets(ctx)
				if err != nil {
					return err
				}
				return printJSON(cmd.OutOrStdout(), l)
			})
		},
	}
	db.registerExisting(list, "custkpi.duckdb")
	return list
}

// withDocument reads a rule set file and runs fn with it and the backend.
func withDocument(cmd *cobra.Command, g *globalFlags, db *dbFlags, path string, fn func(context.Context, backend, []byte) error) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return g.withBackend(cmd, db, nil, func(ctx context.Context, b backend) error { return fn(ctx, b, doc) })
}
