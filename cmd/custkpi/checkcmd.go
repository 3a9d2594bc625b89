package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

// errChecksFailed makes check exit non-zero after it printed the problems.
var errChecksFailed = errors.New("the database breaks invariants (see above)")

func newCheckCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Verify that derived data, history, tiers and scores agree with the datasets; changes nothing",
		Long: `check opens the database as it is (no recovery, nothing written) and
verifies its invariants: the generation log, customer features built from the
current data (one row per customer, monetary sums equal to completed order
revenue), dataset row counts equal to what their imports recorded, the fast
path's tables holding the completed orders when stamped current, evaluations
equal to their assignments, and model scores belonging to the last fit.
It prints one line per invariant and exits 1 when any is broken.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.refuseServer(cmd); err != nil {
				return err
			}
			if db.path == "" || db.path == ":memory:" {
				return usage(errors.New("check needs a database file: --db FILE"))
			}
			eng, err := engine.Open(cmd.Context(), engine.Options{Path: db.path, QueryTimeout: db.timeout, Threads: db.threads, MemoryLimit: db.memory,
				Logger: newLogger(cmd), MustExist: true, Inspect: true})
			if err != nil {
				return explainOpenError(db.path, err, false)
			}
			defer eng.Close()
			invs, err := eng.Check(cmd.Context())
			if err != nil {
				return describeError(err)
			}
			return printInvariants(cmd, invs, format.value)
		},
	}
	db.register(cmd, "")
	format = addFormatFlag(cmd)
	return cmd
}

// printInvariants prints one line per invariant (a row in the other
// formats) and fails when any is broken, after printing them all.
func printInvariants(cmd *cobra.Command, invs []engine.Invariant, format string) error {
	broken, width := 0, 0
	for _, inv := range invs {
		width = max(width, len(inv.Name))
	}
	v := view{cols: []string{"name", "ok", "rule", "problem"}, doc: invs, noTable: true}
	for _, inv := range invs {
		v.rows = append(v.rows, []any{inv.Name, inv.OK, inv.Rule, inv.Problem})
		if inv.OK {
			v.head = append(v.head, fmt.Sprintf("ok      %-*s %s", width, inv.Name, inv.Rule))
			continue
		}
		broken++
		v.head = append(v.head, fmt.Sprintf("BROKEN  %-*s %s: %s", width, inv.Name, inv.Rule, inv.Problem))
	}
	if broken == 0 {
		v.foot = []string{fmt.Sprintf("%d invariants hold", len(invs))}
	}
	if err := v.write(cmd.OutOrStdout(), format); err != nil {
		return err
	}
	if broken > 0 {
		return errChecksFailed
	}
	return nil
}
