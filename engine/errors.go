package engine

import (
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
	CodeUnauthenticated  = fault.CodeUnauthenticated
	CodeForbidden        = fault.CodeForbidden
	CodeResultTooLarge   = fault.CodeResultTooLarge
	CodeOutOfMemory      = fault.CodeOutOfMemory
)

var (
	// Errorf builds a caller-fault error.
	Errorf = fault.Errorf
	// ErrorCode returns the code of a caller-fault error, or "".
	ErrorCode    = fault.ErrorCode
	invalidParam = fault.InvalidParam
)

// contextErr turns a query that died of its context into a typed error.
var contextErr = fault.FromContext

// errBusy is a read that lost the race against writes too many times.
func errBusy(what string) error {
	return &Error{Code: CodeBusy, Message: what + ": the data changed while the request was planned, repeatedly; try again"}
}
