package render

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
)

// AppendObject appends one row as a JSON object whose keys keep the column
// order; a non-finite number is null.
func AppendObject(b []byte, cols []string, row []any) ([]byte, error) {
	b = append(b, '{')
	for j, c := range cols {
		if j > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		b = append(append(b, k...), ':')
		if b, err = appendValue(b, row[j]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		if !Finite(x) {
			return append(b, "null"...), nil // no answer: JSON cannot write NaN or ±Inf
		}
		return append(b, FormatFloat(x)...), nil
	}
	m, err := json.Marshal(v)
	return append(b, m...), err
}

// jsonEncoder writes rows as a JSON array of objects (records) or as one
// object per line (NDJSON), through a buffer so rows are not one write each.
type jsonEncoder struct {
	w     *bufio.Writer
	cols  []string
	lines bool
	n     int
	buf   []byte
}

func newJSONEncoder(w io.Writer, cols []string, lines bool) *jsonEncoder {
	return &jsonEncoder{w: bufio.NewWriterSize(w, 64<<10), cols: cols, lines: lines}
}

func (e *jsonEncoder) Write(row []any) error {
	b := e.buf[:0]
	switch {
	case e.lines:
	case e.n == 0:
		b = append(b, '[')
	default:
		b = append(b, ',')
	}
	b, err := AppendObject(b, e.cols, row)
	if err != nil {
		return err
	}
	if e.lines {
		b = append(b, '\n')
	}
	e.buf = b
	e.n++
	_, err = e.w.Write(b)
	return err
}

func (e *jsonEncoder) Close() error {
	if !e.lines {
		end := "]"
		if e.n == 0 {
			end = "[]"
		}
		if _, err := e.w.WriteString(end); err != nil {
			return err
		}
	}
	return e.w.Flush()
}
