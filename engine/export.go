package engine

import (
	"context"
	"database/sql"
	"fmt"

	"custkpi/store"
)

// TableWriter receives a table as it is read: its columns with their DuckDB
// types once, before any row, then each row.
type TableWriter interface {
	Begin(cols, types []string) error
	Row(row []any) error
}

// exportChunk is how many customers one statement of an export reads:
// DuckDB materialises a statement's result, so a chunk bounds what it holds.
var exportChunk = 50_000 // a variable for the tests' small chunks

// ExportCustomers writes every customer with its features (those the key's
// scope lets it see and where= selects, as the customers list), ordered by
// customer_id, to w, in bounded memory whatever the number of customers:
// it reads them a chunk at a time (keyset on customer_id), all chunks in
// one read transaction, so the export is one generation's data even when an
// import commits meanwhile. Money features are rounded to cents, as on a
// page. ctx (the request's) and the job timeout bound it: a client that goes
// away cancels the statement running.
func (e *Engine) ExportCustomers(ctx context.Context, where string, w TableWriter) error {
	ctx, cancel := e.withJobTimeout(ctx) // long work, as an import is
	defer cancel()
	names, _, err := e.FeatureColumns(ctx)
	if err != nil {
		return err
	}
	cond, args, err := e.customerFilter(ctx, e.snap(), where)
	if err != nil {
		return err
	}
	query := fmt.Sprintf("SELECT %s FROM customer_features WHERE %s AND (?::VARCHAR IS NULL OR customer_id > ?) ORDER BY customer_id LIMIT %d",
		featureSelect(names), cond, exportChunk)
	return e.read(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var last any // nil: from the first customer
		for begun := false; ; begun = true {
			n, id, err := exportChunkRows(ctx, conn, query, append(args, last, last), w, !begun)
			if err != nil {
				return fmt.Errorf("export customers: %w", err)
			}
			if n < exportChunk {
				return nil
			}
			last = id
		}
	})
}

// exportChunkRows writes one chunk's rows, first announcing the columns if
// begin is set, and answers how many it wrote and the last customer_id.
func exportChunkRows(ctx context.Context, conn *sql.Conn, query string, args []any, w TableWriter, begin bool) (int, any, error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, nil, err
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		return 0, nil, err
	}
	types := store.DatabaseTypes(cts)
	idx := -1
	for i, c := range cols {
		if c == "customer_id" {
			idx = i
		}
	}
	if idx < 0 {
		return 0, nil, fmt.Errorf("customer_features has no customer_id")
	}
	if begin {
		if err := w.Begin(cols, types); err != nil {
			return 0, nil, err
		}
	}
	n, last := 0, any(nil)
	for rows.Next() {
		vals, err := store.ScanRow(rows, types)
		if err != nil {
			return n, last, err
		}
		if err := w.Row(vals); err != nil {
			return n, last, err
		}
		n, last = n+1, vals[idx]
	}
	return n, last, rows.Err()
}
