package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
	"custkpi/kpi"
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
	// Grains it can be cut into: every grain, or none for a matrix.
	Grains []string `json:"grains" example:"none,day,week,month,quarter,year"`
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
	return DescribeKPI(c.Request.Context(), s.eng, k)
}

// DescribeKPI is a KPI's catalog entry (its default version's metadata),
// shared with the CLI's `custkpi kpis` so both list the same catalog.
func DescribeKPI(ctx context.Context, eng interface {
	Dimensions(context.Context, *queries.Definition) ([]string, error)
}, k *engine.KPI) (KPIInfo, error) {
	d := k.Default
	dims, err := eng.Dimensions(ctx, d)
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
	grains := []string{string(engine.GrainNone)}
	if len(d.Group) == 0 {
		grains = grains[:0]
		for _, g := range kpi.Grains {
			grains = append(grains, string(g))
		}
	}
	return KPIInfo{Name: k.Name, Title: d.Title, Category: d.Category, Unit: d.Unit, Description: d.Description,
		Kind: string(d.Kind), Direction: d.Direction, LatestVersion: k.Latest().Version, DefaultVersion: d.Version,
		Versions: k.VersionNumbers(), Requires: d.Requires, Dimensions: dims, Params: params, Grains: grains}, nil
}

// listKPIs godoc
//
//	@ID				listKPIs
//	@Summary		KPI catalog
//	@Description	Every KPI with its metadata, versions, required datasets and dimensions.
//	@Tags			kpis
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	KPIList
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
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
//	@ID				getKPI
//	@Summary		One KPI
//	@Description	The KPI's metadata plus every version's definition and SQL (the body of its DuckDB table macro).
//	@Tags			kpis
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"KPI name"	example(churn_rate)
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	KPIDetail
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"unknown_kpi: no such KPI"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
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
	KPI         string         `json:"kpi" example:"churn_rate"`
	Version     int            `json:"version" example:"1"`
	From        string         `json:"from" format:"date" example:"2024-01-01"`
	To          string         `json:"to" format:"date" example:"2025-01-01"`
	Grain       string         `json:"grain" example:"quarter" enums:"none,day,week,month,quarter,year"`
	By          []string       `json:"by"`
	Params      map[string]any `json:"params,omitempty"`
	Fingerprint string         `json:"fingerprint" example:"3f9a0c2d1b7e4a55"`
	Rows        []KPIRow       `json:"rows"`
}

// KPIRow documents one row of a KPI answer (kpi.Result writes them): the
// fields here, then one key per dimension asked for (by=) holding its value,
// which the generator declares as additional properties. value is null
// where it has no answer (a zero denominator); numerator and denominator
// come with ratio KPIs; period with a grain.
type KPIRow struct {
	Period      string   `json:"period,omitempty" format:"date" example:"2024-01-01"`
	Value       *float64 `json:"value" extensions:"x-nullable" example:"0.5"`
	Numerator   *float64 `json:"numerator,omitempty" extensions:"x-nullable" example:"1"`
	Denominator *float64 `json:"denominator,omitempty" extensions:"x-nullable" example:"2"`
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
//	@ID				getKPIValues
//	@Summary		KPI values
//	@Description	Computes a KPI over a window [from, to) (default: the 12 calendar months before the month after the latest order), cut into calendar periods by grain, grouped by customer dimensions. One SQL statement per request; ratios are recomputed per group from numerator and denominator; a zero denominator gives null. KPI parameters (inactive_days, cycle_multiplier, weights: see each KPI's params in GET /kpis/{name}) are extra query parameters. JSON answers the query with its rows (shape=records: the rows alone); CSV, NDJSON, Arrow IPC stream and Parquet answer the rows as a table.
//	@Tags			kpis
//	@Produce		json
//	@Produce		text/csv
//	@Produce		application/x-ndjson
//	@Produce		application/vnd.apache.arrow.stream
//	@Produce		application/vnd.apache.parquet
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			name	path	string	true	"KPI name"	example(revenue)
//	@Param			from	query	string	false	"window start, inclusive (YYYY-MM-DD)"	Format(date)	example(2024-01-01)
//	@Param			to	query	string	false	"window end, exclusive (YYYY-MM-DD)"	Format(date)	example(2025-01-01)
//	@Param			grain	query	string	false	"calendar grain"	Enums(none, day, week, month, quarter, year)
//	@Param			by	query	string	false	"comma-separated dimensions: customer columns, age_band, tier:RULESET (the tier in a rule set's latest evaluation)"	example(region)
//	@Param			version	query	int	false	"KPI version (default: the KPI's default version)"
//	@Param			where	query	string	false	"CEL condition on customer features restricting the customers counted"
//	@Param			format	query	string	false	"output format; without it the Accept header chooses (q-values honoured): application/json, text/csv, application/x-ndjson, application/vnd.apache.arrow.stream, application/vnd.apache.parquet"	Enums(json, csv, ndjson, arrow, parquet)
//	@Param			shape	query	string	false	"JSON only: envelope (default) answers the object with its rows; records answers the bare array of rows (pandas.read_json reads it)"	Enums(envelope, records)
//	@Param			inactive_days	query	number	false	"KPI parameter of churn_rate v2: days without an order after which a customer counts as churned (default 90)"
//	@Param			cycle_multiplier	query	number	false	"KPI parameter of suspected_churn_rate: a customer is suspected churned after this many of their usual order cycles without an order (default 2)"
//	@Param			weights	query	string	false	"KPI parameter of csi: score weights as column:weight pairs, comma-separated (score_a:0.4,score_b:0.6); default equal"
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	KPIValues	"the values: JSON, or the rows in the format asked for"
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter, unknown_dimension, result_too_large: a parameter is malformed, a dimension unknown, or the answer would pass the row cap"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"unknown_kpi, unknown_version: no such KPI, or no such version of it"
//	@Failure		406	{object}	ErrorBody	"not_acceptable: Accept names no format offered (and no wildcard)"
//	@Failure		409	{object}	ErrorBody	"missing_dataset, missing_column: the data the KPI needs is not loaded"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Header			200	{integer}	X-KPI-Version	"the KPI version that answered"
//	@Header			200	{boolean}	X-KPI-Default-Version	"true when no version was asked for (the default answered)"
//	@Header			200	{string}	X-Data-Fingerprint	"fingerprint of the data the answer was computed from"
//	@Header			200	{string}	Server-Timing	"kpi;dur=MILLISECONDS;desc=PATH: time spent computing the answer, and how: fast (shared per-customer tables), plain (the KPI version's macro) or cache (a stored answer; dur is the original time)"
//	@Header			200	{string}	Content-Disposition	"inline; filename=KPI.csv (.arrows, .parquet, .ndjson) for the non-JSON formats"
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
	c.Header("X-KPI-Version", strconv.Itoa(res.Version))
	c.Header("X-KPI-Default-Version", strconv.FormatBool(q.Version == 0))
	c.Header("X-Data-Fingerprint", res.Fingerprint)
	c.Header("Server-Timing", fmt.Sprintf("kpi;dur=%.1f;desc=%q", float64(res.Elapsed)/float64(time.Millisecond), res.Path))
	if records {
		s.writeTable(c, format, res.KPI, res.Columns, res.Types, res.Rows)
		return
	}
	s.writeJSON(c, http.StatusOK, res)
}
