package render

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// toArrow builds one record from a result table. Answers are aggregated
// (periods × groups, or one page of customers), so building them in Go is
// cheap; each column's type is that of its values: float64, int64, bool,
// or string for anything else (dates are YYYY-MM-DD strings already). A
// non-finite number is null, as in JSON and CSV.
func ToArrow(cols []string, rows [][]any) (arrow.Record, error) {
	mem := memory.NewGoAllocator()
	fields := make([]arrow.Field, len(cols))
	for j, name := range cols {
		fields[j] = arrow.Field{Name: name, Type: columnType(rows, j), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for j := range cols {
		fb := b.Field(j)
		for _, r := range rows {
			v := r[j]
			if f, ok := v.(float64); v == nil || ok && !Finite(f) {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.Float64Builder:
				fb.Append(v.(float64))
			case *array.Int64Builder:
				fb.Append(v.(int64))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.StringBuilder:
				fb.Append(Cell(v))
			default:
				return nil, fmt.Errorf("arrow: column %s: unexpected builder %T", cols[j], fb)
			}
		}
	}
	return b.NewRecord(), nil
}

func columnType(rows [][]any, j int) arrow.DataType {
	var t arrow.DataType
	for _, r := range rows {
		var vt arrow.DataType
		switch r[j].(type) {
		case nil:
			continue
		case float64:
			vt = arrow.PrimitiveTypes.Float64
		case int64:
			vt = arrow.PrimitiveTypes.Int64
		case bool:
			vt = arrow.FixedWidthTypes.Boolean
		default:
			return arrow.BinaryTypes.String
		}
		if t != nil && !arrow.TypeEqual(t, vt) {
			return arrow.BinaryTypes.String
		}
		t = vt
	}
	if t == nil {
		// A column of nulls only: a KPI value is a number.
		return arrow.PrimitiveTypes.Float64
	}
	return t
}

// WriteArrow writes a table as an Arrow IPC stream.
func WriteArrow(w io.Writer, cols []string, rows [][]any) error {
	rec, err := ToArrow(cols, rows)
	if err != nil {
		return err
	}
	defer rec.Release()
	wr := ipc.NewWriter(w, ipc.WithSchema(rec.Schema()))
	if err := wr.Write(rec); err != nil {
		return fmt.Errorf("arrow: %w", err)
	}
	return wr.Close()
}

// WriteParquet writes a table as a Parquet file (zstd).
func WriteParquet(w io.Writer, cols []string, rows [][]any) error {
	rec, err := ToArrow(cols, rows)
	if err != nil {
		return err
	}
	defer rec.Release()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd))
	fw, err := pqarrow.NewFileWriter(rec.Schema(), w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	if err := fw.Write(rec); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return fw.Close()
}
