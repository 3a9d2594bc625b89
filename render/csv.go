// Package render encodes result tables (column names and rows of Go values
// as the engine scans them) as CSV, Arrow IPC streams and Parquet: the one
// set of encoders the API and the CLI share, so both answer the same bytes.
package render

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Finite tells a number from NaN and the infinities, which every encoder
// writes as null: JSON has no way to write them, and a KPI that computed
// one has no answer there.
func Finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

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

// Cell renders one value for CSV and the CLI's tables. A non-finite number
// (NaN, ±Inf: no answer) is an empty cell, as a null is.
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		if !Finite(x) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
