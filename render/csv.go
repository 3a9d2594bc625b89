// Package render encodes result tables (column names and rows of Go values
// as the engine scans them) as CSV, Arrow IPC streams and Parquet: the one
// set of encoders the API and the CLI share, so both answer the same bytes.
package render

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// WriteCSV writes a table as CSV with a header line; nulls are empty cells.
// The CLI prints the same bytes as the API.
func WriteCSV(w io.Writer, cols []string, rows [][]any) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for _, r := range rows {
		for i, v := range r {
			rec[i] = Cell(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Cell renders one value for CSV and the CLI's tables.
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
