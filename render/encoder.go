package render

import (
	"fmt"
	"io"
)

// The formats of a table.
const (
	JSON    = "json"    // a JSON array of row objects (records)
	NDJSON  = "ndjson"  // one JSON object per line
	CSV     = "csv"     // a header line, then a line per row
	Arrow   = "arrow"   // an Arrow IPC stream
	Parquet = "parquet" // a Parquet file
)

// Encoder writes the rows of one table, one at a time, in one format:
// a page of an answer and a bulk export of a million rows go through the
// same encoder, the export just never holds more than a batch.
type Encoder interface {
	// Write encodes one row: Go values as the scan normalised them (or as
	// the driver returns them, for dates and timestamps).
	Write(row []any) error
	// Close writes what is buffered and ends the document (the Arrow end
	// of stream, the Parquet footer, the closing bracket).
	Close() error
}

// NewEncoder starts a table in format on w. types are the columns' DuckDB
// types (the result's own), which set the Arrow and Parquet schema.
func NewEncoder(w io.Writer, format string, cols, types []string) (Encoder, error) {
	switch format {
	case JSON:
		return newJSONEncoder(w, cols, false), nil
	case NDJSON:
		return newJSONEncoder(w, cols, true), nil
	case CSV:
		return newCSVEncoder(w, cols), nil
	}
	schema, err := Schema(cols, types)
	if err != nil {
		return nil, err
	}
	switch format {
	case Arrow:
		return newArrowEncoder(w, schema), nil
	case Parquet:
		return newParquetEncoder(w, schema)
	}
	return nil, fmt.Errorf("render: unknown format %q", format)
}

// Write encodes a whole table.
func Write(w io.Writer, format string, cols, types []string, rows [][]any) error {
	e, err := NewEncoder(w, format, cols, types)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := e.Write(r); err != nil {
			return fmt.Errorf("write %s: %w", format, err)
		}
	}
	if err := e.Close(); err != nil {
		return fmt.Errorf("write %s: %w", format, err)
	}
	return nil
}
