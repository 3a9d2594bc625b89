package api

import (
	"bytes"
	"cmp"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"custkpi/render"
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

// offers are the formats Accept can choose, in order of preference for a
// wildcard: JSON first, so */* (and application/*) answer JSON.
var offers = []struct{ format, mediaType string }{
	{formatJSON, "application/json"},
	{formatCSV, mediaTypes[formatCSV]},
	{formatArrow, mediaTypes[formatArrow]},
	{formatParquet, mediaTypes[formatParquet]},
}

// outputFormat reads format= or, failing that, the Accept header.
func outputFormat(c *gin.Context) (string, error) {
	f := c.Query("format")
	if f == "" {
		return negotiate(c.GetHeader("Accept")), nil
	}
	switch f {
	case formatJSON, formatCSV, formatArrow, formatParquet:
		return f, nil
	}
	return "", badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"format\": %q is not json, csv, arrow or parquet", f),
		map[string]any{"parameter": "format"})
}

// acceptRange is one media range of an Accept header with its weight.
type acceptRange struct {
	mediaType string
	q         float64
}

// negotiate picks the answer's format from an Accept header, the same for
// the same header every time: the highest q wins and, among equal q, the
// range listed first. Types not served are ignored; a type given q=0 is
// refused even when a wildcard would match it; JSON answers when nothing
// listed is served (no Accept, or only unknown types).
func negotiate(accept string) string {
	ranges, refused := parseAccept(accept)
	for _, r := range ranges {
		for _, o := range offers {
			if !refused[o.mediaType] && matchRange(r.mediaType, o.mediaType) {
				return o.format
			}
		}
	}
	return formatJSON
}

// parseAccept splits an Accept header into its ranges with q > 0, sorted by
// q (stable, so the listed order breaks ties), and the types given q=0.
// Malformed ranges are skipped: a bad client header must not fail a query.
func parseAccept(accept string) ([]acceptRange, map[string]bool) {
	var ranges []acceptRange
	refused := map[string]bool{}
	for _, item := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(item)
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		if q == 0 {
			refused[mt] = true
			continue
		}
		ranges = append(ranges, acceptRange{mt, q})
	}
	slices.SortStableFunc(ranges, func(a, b acceptRange) int { return cmp.Compare(b.q, a.q) })
	return ranges, refused
}

// matchRange reports whether a media range (text/csv, text/*, */*) covers a
// media type.
func matchRange(mediaRange, mediaType string) bool {
	if mediaRange == "*/*" || mediaRange == mediaType {
		return true
	}
	prefix, ok := strings.CutSuffix(mediaRange, "/*")
	return ok && strings.HasPrefix(mediaType, prefix+"/")
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
		err = render.WriteCSV(&buf, cols, rows)
	case formatArrow:
		err, ext = render.WriteArrow(&buf, cols, rows), "arrows"
	case formatParquet:
		err = render.WriteParquet(&buf, cols, rows)
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
