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
	var format *formatFlag
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
				return view{
					head: []string{fmt.Sprintf("%s: valid; tiers %v; runs in %s", args[0], v.Tiers, v.Path)},
					cols: []string{"name", "tiers", "path", "fallback_reason"}, rows: [][]any{{v.Name, v.Tiers, v.Path, v.Fallback}},
					doc: v, noTable: true,
				}.write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.registerExisting(check, "custkpi.duckdb")
	format = addFormatFlag(check)
	return check
}

func newRulesSaveCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var format *formatFlag
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
				return view{
					head: []string{fmt.Sprintf("saved %s version %d", info.Name, info.Version)},
					cols: []string{"name", "version"}, rows: [][]any{{info.Name, info.Version}},
					doc: info, noTable: true,
				}.write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.register(save, "custkpi.duckdb")
	format = addFormatFlag(save)
	return save
}

func newRulesEvaluateCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var version int
	var asOf string
	var forceGo bool
	var format *formatFlag
	evaluate := &cobra.Command{
		Use:   "evaluate NAME",
		Short: "Assign every customer a tier and print the distribution",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var at time.Time
			if asOf != "" {
				var err error
				if at, err = engine.ParseDate("as_of", asOf); err != nil {
					return usage(err)
				}
			}
			progress := g.progress(cmd)
			return g.withBackend(cmd, &db, progress, func(ctx context.Context, b backend) error {
				ev, err := b.EvaluateRuleSet(ctx, args[0], version, at, forceGo)
				progress.Done()
				if err != nil {
					return err
				}
				return evaluationView(ev).write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	format = addFormatFlag(evaluate)
	evaluate.Flags().IntVar(&version, "version", 0, "version (default: latest)")
	evaluate.Flags().StringVar(&asOf, "as-of", "", "as-of date (default: the day after the latest order)")
	evaluate.Flags().BoolVar(&forceGo, "go", false, "evaluate in Go instead of SQL (for comparison)")
	db.registerExisting(evaluate, "custkpi.duckdb")
	return evaluate
}

func newRulesListCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var format *formatFlag
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
				v := view{cols: []string{"name", "version", "latest_version", "versions", "builtin", "created_at", "description"},
					doc: l}
				for _, r := range l {
					v.rows = append(v.rows, []any{r.Name, r.Version, r.LatestVersion, r.Versions, r.Builtin, r.CreatedAt, r.Description})
				}
				return v.write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.registerExisting(list, "custkpi.duckdb")
	format = addFormatFlag(list)
	return list
}

// evaluationView: the distribution of tiers, one row each.
func evaluationView(ev *engine.Evaluation) view {
	v := view{cols: []string{"tier", "rule", "customers", "share", "revenue_share"}, doc: ev,
		head: []string{fmt.Sprintf("evaluation %d: %s v%d as of %s, %d customers (%s path), %.0f ms", ev.ID, ev.Name, ev.Version, ev.AsOf, ev.Customers, ev.Path, ev.ElapsedMS)}}
	if ev.Fallback != "" {
		v.head = append(v.head, "in Go because: "+ev.Fallback)
	}
	for _, t := range ev.Tiers {
		v.rows = append(v.rows, []any{t.Tier, t.Rule, t.Customers, t.Share, t.RevenueShare})
	}
	for _, n := range ev.NullSkips {
		v.foot = append(v.foot, fmt.Sprintf("rule %d (%s) skipped %d customers with a null feature", n.Rule, n.Tier, n.Customers))
	}
	return v
}

// withDocument reads a rule set file and runs fn with it and the backend.
func withDocument(cmd *cobra.Command, g *globalFlags, db *dbFlags, path string, fn func(context.Context, backend, []byte) error) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return g.withBackend(cmd, db, nil, func(ctx context.Context, b backend) error { return fn(ctx, b, doc) })
}
