package render

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

var (
	cols  = []string{"period", "region", "value", "customers"}
	types = []string{"DATE", "VARCHAR", "DOUBLE", "BIGINT"}
	rows  = [][]any{
		{"2024-01-01", "north", 1.5, int64(3)},
		{"2024-01-01", nil, nil, int64(0)},
	}
)

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, cols, rows); err != nil {
		t.Fatal(err)
	}
	want := "period,region,value,customers\n2024-01-01,north,1.5,3\n2024-01-01,,,0\n"
	if b.String() != want {
		t.Errorf("csv %q, want %q", b.String(), want)
	}
}

// A number reads the same in CSV as in JSON: plain notation for money.
func TestCellNumbersAsJSON(t *testing.T) {
	for f, want := range map[float64]string{1234567.89: "1234567.89", 1e21: "1e+21", 1e-7: "1e-7", 0.25: "0.25", 6836203.06: "6836203.06"} {
		if got := Cell(f); got != want {
			t.Errorf("Cell(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestJSONShapes(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, JSON, cols, types, rows); err != nil {
		t.Fatal(err)
	}
	want := `[{"period":"2024-01-01","region":"north","value":1.5,"customers":3},{"period":"2024-01-01","region":null,"value":null,"customers":0}]`
	if b.String() != want {
		t.Errorf("json %s, want %s", b.String(), want)
	}
	b.Reset()
	if err := Write(&b, NDJSON, cols, types, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if len(lines) != 3 || lines[2] != "" || lines[0] != `{"period":"2024-01-01","region":"north","value":1.5,"customers":3}` {
		t.Errorf("ndjson %q", b.String())
	}
	b.Reset()
	if err := Write(&b, JSON, cols, types, nil); err != nil || b.String() != "[]" {
		t.Errorf("empty json %q %v", b.String(), err)
	}
}

// The schema comes from the declared types: the same with rows and without,
// dates as date32 and counts as int64.
func TestArrowTypesFromDeclaredTypes(t *testing.T) {
	want := []arrow.DataType{arrow.FixedWidthTypes.Date32, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64}
	for _, rs := range [][][]any{rows, nil} {
		var b bytes.Buffer
		if err := Write(&b, Arrow, cols, types, rs); err != nil {
			t.Fatal(err)
		}
		r, err := ipc.NewReader(&b)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range r.Schema().Fields() {
			if !arrow.TypeEqual(f.Type, want[i]) || f.Name != cols[i] {
				t.Errorf("%d rows: column %d: %s %s, want %s", len(rs), i, f.Name, f.Type, want[i])
			}
		}
		n := int64(0)
		for r.Next() {
			rec := r.Record()
			n += rec.NumRows()
			if rec.NumRows() == 2 {
				d := rec.Column(0).(*array.Date32)
				v := rec.Column(2).(*array.Float64)
				if d.Value(0).ToTime().Format(time.DateOnly) != "2024-01-01" || v.Value(0) != 1.5 || !v.IsNull(1) ||
					!rec.Column(1).IsNull(1) || rec.Column(3).(*array.Int64).Value(1) != 0 {
					t.Errorf("values: %v", rec)
				}
			}
		}
		r.Release()
		if n != int64(len(rs)) {
			t.Errorf("%d rows read, want %d", n, len(rs))
		}
	}
}

// More rows than a batch: several record batches, every row there.
func TestArrowBatches(t *testing.T) {
	var b bytes.Buffer
	e, err := NewEncoder(&b, Arrow, []string{"n", "at"}, []string{"HUGEINT", "TIMESTAMP"})
	if err != nil {
		t.Fatal(err)
	}
	total := BatchRows*2 + 7
	for i := range total {
		if err := e.Write([]any{int64(i), "2024-01-05T10:00:00Z"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	batches, sum := 0, int64(0)
	for r.Next() {
		batches++
		col := r.Record().Column(0).(*array.Int64)
		for i := range col.Len() {
			sum += col.Value(i)
		}
		ts := r.Record().Column(1).(*array.Timestamp).Value(0)
		if got := ts.ToTime(arrow.Microsecond).UTC().Format(time.RFC3339); got != "2024-01-05T10:00:00Z" {
			t.Errorf("timestamp %s", got)
		}
	}
	if batches != 3 || sum != int64(total)*int64(total-1)/2 {
		t.Errorf("%d batches, sum %d", batches, sum)
	}
}

func TestParquetTypes(t *testing.T) {
	for _, rs := range [][][]any{rows, nil} {
		var b bytes.Buffer
		if err := Write(&b, Parquet, cols, types, rs); err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		schema, err := fr.Schema()
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []arrow.Type{arrow.DATE32, arrow.STRING, arrow.FLOAT64, arrow.INT64} {
			if schema.Field(i).Type.ID() != want {
				t.Errorf("%d rows: column %s is %s", len(rs), schema.Field(i).Name, schema.Field(i).Type)
			}
		}
		if pf.NumRows() != int64(len(rs)) {
			t.Errorf("%d rows, want %d", pf.NumRows(), len(rs))
		}
	}
}

// A value that does not fit its declared type is an error, not a cell of
// another type.
func TestArrowTypeMismatch(t *testing.T) {
	if _, err := ToArrow([]string{"n"}, []string{"BIGINT"}, [][]any{{"x"}}); err == nil {
		t.Error("text in a BIGINT column: no error")
	}
}

// Issue 9: a non-finite number is null in Arrow (and so Parquet) and an
// empty cell in CSV, as it is null in JSON.
func TestNonFiniteIsNull(t *testing.T) {
	rows := [][]any{{"a", math.NaN()}, {"b", math.Inf(-1)}, {"c", 1.5}}
	rec, err := ToArrow([]string{"k", "value"}, []string{"VARCHAR", "DOUBLE"}, rows)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	col := rec.Column(1)
	if !col.IsNull(0) || !col.IsNull(1) || col.IsNull(2) {
		t.Errorf("nulls: %v", col)
	}
	var b strings.Builder
	if err := WriteCSV(&b, []string{"k", "value"}, rows); err != nil || b.String() != "k,value\na,\nb,\nc,1.5\n" {
		t.Errorf("csv %q %v", b.String(), err)
	}
	var j bytes.Buffer
	if err := Write(&j, NDJSON, []string{"k", "value"}, []string{"VARCHAR", "DOUBLE"}, rows); err != nil || !strings.HasPrefix(j.String(), `{"k":"a","value":null}`) {
		t.Errorf("ndjson %q %v", j.String(), err)
	}
}
