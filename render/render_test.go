package render

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

var (
	cols = []string{"period", "region", "value", "customers"}
	rows = [][]any{
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

func TestArrowRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := WriteArrow(&b, cols, rows); err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if !r.Next() {
		t.Fatal("no record")
	}
	rec := r.Record()
	if rec.NumRows() != 2 || rec.NumCols() != 4 {
		t.Fatalf("shape %dx%d", rec.NumRows(), rec.NumCols())
	}
	wantTypes := []arrow.Type{arrow.STRING, arrow.STRING, arrow.FLOAT64, arrow.INT64}
	for i, f := range rec.Schema().Fields() {
		if f.Type.ID() != wantTypes[i] || f.Name != cols[i] {
			t.Errorf("column %d: %s %s", i, f.Name, f.Type)
		}
	}
	v := rec.Column(2).(*array.Float64)
	if v.Value(0) != 1.5 || !v.IsNull(1) || !rec.Column(1).IsNull(1) || rec.Column(3).(*array.Int64).Value(1) != 0 {
		t.Errorf("values: %v %v", rec.Column(2), rec.Column(1))
	}
}

// Issue 9: a non-finite number is null in Arrow (and so Parquet) and an
// empty cell in CSV, as it is null in JSON.
func TestNonFiniteIsNull(t *testing.T) {
	rows := [][]any{{"a", math.NaN()}, {"b", math.Inf(-1)}, {"c", 1.5}}
	rec, err := ToArrow([]string{"k", "value"}, rows)
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
}
