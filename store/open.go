package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// Options configure how the database is opened.
type Options struct {
	// Path of the DuckDB database file; "" or ":memory:" for in-memory.
	Path string
	// Threads DuckDB may use (0: DuckDB's default, the number of cores).
	Threads int
	// MustExist refuses a database file that is not there (ErrNoDatabase)
	// instead of creating an empty one: for callers that only read, to
	// which a new database could only answer zeros.
	MustExist bool
}

// openDB opens the DuckDB handle with the boot settings every connection of
// the pool gets.
func openDB(ctx context.Context, opts Options) (*sql.DB, *duckdb.Connector, error) {
	if opts.Path == ":memory:" {
		opts.Path = ""
	}
	if opts.MustExist {
		if err := checkExists(opts.Path); err != nil {
			return nil, nil, err
		}
	}
	threads := opts.Threads
	connector, err := duckdb.NewConnector(opts.Path, func(execer driver.ExecerContext) error {
		if threads > 0 {
			_, err := execer.ExecContext(ctx, fmt.Sprintf("SET threads = %d", threads), nil)
			return err
		}
		return nil
	})
	if err != nil {
		if le := lockConflict(opts.Path, err); le != nil {
			return nil, nil, le
		}
		return nil, nil, fmt.Errorf("open database %q: %w", opts.Path, err)
	}
	return sql.OpenDB(connector), connector, nil
}

// ErrNoDatabase is returned by Open with MustExist when the file is absent.
var ErrNoDatabase = errors.New("database file does not exist")

// LockedError is returned by Open when another process holds the database
// file: DuckDB lets one process open a file for writing at a time.
type LockedError struct {
	Path string
	// PID and Program of the holder, when DuckDB names them (0 and "" if not).
	PID     int
	Program string
	Err     error // DuckDB's error
}

func (e *LockedError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("database %q is locked by another process", e.Path)
	}
	return fmt.Sprintf("database %q is locked by another process (PID %d, %s)", e.Path, e.PID, e.Program)
}

func (e *LockedError) Unwrap() error { return e.Err }

// lockHolder finds the holder in DuckDB's lock conflict message: `IO Error:
// Could not set lock on file "x.duckdb": Conflicting lock is held in
// /usr/bin/custkpi (PID 4242) by user root. See also ...`. The driver
// passes the message on as text only, so the text is all there is to match.
var lockHolder = regexp.MustCompile(`held in (.+?) \(PID (\d+)\)`)

// lockConflict reads DuckDB's lock conflict error as a LockedError; nil for
// any other error.
func lockConflict(path string, err error) *LockedError {
	msg := err.Error()
	if !strings.Contains(msg, "Could not set lock on file") {
		return nil
	}
	le := &LockedError{Path: path, Err: err}
	if m := lockHolder.FindStringSubmatch(msg); m != nil {
		le.Program = m[1]
		le.PID, _ = strconv.Atoi(m[2])
	}
	return le
}

// checkExists is MustExist's check, made before DuckDB would create the file.
func checkExists(path string) error {
	if path == "" {
		return nil // in-memory: there is no file to find
	}
	_, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("open database %q: %w", path, ErrNoDatabase)
	case err != nil:
		return fmt.Errorf("open database %q: %w", path, err)
	}
	return nil
}
