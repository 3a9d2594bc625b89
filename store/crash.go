package store

import (
	"os"
	"strings"
	"syscall"
	"time"
)

// crashEnv names the points at which the process kills itself with SIGKILL,
// for the crash tests: CUSTKPI_CRASH_AT=commit makes the next write die just
// before its commit. The points are "staged" (an import's data is in the
// transaction), "derive" (before the feature rebuild), "deriving" (a kill
// 100 ms into it), "commit" (before the commit), "committed" (after the
// commit, before the answer) and "indexing" (the first of the fast path's
// tables rebuilt after the commit, before their stamp). Several may
// be listed, comma-separated. Unset, as in production, it costs one lookup
// at start-up.
const crashEnv = "CUSTKPI_CRASH_AT"

var crashAt = parseCrashPoints(os.Getenv(crashEnv))

func parseCrashPoints(v string) map[string]bool {
	if v == "" {
		return nil
	}
	out := map[string]bool{}
	for _, p := range strings.Split(v, ",") {
		out[strings.TrimSpace(p)] = true
	}
	return out
}

// CrashPoint dies the way kill -9 kills when the point is armed: no deferred
// function, no flush, no goodbye.
func CrashPoint(name string) {
	if crashAt[name] {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}

// CrashSoon arms a kill that lands while the work after it runs: the
// process dies after the delay, wherever it then is (inside a long
// statement, for the crash tests' "during the feature rebuild").
func CrashSoon(name string, after time.Duration) {
	if crashAt[name] {
		go func() {
			time.Sleep(after)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}()
	}
}
