package kpi

import (
	"bytes"
	"encoding/json"
	"math"
)

// MarshalJSON writes the API shape of a KPI answer (API.md): the query
// echoed back and rows as objects whose keys keep the column order
// (period, dimensions, value, numerator, denominator). A non-finite value
// is null.
func (r *Result) MarshalJSON() ([]byte, error) {
	type header Result // without this method
	head, err := json.Marshal((*header)(r))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(head[:len(head)-1])
	b.WriteString(`,"rows":`)
	if err := writeObjects(&b, r.Columns, r.Rows); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeObjects writes rows as a JSON array of objects with ordered keys.
func writeObjects(b *bytes.Buffer, cols []string, rows [][]any) error {
	b.WriteByte('[')
	for i, row := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, c := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(c)
			b.Write(k)
			b.WriteByte(':')
			x := row[j]
			if f, ok := x.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
				x = nil // no answer: JSON cannot write NaN or ±Inf
			}
			v, err := json.Marshal(x)
			if err != nil {
				return err
			}
			b.Write(v)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return nil
}
