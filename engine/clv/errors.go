package clv

import "fmt"

// InputError reports input that the models cannot use: a bad option or data
// that cannot identify the model. Callers can show Message to the user as is;
// Field names the option or data column at fault.
type InputError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *InputError) Error() string {
	return fmt.Sprintf("clv: invalid %s: %s", e.Field, e.Message)
}

func inputErrorf(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Message: fmt.Sprintf(format, args...)}
}
