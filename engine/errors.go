package engine

import (
	"context"
	"errors"
	"fmt"

	"custkpi/fault"
)

// The error vocabulary lives in package fault, below every package that
// raises it; these names keep the engine's callers (api, cmd) unchanged.
type (
	Code  = fault.Code
	Error = fault.Error
)

const (
	CodeInvalidParameter = fault.CodeInvalidParameter
	CodeUnknownKPI       = fault.CodeUnknownKPI
	CodeUnknownVersion   = fault.CodeUnknownVersion
	CodeUnknownDimension = fault.CodeUnknownDimension
	CodeUnknownKind      = fault.CodeUnknownKind
	CodeInvalidDataset   = fault.CodeInvalidDataset
	CodeMissingDataset   = fault.CodeMissingDataset
	CodeMissingColumn    = fault.CodeMissingColumn
	CodeNotFound         = fault.CodeNotFound
	CodeTimeout          = fault.CodeTimeout
	CodeCanceled         = fault.CodeCanceled
	CodeInvalidRuleset   = fault.CodeInvalidRuleset
	CodeInvalidModel     = fault.CodeInvalidModel
	CodeNotConverged     = fault.CodeNotConverged
	CodeBusy             = fault.CodeBusy
)

var (
	// Errorf builds a caller-fault error.
	Errorf = fault.Errorf
	// ErrorCode returns the code of a caller-fault error, or "".
	ErrorCode    = fault.ErrorCode
	invalidParam = fault.InvalidParam
)

// contextErr turns a query that died of its context into a typed error, so a
// deadline becomes "timeout" and not an internal error. DuckDB reports an
// interrupted query with its own message; the context tells why.
func contextErr(ctx context.Context, err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Code: CodeTimeout, Message: what + ": query timed out", Err: err}
	case errors.Is(ctx.Err(), context.Canceled):
		return &Error{Code: CodeCanceled, Message: what + ": request canceled", Err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// errBusy is a read that lost the race against writes too many times.
func errBusy(what string) error {
	return &Error{Code: CodeBusy, Message: what + ": the data changed while the request was planned, repeatedly; try again"}
}
