package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// Table is a small result read back from DuckDB: aggregated KPI rows,
// customers of one page. Values are normalised to JSON-friendly Go types:
// float64, int64, string, bool, nil, and dates as YYYY-MM-DD strings; NaN
// and ±Inf become nil (null: no answer). Types are the columns' DuckDB
// types as the result declares them (DATE, BIGINT, DECIMAL(18,2), ...),
// known even without rows: the typed encoders (Arrow, Parquet) build their
// schema from them, not from the values.
type Table struct {
	Columns []string
	Types   []string
	Rows    [][]any
}

// ScanTable reads every row and closes rows.
func ScanTable(rows *sql.Rows) (*Table, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	t := &Table{Columns: cols, Types: DatabaseTypes(types), Rows: [][]any{}}
	for rows.Next() {
		vals, err := ScanRow(rows, t.Types)
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, vals)
	}
	return t, rows.Err()
}

// DatabaseTypes lists the DuckDB type name of each column of a result.
func DatabaseTypes(types []*sql.ColumnType) []string {
	out := make([]string, len(types))
	for i, ct := range types {
		out[i] = ct.DatabaseTypeName()
	}
	return out
}

// ScanRow reads the current row, normalised; types are the columns'
// DuckDB types.
func ScanRow(rows *sql.Rows, types []string) ([]any, error) {
	vals, err := ScanValues(rows, len(types))
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		vals[i] = Normalise(v, types[i])
	}
	return vals, nil
}

// ScanValues reads the current row into n fresh values, as the driver
// returns them.
func ScanValues(rows *sql.Rows, n int) ([]any, error) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, rows.Scan(ptrs...)
}

func Normalise(v any, dbType string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if dbType == "DATE" {
			return x.Format(time.DateOnly)
		}
		return x.UTC().Format(time.RFC3339)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint64:
		return int64(x)
	case uint32:
		return int64(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil // no answer; JSON cannot write it
		}
		return x
	case float32:
		return Normalise(float64(x), dbType)
	case *big.Int:
		return x.Int64()
	case duckdb.Decimal:
		// Through its exact decimal text: the nearest float64, with no
		// noise from dividing by ten scale times (12.30, not 12.299999).
		f, _ := strconv.ParseFloat(x.String(), 64)
		return f
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	return v
}

// Objects turns the rows into column → value maps.
func (t *Table) Objects() []map[string]any {
	out := make([]map[string]any, len(t.Rows))
	for i, r := range t.Rows {
		m := make(map[string]any, len(t.Columns))
		for j, c := range t.Columns {
			m[c] = r[j]
		}
		out[i] = m
	}
	return out
}

// CountRow runs a query answering one row of counts.
func CountRow(ctx context.Context, q Querier, query string) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	t, err := ScanTable(rows)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(t.Columns))
	for i, v := range t.Rows[0] {
		if n, ok := v.(int64); ok {
			out[i] = n
		}
	}
	return out, nil
}

// TableColumns lists a table's columns in order (none when there is no
// such table).
func TableColumns(ctx context.Context, q Querier, table string) ([]string, error) {
	names, _, err := ColumnTypes(ctx, q, table)
	return names, err
}

// TableExists tells whether the main schema has a table (or view) of
// that name. (duckdb_tables() sizes every table of the database first:
// 6.7 ms of every CLI command's start at a million customers.)
func TableExists(ctx context.Context, q Querier, table string) (bool, error) {
	names, _, err := ColumnTypes(ctx, q, table)
	return len(names) > 0, err // a table has a column at least
}

// ColumnTypes lists the columns of a table (or view) of the main schema
// in order, and their types; none when there is no such table. It reads
// that table's entry alone (pragma_table_info), where
// information_schema.columns lists every column of the database first:
// 11 ms as a process's first such query at a million customers, of every
// CLI command's start.
func ColumnTypes(ctx context.Context, q Querier, table string) (names, types []string, err error) {
	// main.: the schema, whatever the database's catalog is named (after
	// its file). A temporary table of the same name would stand in for
	// the table; custkpi's (ingest's stage and stage_src) are named apart
	// from every table it looks up.
	rows, err := q.QueryContext(ctx, "SELECT name, type FROM pragma_table_info('main.' || ?) ORDER BY cid", table)
	if err != nil {
		var de *duckdb.Error
		if errors.As(err, &de) && de.Type == duckdb.ErrorTypeCatalog {
			return nil, nil, nil // no such table
		}
		return nil, nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		names, types = append(names, n), append(types, t)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	return names, types, nil
}

// Strings is the first column of each row a query returns, as strings.
func Strings(ctx context.Context, q Querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
