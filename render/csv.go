// Package render encodes result tables (column names, their DuckDB types
// and rows of Go values as the engine scans them) as JSON records, NDJSON,
// CSV, Arrow IPC streams and Parquet: the one set of encoders the API and
// the CLI share, so both answer the same bytes, and a page and a bulk
// export answer the same schema.
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
	e := newCSVEncoder(w, cols)
	for _, r := range rows {
		if err := e.Write(r); err != nil {
			return err
		}
	}
	return e.Close()
}

type csvEncoder struct {
	w      *csv.Writer
	cols   []string
	rec    []string
	header bool
}

func newCSVEncoder(w io.Writer, cols []string) *csvEncoder {
	return &csvEncoder{w: csv.NewWriter(w), cols: cols, rec: make([]string, len(cols))}
}

func (e *csvEncoder) writeHeader() error {
	if e.header {
		return nil
	}
	e.header = true
	return e.w.Write(e.cols)
}

func (e *csvEncoder) Write(row []any) error {
	if err := e.writeHeader(); err != nil {
		return err
	}
	for i, v := range row {
		e.rec[i] = Cell(v)
	}
	return e.w.Write(e.rec)
}

func (e *csvEncoder) Close() error {
	if err := e.writeHeader(); err != nil {
		return err
	}
	e.w.Flush()
	return e.w.Error()
}

// Cell renders one value for CSV and the CLI's tables. A non-finite number
// (NaN, ±Inf: no answer) is an empty cell, as a null is. Numbers are
// written as JSON writes them, so a value reads the same in every format
// (1234567.89, not 1.23456789e+06).
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		if !Finite(x) {
			return ""
		}
		return FormatFloat(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// FormatFloat writes a finite number as encoding/json does: the shortest
// decimal that reads back as the same float64, in plain notation unless
// it is tiny or huge.
func FormatFloat(f float64) string {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	s := strconv.FormatFloat(f, format, -1, 64)
	if format == 'e' {
		// e-07 → e-7, as JSON writes it.
		if n := len(s); n >= 4 && s[n-4] == 'e' && s[n-3] == '-' && s[n-2] == '0' {
			s = s[:n-2] + s[n-1:]
		}
	}
	return s
}
