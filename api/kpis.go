package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
	"custkpi/queries"
)

// KPIInfo is one KPI of the catalog.
type KPIInfo struct {
	Name           string          `json:"name" example:"churn_rate"`
	Title          string          `json:"title" example:"Churn rate"`
	Category       string          `json:"category" example:"loyalty"`
	Unit           string          `json:"unit" example:"ratio"`
	Description    string          `json:"description"`
	Kind           string          `json:"kind" example:"ratio" enums:"additive,ratio,statistic"`
	Direction      string          `json:"direction" example:"lower_is_better" enums:"higher_is_better,lower_is_better"`
	LatestVersion  int             `json:"latest_version" example:"1"`
	DefaultVersion int             `json:"default_version" example:"1"`
	Versions       []int           `json:"versions"`
	Requires       []string        `json:"requires"`
	Dimensions     []string        `json:"dimensions"`
	Params         []queries.Param `json:"params"`
}

// KPIVersion is one version of a KPI with its SQL.
type KPIVersion struct {
	Version     int             `json:"version" example:"1"`
	Default     bool            `json:"default"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Kind        string          `json:"kind"`
	Value       string          `json:"value,omitempty"`
	Numerator   string          `json:"numerator,omitempty"`
	Denominator string          `json:"denominator,omitempty"`
	Params      []queries.Param `json:"params"`
	Requires    []string        `json:"requires"`
	Macro       string          `json:"macro" example:"kpi_churn_rate_v1"`
	File        string          `json:"file" example:"loyalty/churn_rate.v1.sql"`
	SQL         string          `json:"sql"`
}

// KPIDetail is GET /v1/kpis/{name}.
type KPIDetail struct {
	KPIInfo
	VersionDetails []KPIVersion `json:"version_details"`
}

// KPIList is GET /v1/kpis.
type KPIList struct {
	KPIs []KPIInfo `json:"kpis"`
}

func (s *Server) kpiInfo(c *gin.Context, k *engine.KPI) (KPIInfo, error) {
	d := k.Default
	dims, err := s.eng.Dimensions(c.Request.Context(), d)
	if err != nil {
		return KPIInfo{}, err
	}
	if d.Dimensions == nil {
		dims = append(dims, "tier:<ruleset>")
	}
	params := d.Params
	if params == nil {
		params = []queries.Param{}
	}
	return KPIInfo{Name: k.Name, Title: d.Title, Category: d.Category, Unit: d.Unit, Description: d.Description,
		Kind: string(d.Kind), Direction: d.Direction, LatestVersion: k.Latest().Version, DefaultVersion: d.Version,
		Versions: k.VersionNumbers(), Requires: d.Requires, Dimensions: dims, Params: params}, nil
}

// listKPIs godoc
//
//	@Summary		KPI catalog
//	@Description	Every KPI with its metadata, versions, required datasets and dimensions.
//	@Tags			kpis
//	@Produce		json
//	@Success		200	{object}	KPIList
//	@Router			/kpis [get]
func (s *Server) listKPIs(c *gin.Context) {
	out := KPIList{KPIs: []KPIInfo{}}
	for _, k := range s.eng.Catalog().List() {
		info, err := s.kpiInfo(c, k)
		if err != nil {
			s.fail(c, err)
			return
		}
		out.KPIs = append(out.KPIs, info)
	}
	s.writeJSON(c, http.StatusOK, out)
}

// getKPI godoc
//
//	@Summary		One KPI
//	@Description	The KPI's metadata plus every version's definition and SQL (the body of its DuckDB table macro).
//	@Tags			kpis
//	@Produce		json
//	@Param			name	path		string	true	"KPI name"	example(churn_rate)
//	@Success		200		{object}	KPIDetail
//	@Failure		404		{object}	ErrorBody	"unknown_kpi"
//	@Router			/kpis/{name} [get]
func (s *Server) getKPI(c *gin.Context) {
	k, err := s.eng.Catalog().Lookup(c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	info, err := s.kpiInfo(c, k)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := KPIDetail{KPIInfo: info}
	for _, d := range k.Versions {
		params := d.Params
		if params == nil {
			params = []queries.Param{}
		}
		out.VersionDetails = append(out.VersionDetails, KPIVersion{Version: d.Version, Default: d == k.Default,
			Title: d.Title, Description: d.Description, Kind: string(d.Kind), Value: d.Value, Numerator: d.Numerator,
			Denominator: d.Denominator, Params: params, Requires: d.Requires, Macro: d.MacroName(), File: d.File, SQL: d.Source})
	}
	s.writeJSON(c, http.StatusOK, out)
}

// KPIValues documents the shape of GET /v1/kpis/{name}/values; the rows'
// keys are period (with a grain), the dimensions asked for, value, and for
// ratios numerator and denominator.
type KPIValues struct {
	KPI         string           `json:"kpi" example:"churn_rate"`
	Version     int              `json:"version" example:"1"`
	From        string           `json:"from" example:"2024-01-01"`
	To          string           `json:"to" example:"2025-01-01"`
	Grain       string           `json:"grain" example:"quarter"`
	By          []string         `json:"by"`
	Params      map[string]any   `json:"params,omitempty"`
	Fingerprint string           `json:"fingerprint" example:"3f9a0c2d1b7e4a55"`
	Rows        []map[string]any `json:"rows"`
}

// Query parameters every KPI understands; any other is a KPI parameter.
var standardParams = map[string]bool{"from": true, "to": true, "grain": true, "by": true, "version": true, "where": true, "format": true, "shape": true}

// parseKPIQuery reads the query string of a values request.
func parseKPIQuery(c *gin.Context, name string) (engine.Query, error) {
	q := engine.Query{KPI: name, Params: map[string]string{}}
	var err error
	if v := c.Query("from"); v != "" {
		if q.From, err = engine.ParseDate("from", v); err != nil {
			return q, err
		}
	}
	if v := c.Query("to"); v != "" {
		if q.To, err = engine.ParseDate("to", v); err != nil {
			return q, err
		}
	}
	if q.Grain, err = engine.ParseGrain(c.Query("grain")); err != nil {
		return q, err
	}
	for _, b := range c.QueryArray("by") {
		for _, d := range strings.Split(b, ",") {
			if d = strings.TrimSpace(d); d != "" {
				q.By = append(q.By, d)
			}
		}
	}
	if v := c.Query("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return q, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"version\": %q is not a version number", v),
				map[string]any{"parameter": "version"})
		}
		q.Version = n
	}
	q.Where = c.Query("where")
	for k, v := range c.Request.URL.Query() {
		if !standardParams[k] {
			q.Params[k] = v[len(v)-1]
		}
	}
	return q, nil
}

// kpiValues godoc
//
//	@Summary		KPI values
//	@Description	Computes a KPI over a window [from, to) (default: the 12 calendar months before the month after the latest order), cut into calendar periods by grain, grouped by customer dimensions. One SQL statement per request; ratios are recomputed per group from numerator and denominator; a zero denominator gives null. KPI-specific parameters (e.g. cycle_multiplier) are passed as extra query parameters. Headers: X-KPI-Version, X-KPI-Default-Version (true when no version was asked for), ETag (changes when the data is re-imported).
//	@Tags			kpis
//	@Produce		json
//	@Produce		text/csv
//	@Produce		application/vnd.apache.arrow.stream
//	@Produce		application/vnd.apache.parquet
//	@Produce		application/x-ndjson
//	@Param			name	path		string	true	"KPI name"						example(revenue)
//	@Param			from	query		string	false	"window start, inclusive (YYYY-MM-DD)"	example(2024-01-01)
//	@Param			to		query		string	false	"window end, exclusive (YYYY-MM-DD)"	example(2025-01-01)
//	@Param			grain	query		string	false	"calendar grain"				Enums(none, day, week, month, quarter, year)
//	@Param			by		query		string	false	"comma-separated dimensions: customer columns, age_band, tier:<ruleset>"	example(region,segment)
//	@Param			version	query		int		false	"KPI version (default: the KPI's default version)"
//	@Param			where	query		string	false	"CEL condition on customer features restricting the customers counted"
//	@Param			format	query		string	false	"output format (or the Accept header: application/json, application/x-ndjson, text/csv, application/vnd.apache.arrow.stream, application/vnd.apache.parquet); Arrow and Parquet columns have DuckDB's types (period date32, counts int64)"	Enums(json, ndjson, csv, arrow, parquet)
//	@Param			shape	query		string	false	"JSON shape: envelope (default) or records, a bare array of row objects"	Enums(envelope, records)
//	@Success		200		{object}	KPIValues
//	@Failure		400		{object}	ErrorBody	"invalid_parameter, unknown_dimension"
//	@Failure		404		{object}	ErrorBody	"unknown_kpi, unknown_version"
//	@Failure		406		{object}	ErrorBody	"not_acceptable"
//	@Failure		409		{object}	ErrorBody	"missing_dataset, missing_column"
//	@Failure		504		{object}	ErrorBody	"timeout"
//	@Router			/kpis/{name}/values [get]
func (s *Server) kpiValues(c *gin.Context) {
	format, records, err := tableFormat(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	q, err := parseKPIQuery(c, c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.eng.Run(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	etag := resultETag(res, q, fmt.Sprint(format, records))
	c.Header("ETag", etag)
	c.Header("X-KPI-Version", strconv.Itoa(res.Version))
	c.Header("X-KPI-Default-Version", strconv.FormatBool(q.Version == 0))
	c.Header("X-Data-Fingerprint", res.Fingerprint)
	c.Header("Server-Timing", fmt.Sprintf("kpi;dur=%.1f", float64(res.Elapsed)/float64(time.Millisecond)))
	if match := c.GetHeader("If-None-Match"); match != "" && match == etag {
		c.Status(http.StatusNotModified)
		return
	}
	if records {
		s.writeTable(c, format, res.KPI, res.Columns, res.Types, res.Rows)
		return
	}
	s.writeJSON(c, http.StatusOK, res)
}

// resultETag names a representation: the same KPI version, parameters and
// data fingerprint give the same bytes.
func resultETag(res *engine.Result, q engine.Query, format string) string {
	params := make([]string, 0, len(q.Params))
	for k, v := range q.Params {
		params = append(params, k+"="+v)
	}
	sort.Strings(params)
	h := sha256.Sum256([]byte(strings.Join([]string{res.KPI, strconv.Itoa(res.Version), res.From, res.To, string(res.Grain),
		strings.Join(res.By, ","), q.Where, strings.Join(params, "&"), res.Fingerprint, format}, "|")))
	return `"` + hex.EncodeToString(h[:12]) + `"`
}
