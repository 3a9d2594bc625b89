package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// BatchRows is how many rows an Arrow record batch (and a Parquet row
// group) holds: a bulk export keeps one batch in memory at a time.
const BatchRows = 32 << 10

// ArrowType is the Arrow type of a column of the DuckDB type dbType (as
// the result declares it: BIGINT, DATE, DECIMAL(18,2), ...). The type
// comes from the result, never from the values, so every page of an
// answer, and an empty one, has the same schema. Every integer is int64
// (HUGEINT sums of counts included), every non-integer number float64
// (DECIMAL too: notebooks want floats, and the values are rounded to
// cents where they are money), DATE date32, TIMESTAMP timestamp[us] (UTC
// for TIMESTAMPTZ), and anything else (VARCHAR, ENUM, UUID, lists) utf8.
func ArrowType(dbType string) arrow.DataType {
	switch t := strings.ToUpper(dbType); {
	case t == "BOOLEAN":
		return arrow.FixedWidthTypes.Boolean
	case t == "TINYINT", t == "SMALLINT", t == "INTEGER", t == "BIGINT", t == "HUGEINT",
		t == "UTINYINT", t == "USMALLINT", t == "UINTEGER", t == "UBIGINT", t == "UHUGEINT":
		return arrow.PrimitiveTypes.Int64
	case t == "FLOAT", t == "DOUBLE", strings.HasPrefix(t, "DECIMAL"):
		return arrow.PrimitiveTypes.Float64
	case t == "DATE":
		return arrow.FixedWidthTypes.Date32
	case t == "TIMESTAMP", t == "TIMESTAMP_S", t == "TIMESTAMP_MS", t == "TIMESTAMP_NS":
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case t == "TIMESTAMPTZ", t == "TIMESTAMP WITH TIME ZONE":
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	}
	return arrow.BinaryTypes.String
}

// Schema is the Arrow schema of a result's columns; every field is
// nullable.
func Schema(cols, types []string) (*arrow.Schema, error) {
	if len(cols) != len(types) {
		return nil, fmt.Errorf("schema: %d columns but %d types", len(cols), len(types))
	}
	fields := make([]arrow.Field, len(cols))
	for j, name := range cols {
		fields[j] = arrow.Field{Name: name, Type: ArrowType(types[j]), Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// ToArrow builds one record from a result table.
func ToArrow(cols, types []string, rows [][]any) (arrow.Record, error) {
	schema, err := Schema(cols, types)
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	for _, r := range rows {
		if err := appendRow(b, r); err != nil {
			return nil, err
		}
	}
	return b.NewRecord(), nil
}

// appendRow appends one row to a record builder, each value converted to
// its column's declared type.
func appendRow(b *array.RecordBuilder, row []any) error {
	fields := b.Schema().Fields()
	if len(row) != len(fields) {
		return fmt.Errorf("arrow: row of %d values for %d columns", len(row), len(fields))
	}
	for j, v := range row {
		if err := appendValueTo(b.Field(j), v); err != nil {
			return fmt.Errorf("arrow: column %s: %w", fields[j].Name, err)
		}
	}
	return nil
}

func appendValueTo(fb array.Builder, v any) error {
	if f, ok := v.(float64); v == nil || ok && !Finite(f) {
		fb.AppendNull() // a non-finite number is null, as in JSON and CSV
		return nil
	}
	switch fb := fb.(type) {
	case *array.Int64Builder:
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("%T value %v in an integer column", v, v)
		}
		fb.Append(n)
	case *array.Float64Builder:
		switch x := v.(type) {
		case float64:
			fb.Append(x)
		case int64:
			fb.Append(float64(x))
		default:
			return fmt.Errorf("%T value %v in a number column", v, v)
		}
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%T value %v in a boolean column", v, v)
		}
		fb.Append(x)
	case *array.Date32Builder:
		t, err := timeOf(v, time.DateOnly)
		if err != nil {
			return err
		}
		fb.Append(arrow.Date32FromTime(t))
	case *array.TimestampBuilder:
		t, err := timeOf(v, time.RFC3339Nano)
		if err != nil {
			return err
		}
		fb.Append(arrow.Timestamp(t.UnixMicro()))
	case *array.StringBuilder:
		fb.Append(Cell(v))
	default:
		return fmt.Errorf("unexpected builder %T", fb)
	}
	return nil
}

// timeOf reads a date or timestamp as the scan normalised it (text) or as
// the driver returns it.
func timeOf(v any, layout string) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		return time.Parse(layout, x)
	}
	return time.Time{}, fmt.Errorf("%T value %v in a date column", v, v)
}

// arrowEncoder gathers rows into record batches of BatchRows and hands
// each full batch to write (an IPC stream or a Parquet row group), so
// memory holds one batch whatever the number of rows.
type arrowEncoder struct {
	b       *array.RecordBuilder
	n       int
	batches int
	write   func(arrow.Record) error
	close   func() error
}

func (e *arrowEncoder) Write(row []any) error {
	if err := appendRow(e.b, row); err != nil {
		return err
	}
	if e.n++; e.n == BatchRows {
		return e.flush()
	}
	return nil
}

func (e *arrowEncoder) flush() error {
	rec := e.b.NewRecord()
	defer rec.Release()
	e.n = 0
	e.batches++
	return e.write(rec)
}

// Close writes the last batch (an empty one when there were no rows, so
// the stream still carries its schema and a reader sees a typed empty
// table) and ends the stream.
func (e *arrowEncoder) Close() error {
	defer e.b.Release()
	if e.n > 0 || e.batches == 0 {
		if err := e.flush(); err != nil {
			return err
		}
	}
	return e.close()
}

func newArrowEncoder(w io.Writer, schema *arrow.Schema) *arrowEncoder {
	wr := ipc.NewWriter(w, ipc.WithSchema(schema))
	e := &arrowEncoder{b: array.NewRecordBuilder(memory.NewGoAllocator(), schema), close: wr.Close}
	e.write = func(rec arrow.Record) error {
		if err := wr.Write(rec); err != nil {
			return fmt.Errorf("arrow: %w", err)
		}
		return nil
	}
	return e
}

// newParquetEncoder writes a Parquet file (zstd), a row group per batch.
func newParquetEncoder(w io.Writer, schema *arrow.Schema) (*arrowEncoder, error) {
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd))
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	e := &arrowEncoder{b: array.NewRecordBuilder(memory.NewGoAllocator(), schema), close: fw.Close}
	e.write = func(rec arrow.Record) error {
		if err := fw.Write(rec); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
		return nil
	}
	return e, nil
}
