package api

import (
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
	formatJSON = "json"
	formatCSV  = "csv"
)

// outputFormat reads format= or, failing that, the Accept header.
func outputFormat(c *gin.Context) (string, error) {
	f := c.Query("format")
	if f == "" {
		if strings.Contains(c.GetHeader("Accept"), "text/csv") {
			return formatCSV, nil
		}
		return formatJSON, nil
	}
	switch f {
	case formatJSON, formatCSV:
		return f, nil
	}
	return "", badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"format\": %q is not json or csv", f),
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

func writeCSVResponse(c *gin.Context, name string, cols []string, rows [][]any) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf("inline; filename=%q", name+".csv"))
	c.Status(http.StatusOK)
	if err := WriteCSV(c.Writer, cols, rows); err != nil {
		_ = c.Error(err)
	}
}
