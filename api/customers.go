package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
	"custkpi/render"
)

// CustomerList is GET /v1/customers.
type CustomerList struct {
	Total int64            `json:"total" example:"10000"`
	Rows  []map[string]any `json:"rows" extensions:"x-cells"`
}

func intParam(c *gin.Context, name string) (int, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter %q: %q is not an integer", name, v), map[string]any{"parameter": name})
	}
	return n, nil
}

// listCustomers godoc
//
//	@ID				listCustomers
//	@Summary		Customers with their features
//	@Description	Per-customer features (KPIS.md) as of the day after the latest order, filtered by a CEL condition, sorted by any feature.
//	@Tags			customers
//	@Produce		json
//	@Produce		text/csv
//	@Produce		application/x-ndjson
//	@Produce		application/vnd.apache.arrow.stream
//	@Produce		application/vnd.apache.parquet
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			where	query	string	false	"CEL condition on features"	example(monetary > 500.0)
//	@Param			order_by	query	string	false	"feature to sort by"	example(monetary)
//	@Param			desc	query	bool	false	"sort descending"
//	@Param			limit	query	int	false	"page size (default 100, at most 10000)"
//	@Param			offset	query	int	false	"rows to skip"
//	@Param			format	query	string	false	"output format; without it the Accept header chooses (q-values honoured): application/json, text/csv, application/x-ndjson, application/vnd.apache.arrow.stream, application/vnd.apache.parquet"	Enums(json, csv, ndjson, arrow, parquet)
//	@Param			shape	query	string	false	"JSON only: envelope (default) answers the object with its rows; records answers the bare array of rows (pandas.read_json reads it)"	Enums(envelope, records)
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	CustomerList	"a page: JSON, or its rows in the format asked for"
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		400	{object}	ErrorBody	"invalid_parameter: a parameter is malformed (a CEL condition that does not compile, an unknown feature)"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		406	{object}	ErrorBody	"not_acceptable: Accept names no format offered (and no wildcard)"
//	@Failure		409	{object}	ErrorBody	"missing_dataset: the features need customers and orders"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Header			200	{string}	Link	"the next and previous pages (RFC 8288: rel=next, rel=prev), as URLs with limit and offset"
//	@Header			200	{integer}	X-Total-Count	"rows in all pages"
//	@Header			200	{string}	Content-Disposition	"inline; filename=customers.csv (.arrows, .parquet, .ndjson) for the non-JSON formats"
//	@Router			/customers [get]
func (s *Server) listCustomers(c *gin.Context) {
	format, records, err := tableFormat(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	q := engine.CustomerQuery{Where: c.Query("where"), OrderBy: c.Query("order_by")}
	if v := c.Query("desc"); v != "" {
		if q.Desc, err = strconv.ParseBool(v); err != nil {
			s.fail(c, badRequest("invalid_parameter", fmt.Sprintf("invalid parameter \"desc\": %q is not true or false", v), map[string]any{"parameter": "desc"}))
			return
		}
	}
	if q.Limit, err = intParam(c, "limit"); err != nil {
		s.fail(c, err)
		return
	}
	if q.Offset, err = intParam(c, "offset"); err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.eng.Customers(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	pageHeaders(c, page)
	if records {
		s.writeTable(c, format, "customers", page.Columns, page.Types, rowsOf(page.Columns, page.Rows))
		return
	}
	s.writeJSON(c, http.StatusOK, CustomerList{Total: page.Total, Rows: finiteRows(page.Rows)})
}

// getCustomer godoc
//
//	@ID				getCustomer
//	@Summary		One customer
//	@Description	The customer's features, tier in every evaluated rule set, and recent orders, surveys and tickets.
//	@Tags			customers
//	@Produce		json
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			id	path	string	true	"customer_id"
//	@Param			If-None-Match	header	string	false	"ETag of an earlier answer: 304 when it still holds"
//	@Success		200	{object}	engine.CustomerDetail
//	@Success		304	"not modified: the representation named by If-None-Match is still current"
//	@Failure		401	{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		404	{object}	ErrorBody	"not_found: no such customer"
//	@Failure		409	{object}	ErrorBody	"missing_dataset: the features need customers and orders"
//	@Failure		503	{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504	{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200,304	{string}	ETag	"entity tag of the answer (RFC 9110); changes when the data does"
//	@Header			200,304	{string}	Cache-Control	"private, no-cache: a private cache may keep the answer and must revalidate it with If-None-Match"
//	@Header			200	{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/customers/{id} [get]
func (s *Server) getCustomer(c *gin.Context) {
	d, err := s.eng.Customer(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, d)
}

// finiteRows makes the non-finite numbers of rows null, as every encoder
// does (the engine's scan already does; a row computed in Go might not).
func finiteRows(rows []map[string]any) []map[string]any {
	for _, r := range rows {
		for k, v := range r {
			if f, ok := v.(float64); ok && !render.Finite(f) {
				r[k] = nil
			}
		}
	}
	return rows
}

// exportCustomers godoc
//
//	@ID				exportCustomers
//	@Summary		Every customer with features, in one answer
//	@Description	Every customer the key may see, with its features (as GET /customers, all pages at once), in one streamed answer (ordered by customer_id; money features rounded to cents), read a chunk at a time in one read transaction so memory stays bounded for a million customers: Parquet, CSV, Arrow IPC stream, NDJSON, or JSON as a bare array of row objects. Arrow and Parquet columns have DuckDB's types. An error after the first bytes cuts the connection (the body is then incomplete, never silently short).
//	@Tags			customers
//	@Produce		json
//	@Produce		text/csv
//	@Produce		application/x-ndjson
//	@Produce		application/vnd.apache.arrow.stream
//	@Produce		application/vnd.apache.parquet
//	@Security		BearerAuth
//	@Security		ApiKeyAuth
//	@Param			format	query		string	false	"output format (or the Accept header)"	Enums(json, parquet, csv, arrow, ndjson)
//	@Param			where	query		string	false	"CEL condition on features"
//	@Success		200		{string}	string	"every customer's row"
//	@Failure		400		{object}	ErrorBody	"invalid_parameter: a parameter is malformed"
//	@Failure		401		{object}	ErrorBody	"unauthenticated: no API key, or an unknown or revoked one"
//	@Failure		406		{object}	ErrorBody	"not_acceptable: Accept names no format offered (and no wildcard)"
//	@Failure		409		{object}	ErrorBody	"missing_dataset: the features need customers and orders"
//	@Failure		503		{object}	ErrorBody	"busy, out_of_memory: the query lost the race against writes repeatedly, or reached --memory-limit; try again (Retry-After)"
//	@Failure		504		{object}	ErrorBody	"timeout: the query ran past the server's timeout"
//	@Header			200		{string}	Content-Disposition	"attachment; filename=customers.parquet (.csv, .arrows, .ndjson)"
//	@Header			200		{string}	Vary	"Accept, Accept-Encoding"
//	@Router			/customers/export [get]
func (s *Server) exportCustomers(c *gin.Context) {
	format, err := outputFormat(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	w := &streamWriter{c: c, format: format, name: "customers", headOnly: requestMethod(c) == http.MethodHead}
	err = s.eng.ExportCustomers(c.Request.Context(), c.Query("where"), w)
	if err == nil && w.enc != nil {
		err = w.enc.Close()
	}
	switch {
	case err == nil, errors.Is(err, errHeadersSent):
	case !w.started():
		c.Writer.Header().Del("Content-Disposition")
		s.fail(c, err)
	default:
		// The status and part of the body are out: cut the connection so
		// the client sees a broken transfer, not a complete short file.
		s.log.Error("export cut", "path", c.Request.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// streamWriter encodes a table straight onto the response as the engine
// reads it: the headers go out with the schema, then rows as they come.
type streamWriter struct {
	c      *gin.Context
	format string
	name   string
	enc    render.Encoder
	// headOnly: a HEAD asks for the headers alone, so the export stops
	// once they are known rather than read every customer for nothing.
	headOnly bool
}

// errHeadersSent stops an export after its headers, for a HEAD.
var errHeadersSent = errors.New("headers sent")

func (w *streamWriter) Begin(cols, types []string) error {
	w.c.Header("Content-Type", contentType(w.format))
	tableHeaders(w.c, w.format, w.name)
	w.c.Status(http.StatusOK)
	if w.headOnly {
		w.c.Writer.WriteHeaderNow()
		return errHeadersSent
	}
	enc, err := render.NewEncoder(w.c.Writer, w.format, cols, types)
	w.enc = enc
	return err
}

func (w *streamWriter) Row(row []any) error { return w.enc.Write(row) }

// started tells whether any byte of the answer has gone out.
func (w *streamWriter) started() bool { return w.c.Writer.Written() }
