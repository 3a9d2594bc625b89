// Package fault is the one error vocabulary of custkpi: a stable code for
// each way a caller can be wrong (or a request can fail for a reason the
// caller should know), a message that names what is wrong, and details for
// machines. Every package below the API returns these; the api package maps
// each code to an HTTP status in one place.
package fault

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Code is a stable machine word for an error the caller caused. The api
// package maps each code to an HTTP status in one place.
type Code string

const (
	CodeInvalidParameter Code = "invalid_parameter"
	CodeUnknownKPI       Code = "unknown_kpi"
	CodeUnknownVersion   Code = "unknown_version"
	CodeUnknownDimension Code = "unknown_dimension"
	CodeUnknownKind      Code = "unknown_dataset_kind"
	CodeInvalidDataset   Code = "invalid_dataset"
	CodeMissingDataset   Code = "missing_dataset"
	CodeMissingColumn    Code = "missing_column"
	CodeNotFound         Code = "not_found"
	CodeTimeout          Code = "timeout"
	CodeCanceled         Code = "canceled"
	CodeInvalidRuleset   Code = "invalid_ruleset"
	CodeInvalidModel     Code = "invalid_model_input"
	CodeNotConverged     Code = "model_not_converged"
	// CodeBusy: try again later. A read whose plan lost the race against
	// writes repeatedly, or a write whose context ended while another write
	// held the write lock (nothing of it ran).
	CodeBusy Code = "busy"
	// CodeUnauthenticated: no key, or an unknown or revoked one.
	CodeUnauthenticated Code = "unauthenticated"
	// CodeForbidden: the key's role or scope does not allow the call.
	CodeForbidden Code = "forbidden"
	// CodeResultTooLarge: the estimated rows of an answer exceed the cap;
	// refused before it runs.
	CodeResultTooLarge Code = "result_too_large"
	// CodeOutOfMemory: DuckDB hit its memory limit (and could not spill).
	CodeOutOfMemory Code = "out_of_memory"
)

// Error is an error the caller can fix: it names what is wrong. Details carry
// machine-readable context (the parameter, the file and column, the rows).
type Error struct {
	Code    Code
	Message string
	Details map[string]any
	Err     error // the underlying cause, if any
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a caller-fault error.
func Errorf(code Code, details map[string]any, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...), Details: details}
}

// InvalidParam names the bad query parameter, as prometheus' invalidParamError.
func InvalidParam(param, format string, a ...any) *Error {
	return &Error{
		Code:    CodeInvalidParameter,
		Message: fmt.Sprintf("invalid parameter %q: %s", param, fmt.Sprintf(format, a...)),
		Details: map[string]any{"parameter": param},
	}
}

// ErrorCode returns the code of a caller-fault error, or "" for anything else.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// FromContext turns a query that died of its context into a typed error, so a
// deadline becomes "timeout" and not an internal error. DuckDB reports an
// interrupted query with its own message; the context tells why.
func FromContext(ctx context.Context, err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: what + ": query timed out", Err: err}
	case errors.Is(ctx.Err(), context.Canceled):
		return &Error{Code: CodeCanceled, Message: what + ": request canceled", Err: err}
	case strings.Contains(err.Error(), "Out of Memory Error"):
		// DuckDB reached its memory_limit with what it cannot spill.
		return &Error{Code: CodeOutOfMemory, Err: err,
			Message: what + ": the query needs more memory than the server's limit (--memory-limit); narrow it (a shorter window, a coarser grain, fewer dimensions) or raise the limit"}
	}
	return fmt.Errorf("%s: %w", what, err)
}
