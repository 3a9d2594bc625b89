package engine

import "custkpi/store"

// The DuckDB result readers are the store's.
type table = store.Table

var (
	scanTable    = store.ScanTable
	scanValues   = store.ScanValues
	normalise    = store.Normalise
	countRow     = store.CountRow
	quoteIdent   = store.QuoteIdent
	tableColumns = store.TableColumns
)
