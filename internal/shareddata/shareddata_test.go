package shareddata

import (
	"strings"
	"testing"
)

// recorder stands in for a test: it records a skip or a failure instead of
// ending the goroutine.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Skip(args ...any)               { r.skipped = args[0].(string) }
func (r *recorder) Fatalf(format string, a ...any) { r.failed = format }

// A missing file skips outside CI, naming what is missing and how to get
// it, and fails in CI.
func TestMissingSharedData(t *testing.T) {
	const rel = "data/no-such-folder/file.csv"
	t.Setenv(CIEnv, "")
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	Path(r, rel)
	if r.failed != "" || !strings.Contains(r.skipped, rel) || !strings.Contains(r.skipped, "../shared") {
		t.Errorf("outside CI: skipped %q, failed %q", r.skipped, r.failed)
	}
	for _, env := range []string{CIEnv, "CI"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(CIEnv, "")
			t.Setenv("CI", "")
			t.Setenv(env, "1")
			r := &recorder{TB: t}
			Path(r, rel)
			if r.skipped != "" || r.failed == "" {
				t.Errorf("with %s set: skipped %q, failed %q", env, r.skipped, r.failed)
			}
		})
	}
}
