package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"custkpi/engine"
)

// newKeysCommand manages API keys on the database file, before a server
// is started on it (a running server holds the file: create keys through its
// API then, POST /v1/keys, as the local admin or with an admin key).
func newKeysCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list and revoke API keys (on the database file)",
	}
	cmd.AddCommand(newKeysCreateCommand(g), newKeysListCommand(g), newKeysRevokeCommand(g))
	return cmd
}

func newKeysCreateCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var name, role string
	var scopes []string
	var format *formatFlag
	create := &cobra.Command{
		Use:     "create",
		Short:   "Create a key and print it once (only its hash is stored)",
		Example: "  custkpi keys create --db shop.duckdb --name ops --role admin\n  custkpi keys create --db shop.duckdb --name bi-north --role reader --scope region=north,east",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.refuseServer(cmd); err != nil {
				return err
			}
			scope, err := parseScope(scopes)
			if err != nil {
				return usage(err)
			}
			return db.withEngine(cmd, func(eng *engine.Engine) error {
				k, err := eng.CreateKey(cmd.Context(), name, role, scope)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "key %s (%s, %s) created; it is shown once: send it as Authorization: Bearer <key>\n", k.ID, k.Name, k.Role)
				// The table is the secret alone, so `KEY=$(custkpi keys
				// create ...)` keeps working.
				return view{
					head: []string{k.Secret},
					cols: []string{"id", "name", "role", "scope", "created_at", "key"},
					rows: [][]any{{k.ID, k.Name, k.Role, scopeString(k.Scope), k.CreatedAt, k.Secret}},
					doc:  k, noTable: true,
				}.write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.registerExisting(create, "custkpi.duckdb")
	create.Flags().StringVar(&name, "name", "", "what the key is for (required)")
	create.Flags().StringVar(&role, "role", engine.RoleReader, "reader, analyst or admin")
	create.Flags().StringArrayVar(&scopes, "scope", nil, "row scope column=value[,value...] (repeatable): the key sees only those customers")
	create.MarkFlagRequired("name")
	format = addFormatFlag(create)
	return create
}

// parseScope reads --scope region=north,east.
func parseScope(flags []string) (engine.Scope, error) {
	scope := engine.Scope{}
	for _, f := range flags {
		col, vals, ok := strings.Cut(f, "=")
		col = strings.TrimSpace(col)
		if !ok || col == "" || strings.TrimSpace(vals) == "" {
			return nil, fmt.Errorf("--scope %q is not column=value[,value...]", f)
		}
		for _, v := range strings.Split(vals, ",") {
			if v = strings.TrimSpace(v); v != "" {
				scope[col] = append(scope[col], v)
			}
		}
	}
	if len(scope) == 0 {
		return nil, nil
	}
	return scope, nil
}

func newKeysListCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var format *formatFlag
	list := &cobra.Command{
		Use:   "list",
		Short: "List the keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.refuseServer(cmd); err != nil {
				return err
			}
			return db.withEngine(cmd, func(eng *engine.Engine) error {
				keys, err := eng.Keys(cmd.Context())
				if err != nil {
					return err
				}
				v := view{cols: []string{"id", "name", "role", "scope", "created_at", "revoked_at"}, doc: keys}
				for _, k := range keys {
					v.rows = append(v.rows, []any{k.ID, k.Name, k.Role, scopeString(k.Scope), k.CreatedAt, k.RevokedAt})
				}
				return v.write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.registerExisting(list, "custkpi.duckdb")
	format = addFormatFlag(list)
	return list
}

func newKeysRevokeCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var format *formatFlag
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key: its requests answer 401 from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.refuseServer(cmd); err != nil {
				return err
			}
			return db.withEngine(cmd, func(eng *engine.Engine) error {
				if err := eng.RevokeKey(cmd.Context(), args[0]); err != nil {
					return err
				}
				return view{head: []string{"revoked " + args[0]}, cols: []string{"revoked"}, rows: [][]any{{args[0]}},
					doc: map[string]string{"revoked": args[0]}, noTable: true}.write(cmd.OutOrStdout(), format.value)
			})
		},
	}
	db.registerExisting(revoke, "custkpi.duckdb")
	format = addFormatFlag(revoke)
	return revoke
}

// scopeString is a key's scope as --scope takes it, columns in name order:
// "region=east,north segment=b2b"; "" for an unscoped key.
func scopeString(s engine.Scope) string {
	var parts []string
	for _, col := range slices.Sorted(maps.Keys(s)) {
		parts = append(parts, col+"="+strings.Join(s[col], ","))
	}
	return strings.Join(parts, " ")
}
