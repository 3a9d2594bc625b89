package kpi

import "strings"

// QuoteIdent double-quotes an identifier for DuckDB. Identifiers reach SQL
// only from the data contract or from columns DuckDB itself reported, never
// from request text that was not checked against them.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QuoteString single-quotes a string literal for DuckDB.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
