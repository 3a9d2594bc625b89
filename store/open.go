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
	// MemoryLimit caps what DuckDB holds in memory (its memory_limit, e.g.
	// "2GB", "512MB"): past it, sorts, joins, aggregates and temporary data
	// spill to TempDirectory instead of growing the process; a query that
	// cannot spill fails with DuckDB's out-of-memory error. "": half of the
	// machine's memory (or of the container's limit, when lower), and at
	// most DefaultMemoryLimit for a database file; an in-memory database,
	// whose tables live within the limit too, gets the whole half (DuckDB's
	// own default, 80% of RAM, when the memory cannot be read). "duckdb"
	// keeps DuckDB's default.
	MemoryLimit string
	// TempDirectory is where DuckDB spills (its temp_directory); "": next to
	// the database file (<path>.tmp, DuckDB's default), or custkpi-<pid>.tmp
	// in the system's temp directory for an in-memory database.
	TempDirectory string
}

// DefaultMemoryLimit is Options.MemoryLimit's default for a database file
// on a machine with at least 2 GiB (on a smaller one: half of its memory).
// DuckDB's own default, 80% of the machine's RAM, lets one import grow the
// server past what its machine or container can spare; with 1GB, importing
// ten million orders peaks at about 1.4 GiB of RSS (DuckDB allocates some
// memory outside its limit), spilling where a sort or an aggregate needs
// more. Raise it (custkpi --memory-limit) on a machine of its own.
const DefaultMemoryLimit = "1GB"

// bootSettings are the statements every new connection runs.
func bootSettings(opts Options) []string {
	if opts.MemoryLimit == "" {
		opts.MemoryLimit = defaultMemoryLimit(opts.Path, machineMemory())
	}
	if opts.TempDirectory == "" {
		opts.TempDirectory = defaultTempDirectory(opts.Path)
	}
	var settings []string
	if opts.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", opts.Threads))
	}
	if opts.MemoryLimit != "duckdb" {
		settings = append(settings, "SET memory_limit = "+QuoteString(opts.MemoryLimit))
	}
	if opts.TempDirectory != "" {
		settings = append(settings, "SET temp_directory = "+QuoteString(opts.TempDirectory))
	}
	return settings
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
	tuneMallocOnce()
	settings := bootSettings(opts)
	connector, err := duckdb.NewConnector(opts.Path, func(execer driver.ExecerContext) error {
		for _, q := range settings {
			if _, err := execer.ExecContext(ctx, q, nil); err != nil {
				return err
			}
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
