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

// Output formats of tabular endpoints (render's names).
const (
	formatJSON    = render.JSON
	formatNDJSON  = render.NDJSON
	formatCSV     = render.CSV
	formatArrow   = render.Arrow
	formatParquet = render.Parquet
)

// Media types of the formats, for Accept and Content-Type.
const (
	mediaJSON    = "application/json"
	mediaNDJSON  = "application/x-ndjson"
	mediaCSV     = "text/csv"
	mediaArrow   = "application/vnd.apache.arrow.stream"
	mediaParquet = "application/vnd.apache.parquet"
)

// offer is a format an endpoint answers, with its media type.
type offer struct{ format, mediaType string }

// tableOffers are the formats of a tabular endpoint, in order of preference
// for a wildcard: JSON first, so */* (and application/*) answer JSON.
var tableOffers = []offer{
	{formatJSON, mediaJSON},
	{formatCSV, mediaCSV},
	{formatArrow, mediaArrow},
	{formatParquet, mediaParquet},
	{formatNDJSON, mediaNDJSON},
}

// jsonOffers is what every other endpoint answers.
var jsonOffers = tableOffers[:1]

// mediaTypeOf names a format's media type.
func mediaTypeOf(format string) string {
	for _, o := range tableOffers {
		if o.format == format {
			return o.mediaType
		}
	}
	return mediaJSON
}

// fileExt is the file name extension of a format (Content-Disposition).
var fileExt = map[string]string{formatJSON: "json", formatNDJSON: "ndjson", formatCSV: "csv", formatArrow: "arrows", formatParquet: "parquet"}

// outputFormat reads format= or, failing that, the Accept header. An
// explicit format= wins over Accept; an Accept that admits none of the
// formats is a 406.
func outputFormat(c *gin.Context) (string, error) {
	f := c.Query("format")
	if f == "" {
		return negotiateOrRefuse(c, tableOffers)
	}
	if _, ok := fileExt[f]; ok {
		return f, nil
	}
	return "", badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"format\": %q is not json, ndjson, csv, arrow or parquet", f),
		map[string]any{"parameter": "format"})
}

// negotiateOrRefuse picks the format the Accept header prefers among
// offers, or answers the 406 error.
func negotiateOrRefuse(c *gin.Context, offers []offer) (string, error) {
	accept := c.GetHeader("Accept")
	if f, ok := negotiate(accept, offers); ok {
		return f, nil
	}
	types := make([]string, len(offers))
	for i, o := range offers {
		types[i] = o.mediaType
	}
	return "", &httpError{status: http.StatusNotAcceptable, body: ErrorDetail{Code: "not_acceptable",
		Message: fmt.Sprintf("the Accept header %q admits none of the media types this endpoint answers: %s", accept, strings.Join(types, ", ")),
		Details: map[string]any{"accept": accept, "available": types}}}
}

// requireJSONAccept refuses, with a 406, a request to a JSON-only endpoint
// whose Accept header admits no JSON. Tabular endpoints negotiate
// themselves (outputFormat).
func (s *Server) requireJSONAccept(c *gin.Context) {
	if tabularRoutes[c.FullPath()] {
		c.Next()
		return
	}
	if _, err := negotiateOrRefuse(c, jsonOffers); err != nil {
		s.fail(c, err)
		return
	}
	c.Next()
}

// tabularRoutes answer a table in any of tableOffers.
var tabularRoutes = map[string]bool{
	"/v1/kpis/:name/values":          true,
	"/v1/customers":                  true,
	"/v1/customers/export":           true,
	"/v1/rulesets/:name/assignments": true,
}

// acceptRange is one media range of an Accept header with its weight.
type acceptRange struct {
	mediaType string
	q         float64
}

// negotiate picks the answer's format from an Accept header, the same for
// the same header every time: the highest q wins and, among equal q, the
// range listed first; among the offers a wildcard covers, the first offer.
// A type given q=0 is refused even when a wildcard would match it. No
// Accept header (or one with no valid range) answers the first offer; one
// that admits no offer answers false.
func negotiate(accept string, offers []offer) (string, bool) {
	ranges, refused, valid := parseAccept(accept)
	if !valid {
		return offers[0].format, true
	}
	for _, r := range ranges {
		for _, o := range offers {
			if !refused[o.mediaType] && matchRange(r.mediaType, o.mediaType) {
				return o.format, true
			}
		}
	}
	return "", false
}

// parseAccept splits an Accept header into its ranges with q > 0, sorted by
// q (stable, so the listed order breaks ties), and the types given q=0;
// valid is false when it holds no well-formed range at all (absent, empty
// or garbage: treated as no preference). Malformed ranges are skipped: a
// bad client header must not fail a query.
func parseAccept(accept string) (ranges []acceptRange, refused map[string]bool, valid bool) {
	refused = map[string]bool{}
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
		valid = true
		if q == 0 {
			refused[mt] = true
			continue
		}
		ranges = append(ranges, acceptRange{mt, q})
	}
	slices.SortStableFunc(ranges, func(a, b acceptRange) int { return cmp.Compare(b.q, a.q) })
	return ranges, refused, valid
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

// Shapes of a JSON answer: the envelope (the query echoed back, rows
// inside) or records (a bare array of row objects, which pandas'
// read_json reads as it is).
const (
	shapeEnvelope = "envelope"
	shapeRecords  = "records"
)

// jsonShape reads shape=; it only changes JSON answers (the other formats
// are records already).
func jsonShape(c *gin.Context) (string, error) {
	switch v := c.Query("shape"); v {
	case "", shapeEnvelope:
		return shapeEnvelope, nil
	case shapeRecords:
		return shapeRecords, nil
	default:
		return "", badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"shape\": %q is not envelope or records", v),
			map[string]any{"parameter": "shape"})
	}
}

// tableFormat reads the format and the JSON shape of a tabular request.
// records is true when the answer is the bare table (every format but
// the JSON envelope).
func tableFormat(c *gin.Context) (format string, records bool, err error) {
	if format, err = outputFormat(c); err != nil {
		return "", false, err
	}
	shape, err := jsonShape(c)
	if err != nil {
		return "", false, err
	}
	return format, format != formatJSON || shape == shapeRecords, nil
}

// writeTable answers a table in format (JSON as records). It is encoded in
// memory first (pages and KPI answers are bounded), so an encoding error
// is still a clean 500 and not a truncated body; types are the columns'
// DuckDB types, which fix the Arrow and Parquet schema.
func (s *Server) writeTable(c *gin.Context, format, name string, cols, types []string, rows [][]any) {
	var buf bytes.Buffer
	if err := render.Write(&buf, format, cols, types, rows); err != nil {
		s.fail(c, fmt.Errorf("%s: %w", name, err))
		return
	}
	tableHeaders(c, format, name)
	c.Data(http.StatusOK, contentType(format), buf.Bytes())
}

// contentType is a format's Content-Type header.
func contentType(format string) string {
	ct := mediaTypeOf(format)
	if format == formatCSV || format == formatJSON || format == formatNDJSON {
		ct += "; charset=utf-8"
	}
	return ct
}

// tableHeaders names the answer as a file a browser would save.
func tableHeaders(c *gin.Context, format, name string) {
	c.Header("Content-Disposition", fmt.Sprintf("inline; filename=%q", name+"."+fileExt[format]))
}

// rowsOf turns a page's row objects back into rows in column order.
func rowsOf(cols []string, objects []map[string]any) [][]any {
	rows := make([][]any, len(objects))
	for i, r := range objects {
		rows[i] = make([]any, len(cols))
		for j, col := range cols {
			rows[i][j] = r[col]
		}
	}
	return rows
}
