package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// MustExist refuses a missing file and leaves none behind; without it the
// file is created, and then MustExist opens it.
func TestOpenMustExist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "missing.duckdb")
	_, err := Open(ctx, Options{Path: path, MustExist: true})
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), path) {
		t.Fatalf("open missing with MustExist: %v, want ErrNoDatabase naming %s", err, path)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused open left %s behind (%v)", path, err)
	}
	e, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatalf("open to create: %v", err)
	}
	e.Close()
	e, err = Open(ctx, Options{Path: path, MustExist: true})
	if err != nil {
		t.Fatalf("open existing with MustExist: %v", err)
	}
	e.Close()
	// In memory there is no file to require.
	e, err = Open(ctx, Options{MustExist: true})
	if err != nil {
		t.Fatalf("in-memory with MustExist: %v", err)
	}
	e.Close()
}

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

// A database file gets DefaultMemoryLimit (or the one asked for), so DuckDB
// spills rather than growing the process to 80% of the machine's RAM.
func TestOpenMemoryLimit(t *testing.T) {
	for _, c := range []struct{ limit, want string }{{"", "953.6 MiB"}, {"512MB", "488.2 MiB"}} {
		e, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "m.duckdb"), MemoryLimit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := e.DB().QueryRow("SELECT current_setting('memory_limit')").Scan(&got); err != nil {
			t.Fatal(err)
		}
		e.Close()
		if got != c.want {
			t.Errorf("MemoryLimit %q: memory_limit is %s, want %s", c.limit, got, c.want)
		}
	}
}
