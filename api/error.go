package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// ErrorBody is the body of every error answer (API.md).
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail: code is a stable machine word, message is for people. The
// enums tag lists every code the server answers (the fault package's, the
// api layer's, the binary's not_ready): clients can switch on it, and
// TestErrorCodesDocumented keeps it complete.
type ErrorDetail struct {
	Code    string         `json:"code" example:"invalid_parameter" enums:"invalid_parameter,invalid_body,unknown_kpi,unknown_version,unknown_dimension,unknown_dataset_kind,invalid_dataset,invalid_ruleset,invalid_model_input,missing_dataset,missing_column,not_found,result_too_large,unauthenticated,forbidden,method_not_allowed,not_acceptable,too_large,unsupported_media_type,host_not_allowed,model_not_converged,canceled,internal,busy,out_of_memory,not_ready,shutting_down,timeout"`
	Message string         `json:"message" example:"invalid parameter \"from\": \"2024-13-01\" is not a date (YYYY-MM-DD)"`
	Details map[string]any `json:"details,omitempty"`
	// RequestID is the request's X-Request-ID, as in the server's log.
	RequestID string `json:"request_id,omitempty" example:"3QZ7KJ2M4XW6N5B8VCT1RYHGDF"`
}

// statusOf is the one place where an error code becomes an HTTP status.
//
// busy is 503 with Retry-After (retryAfterSeconds): a write that waited for
// the write lock until its deadline while another write held it (nothing of
// it ran), or a read that lost the race against writes repeatedly. Either is
// the server's state, not the request's fault; trying again later works.
// result_too_large is 400: the request asks for more rows than the cap
// (narrow the window, a coarser grain or fewer dimensions).
// out_of_memory is 503: DuckDB reached --memory-limit and could not spill.
var statusOf = map[engine.Code]int{
	engine.CodeInvalidParameter: http.StatusBadRequest,
	engine.CodeUnknownDimension: http.StatusBadRequest,
	engine.CodeInvalidDataset:   http.StatusBadRequest,
	engine.CodeInvalidRuleset:   http.StatusBadRequest,
	engine.CodeInvalidModel:     http.StatusBadRequest,
	engine.CodeUnknownKPI:       http.StatusNotFound,
	engine.CodeUnknownVersion:   http.StatusNotFound,
	engine.CodeUnknownKind:      http.StatusNotFound,
	engine.CodeNotFound:         http.StatusNotFound,
	engine.CodeMissingDataset:   http.StatusConflict,
	engine.CodeMissingColumn:    http.StatusConflict,
	engine.CodeNotConverged:     http.StatusUnprocessableEntity,
	engine.CodeTimeout:          http.StatusGatewayTimeout,
	engine.CodeCanceled:         499, // client closed the request (nginx's convention)
	engine.CodeBusy:             http.StatusServiceUnavailable,
	engine.CodeUnauthenticated:  http.StatusUnauthorized,
	engine.CodeForbidden:        http.StatusForbidden,
	engine.CodeResultTooLarge:   http.StatusBadRequest,
	engine.CodeOutOfMemory:      http.StatusServiceUnavailable,
}

// retryAfterSeconds is the Retry-After of a 503 answer.
const retryAfterSeconds = "5"

// httpError is an error the api layer itself raises (bad request syntax).
type httpError struct {
	status int
	body   ErrorDetail
}

func (e *httpError) Error() string { return e.body.Message }

func badRequest(code, message string, details map[string]any) error {
	return &httpError{status: http.StatusBadRequest, body: ErrorDetail{Code: code, Message: message, Details: details}}
}

// errorResponse maps any error to its status and body. Caller faults keep
// their message; anything else is logged and answered with a plain line.
func errorResponse(err error, log *slog.Logger) (int, ErrorBody) {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge, ErrorBody{Error: ErrorDetail{Code: "too_large",
			Message: fmt.Sprintf("the request body is over this server's limit of %d bytes", mb.Limit), Details: map[string]any{"limit": mb.Limit}}}
	}
	var he *httpError
	if errors.As(err, &he) {
		return he.status, ErrorBody{Error: he.body}
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		status, ok := statusOf[ee.Code]
		if !ok {
			status = http.StatusBadRequest
		}
		return status, ErrorBody{Error: ErrorDetail{Code: string(ee.Code), Message: ee.Message, Details: ee.Details}}
	}
	log.Error("internal error", "err", err)
	return http.StatusInternalServerError, ErrorBody{Error: ErrorDetail{Code: "internal", Message: "internal error; the server log has the cause"}}
}

// errorMessageKey keeps a failed request's message for the audit log.
const errorMessageKey = "custkpi.error"

func (s *Server) fail(c *gin.Context, err error) {
	if shuttingDown(c) {
		c.Set(errorMessageKey, "cut short by the shutdown: "+err.Error())
		s.failShutdown(c)
		return
	}
	status, body := errorResponse(err, s.log)
	c.Set(errorMessageKey, body.Error.Message)
	body.Error.RequestID = requestIDOf(c)
	uncacheable(c)
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", retryAfterSeconds)
	}
	c.Abort()
	s.writeJSON(c, status, body)
}

// uncacheable makes an answer that is not the resource (an error) carry
// no ETag and be kept by no cache. The ETag of a data answer is set before
// its handler runs (conditional.go), so a handler that fails takes it off.
func uncacheable(c *gin.Context) {
	c.Writer.Header().Del("ETag")
	c.Header("Cache-Control", cacheNever)
}

// internalBody is the answer to a bug: fixed bytes, so writing it cannot
// fail.
var internalBody = []byte(`{"error":{"code":"internal","message":"internal error; the server log has the cause"}}`)

// writeJSON answers v as JSON. It encodes into memory first, so a value
// that cannot be encoded (a NaN that escaped the engine's normalisation)
// is a logged 500 with the error body, never a 200 with an empty or
// truncated body, which is what gin's c.JSON leaves when encoding fails.
func (s *Server) writeJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode response", "path", c.Request.URL.Path, "query", c.Request.URL.RawQuery, "err", err)
		status, b = http.StatusInternalServerError, internalBody
	}
	c.Data(status, "application/json; charset=utf-8", b)
}

// tooLarge tells whether err is a body over its limit (413).
func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// maxJSONBody bounds a request body that is not an upload: a JSON or YAML
// document (rule sets are limited far below this).
const maxJSONBody = 1 << 20

// limitBody bounds every body but a multipart upload's (which readUpload
// bounds by MaxUploadBytes).
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil && !strings.HasPrefix(c.ContentType(), "multipart/") {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxJSONBody)
	}
	c.Next()
}
