package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"custkpi/engine"
)

// ErrorBody is the body of every error answer (API.md).
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail: code is a stable machine word, message is for people.
type ErrorDetail struct {
	Code    string         `json:"code" example:"invalid_parameter"`
	Message string         `json:"message" example:"invalid parameter \"from\": \"2024-13-01\" is not a date (YYYY-MM-DD)"`
	Details map[string]any `json:"details,omitempty"`
}

// statusOf is the one place where an error code becomes an HTTP status.
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
}

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

func (s *Server) fail(c *gin.Context, err error) {
	status, body := errorResponse(err, s.log)
	c.Abort()
	s.writeJSON(c, status, body)
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
