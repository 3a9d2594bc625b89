package fault

import (
	"fmt"
	"testing"
)

func TestCodesSurviveWrapping(t *testing.T) {
	err := fmt.Errorf("kpi revenue: %w", InvalidParam("from", "%q is not a date", "2024-13-01"))
	if ErrorCode(err) != CodeInvalidParameter {
		t.Fatalf("code %q", ErrorCode(err))
	}
	var e *Error
	if !asError(err, &e) || e.Details["parameter"] != "from" || e.Message != `invalid parameter "from": "2024-13-01" is not a date` {
		t.Errorf("%+v", e)
	}
	if ErrorCode(fmt.Errorf("disk on fire")) != "" {
		t.Error("an internal error has a code")
	}
}

func asError(err error, target **Error) bool {
	for err != nil {
		if e, ok := err.(*Error); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
