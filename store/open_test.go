package store

import (
	"errors"
	"testing"
)

// DuckDB's lock conflict message names the holder; other errors are not
// lock conflicts. (cmd/custkpi's TestLockedDatabase holds a real lock.)
func TestLockConflict(t *testing.T) {
	// DuckDB 1.4.3's words, and older ones that name the user too.
	for _, msg := range []string{
		`database/sql/driver: could not connect to database: IO Error: Could not set lock on file "/tmp/x/shop.duckdb": ` +
			`Conflicting lock is held in /usr/local/bin/custkpi (PID 4242). See also https://duckdb.org/docs/stable/connect/concurrency`,
		`IO Error: Could not set lock on file "/tmp/x/shop.duckdb": Conflicting lock is held in /usr/local/bin/custkpi (PID 4242) by user root. See also ...`,
	} {
		duck := errors.New(msg)
		le := lockConflict("/tmp/x/shop.duckdb", duck)
		if le == nil || le.PID != 4242 || le.Program != "/usr/local/bin/custkpi" || !errors.Is(le, duck) {
			t.Fatalf("lock conflict read as %+v", le)
		}
		if want := `database "/tmp/x/shop.duckdb" is locked by another process (PID 4242, /usr/local/bin/custkpi)`; le.Error() != want {
			t.Errorf("message %q, want %q", le.Error(), want)
		}
	}
	noPID := lockConflict("a.duckdb", errors.New(`IO Error: Could not set lock on file "a.duckdb": Resource temporarily unavailable`))
	if noPID == nil || noPID.PID != 0 || noPID.Error() != `database "a.duckdb" is locked by another process` {
		t.Errorf("lock conflict without a PID read as %+v", noPID)
	}
	if lockConflict("a.duckdb", errors.New("IO Error: Cannot open file")) != nil {
		t.Error("another IO error read as a lock conflict")
	}
}
