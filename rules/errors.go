package rules

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotTranslatable marks a rule set or condition that uses something the
// SQL translator does not support. Callers fall back to Go evaluation; the
// wrapping error names the rule and the construct.
var ErrNotTranslatable = errors.New("not translatable to SQL")

// RuleError is one problem found in a rule set, located in the document.
type RuleError struct {
	// Rule is the 1-based index of the rule, 0 for a document-level problem.
	Rule int `json:"rule"`
	// Line and Column are 1-based positions in the document (or in the
	// expression, for a condition or a rule set not parsed from a document);
	// 0 when unknown.
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

func (e RuleError) String() string {
	var b strings.Builder
	if e.Rule > 0 {
		fmt.Fprintf(&b, "rule %d: ", e.Rule)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	b.WriteString(e.Message)
	return b.String()
}

// InvalidError reports everything wrong with a rule set or a condition: the
// caller's fault, refused at save time. It carries all errors, not the first.
type InvalidError struct {
	Errors []RuleError
}

func (e *InvalidError) Error() string {
	switch len(e.Errors) {
	case 0:
		return "invalid rule set"
	case 1:
		return "invalid rule set: " + e.Errors[0].String()
	}
	parts := make([]string, len(e.Errors))
	for i, re := range e.Errors {
		parts[i] = re.String()
	}
	return fmt.Sprintf("invalid rule set: %d errors: %s", len(e.Errors), strings.Join(parts, "; "))
}

// errorList accumulates RuleErrors and turns into an *InvalidError or nil.
type errorList []RuleError

func (l *errorList) add(rule, line, col int, format string, args ...any) {
	*l = append(*l, RuleError{Rule: rule, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

func (l errorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return &InvalidError{Errors: append([]RuleError(nil), l...)}
}
