package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Output formats of tabular endpoints.
const (
	formatJSON    = "json"
	formatCSV     = "csv"
	formatArrow   = "arrow"
	formatParquet = "parquet"
)

// mediaTypes of the tabular formats, for Accept and Content-Type.
var mediaTypes = map[string]string{
	formatCSV:     "text/csv",
	formatArrow:   "application/vnd.apache.arrow.stream",
	formatParquet: "application/vnd.apache.parquet",
}

// outputFormat reads format= or, failing that, the Accept header.
func outputFormat(c *gin.Context) (string, error) {
	f := c.Query("format")
	if f == "" {
		accept := c.GetHeader("Accept")
		for name, mt := range mediaTypes {
			if strings.Contains(accept, mt) {
				return name, nil
			}
		}
		return formatJSON, nil
	}
	switch f {
	case formatJSON, formatCSV, formatArrow, formatParquet:
		return f, nil
	}
	return "", badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"format\": %q is not json, csv, arrow or parquet", f),
		map[string]any{"parameter": "format"})
}

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

// Cell renders one value for CSV and the CLI's tables.
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// writeTable answers a table in a non-JSON format. Arrow and Parquet are
// built in memory first (the answers are aggregated and small), so an
// encoding error is still a clean 500 and not a truncated body.
func (s *Server) writeTable(c *gin.Context, format, name string, cols []string, rows [][]any) {
	var buf bytes.Buffer
	var err error
	ext := format
	switch format {
	case formatCSV:
		err = WriteCSV(&buf, cols, rows)
	case formatArrow:
		err, ext = WriteArrow(&buf, cols, rows), "arrows"
	case formatParquet:
		err = WriteParquet(&buf, cols, rows)
	}
	if err != nil {
		s.fail(c, fmt.Errorf("write %s: %w", format, err))
		return
	}
	ct := mediaTypes[format]
	if format == formatCSV {
		ct += "; charset=utf-8"
	}
	c.Header("Content-Disposition", fmt.Sprintf("inline; filename=%q", name+"."+ext))
	c.Data(http.StatusOK, ct, buf.Bytes())
}
