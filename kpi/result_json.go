package kpi

import (
	"encoding/json"

	"custkpi/render"
)

// MarshalJSON writes the API shape of a KPI answer (API.md): the query
// echoed back and rows as objects whose keys keep the column order
// (period, dimensions, value, numerator, denominator), written by the
// encoder every tabular format shares. A non-finite value is null.
func (r *Result) MarshalJSON() ([]byte, error) {
	type header Result // without this method
	head, err := json.Marshal((*header)(r))
	if err != nil {
		return nil, err
	}
	b := append(head[:len(head)-1], `,"rows":[`...)
	for i, row := range r.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = render.AppendObject(b, r.Columns, row); err != nil {
			return nil, err
		}
	}
	return append(b, "]}"...), nil
}
