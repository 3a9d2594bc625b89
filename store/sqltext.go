package store

import "strings"

// QuoteIdent double-quotes an identifier for DuckDB. Identifiers reach SQL
// only from the data contract or from columns DuckDB itself reported, never
// from request text that was not checked against them.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QuoteString single-quotes a string literal for DuckDB: for text from the
// binary itself (the data contract's allowed values) and settings; values
// from callers are bound instead.
func QuoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
