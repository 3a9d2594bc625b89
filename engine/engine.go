// Package engine opens the embedded DuckDB database, imports datasets, keeps
// the per-customer features, and runs the versioned KPI macros. Work happens
// inside DuckDB: Go composes one statement per request, binds the values and
// reads back the aggregated rows.
package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"custkpi/queries"
)

//go:embed sql/meta.sql
var metaSQL string

//go:embed sql/features.sql
var featuresSQL string

// Options configure an Engine.
type Options struct {
	// Path of the DuckDB database file; "" or ":memory:" for in-memory.
	Path string
	// QueryTimeout bounds every KPI and customer query (0: no bound beyond
	// the caller's context). A timed-out query is interrupted inside DuckDB.
	QueryTimeout time.Duration
	// Threads DuckDB may use (0: DuckDB's default, the number of cores).
	Threads int
	// CacheEntries is the number of KPI results kept (0: 512; <0: no cache).
	CacheEntries int
	// MustExist refuses a database file that is not there (ErrNoDatabase)
	// instead of creating an empty one: for callers that only read, to
	// which a new database could only answer zeros.
	MustExist bool
	Logger    *slog.Logger
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

// Engine is safe for concurrent use. Imports are serialised; queries run in
// parallel on DuckDB's connection pool.
type Engine struct {
	db      *sql.DB
	conn    *duckdb.Connector
	opts    Options
	log     *slog.Logger
	catalog *Catalog
	cache   *resultCache

	importMu sync.Mutex // one import (or other write) at a time

	mu       sync.RWMutex
	datasets map[string]*DatasetInfo // loaded datasets by kind
	dataEnd  time.Time               // day after the latest order (zero: no orders)
}

// Open opens (creating when absent, unless MustExist) the database and makes it ready: the
// canonical tables, the metadata tables, the feature macros and every KPI
// version's macro.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Path == ":memory:" {
		opts.Path = ""
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MustExist {
		if err := checkExists(opts.Path); err != nil {
			return nil, err
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
			return nil, le
		}
		return nil, fmt.Errorf("open database %q: %w", opts.Path, err)
	}
	e := &Engine{
		db:       sql.OpenDB(connector),
		conn:     connector,
		opts:     opts,
		log:      opts.Logger,
		datasets: map[string]*DatasetInfo{},
		cache:    newResultCache(opts.CacheEntries),
	}
	if err := e.init(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Engine) init(ctx context.Context) error {
	for _, k := range Kinds {
		if _, err := e.db.ExecContext(ctx, k.emptyTableSQL()); err != nil {
			return fmt.Errorf("create table %s: %w", k.Name, err)
		}
	}
	if _, err := e.db.ExecContext(ctx, metaSQL); err != nil {
		return fmt.Errorf("create metadata tables: %w", err)
	}
	if _, err := e.db.ExecContext(ctx, featuresSQL); err != nil {
		return fmt.Errorf("create feature macros: %w", err)
	}
	defs, err := queries.Load()
	if err != nil {
		return err
	}
	if e.catalog, err = newCatalog(defs); err != nil {
		return err
	}
	if err := e.catalog.register(ctx, e.db); err != nil {
		return err
	}
	if err := e.loadState(ctx); err != nil {
		return err
	}
	if err := e.seedBuiltins(ctx); err != nil {
		return err
	}
	// A new database, or one written by an older build: make the features
	// table exist so customer queries answer (empty) before any import.
	var n int
	if err := e.db.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'customer_features'").Scan(&n); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if n == 0 {
		conn, err := e.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("open: %w", err)
		}
		defer conn.Close()
		return e.refreshDerived(ctx, conn)
	}
	return nil
}

// Close releases the database.
func (e *Engine) Close() error {
	err := e.db.Close()
	if cerr := e.conn.Close(); err == nil {
		err = cerr
	}
	return err
}

// DB is the database handle, for packages of the engine (models, rules
// storage) and for tests; callers must not write canonical tables through it.
func (e *Engine) DB() *sql.DB { return e.db }

// Catalog returns the KPI catalog.
func (e *Engine) Catalog() *Catalog { return e.catalog }

// withTimeout applies the configured query timeout.
func (e *Engine) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if e.opts.QueryTimeout > 0 {
		return context.WithTimeout(ctx, e.opts.QueryTimeout)
	}
	return context.WithCancel(ctx)
}

// Health is what GET /v1/health reports.
type Health struct {
	DuckDBVersion string                  `json:"duckdb_version"`
	Datasets      map[string]*DatasetInfo `json:"datasets"`
}

// Health reports the DuckDB version and the datasets loaded.
func (e *Engine) Health(ctx context.Context) (*Health, error) {
	h := &Health{Datasets: map[string]*DatasetInfo{}}
	if err := e.db.QueryRowContext(ctx, "SELECT version()").Scan(&h.DuckDBVersion); err != nil {
		return nil, fmt.Errorf("health: %w", err)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for k, d := range e.datasets {
		if k != modelKind {
			h.Datasets[k] = d
		}
	}
	return h, nil
}

// DatasetInfo describes a loaded dataset.
type DatasetInfo struct {
	Kind       string    `json:"kind"`
	Rows       int64     `json:"rows"`
	Source     string    `json:"source"`
	Checksum   string    `json:"checksum"`
	ImportedAt time.Time `json:"imported_at"`
	Columns    []string  `json:"columns"`
	// Generation is the id of the import that produced the current data; it
	// keys cached results.
	Generation int64 `json:"generation"`
}

// loadState reads what is loaded from the metadata, so a reopened database
// knows its datasets, and computes the end of the data.
func (e *Engine) loadState(ctx context.Context) error {
	rows, err := e.db.QueryContext(ctx, `
		SELECT i.kind, i.id, i.source, i.checksum, i.imported_at, i.columns
		FROM meta_imports i
		WHERE i.id = (SELECT max(id) FROM meta_imports j WHERE j.kind = i.kind AND j.status = 'ok')`)
	if err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	defer rows.Close()
	datasets := map[string]*DatasetInfo{}
	for rows.Next() {
		d := &DatasetInfo{}
		var cols []any
		if err := rows.Scan(&d.Kind, &d.Generation, &d.Source, &d.Checksum, &d.ImportedAt, &cols); err != nil {
			return fmt.Errorf("load state: %w", err)
		}
		for _, c := range cols {
			if s, ok := c.(string); ok {
				d.Columns = append(d.Columns, s)
			}
		}
		datasets[d.Kind] = d
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	for kind, d := range datasets {
		if err := e.db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(kind)).Scan(&d.Rows); err != nil {
			return fmt.Errorf("load state: count %s: %w", kind, err)
		}
	}
	// A fitted model is a pseudo-dataset: KPIs on its scores require it, and
	// its fit id keys their cached answers.
	var fit sql.NullInt64
	var fittedAt sql.NullTime
	if err := e.db.QueryRowContext(ctx, "SELECT max(id), max(fitted_at) FROM meta_model_fits WHERE model = 'clv'").Scan(&fit, &fittedAt); err != nil {
		return fmt.Errorf("load state: model fits: %w", err)
	}
	if fit.Valid {
		datasets[modelKind] = &DatasetInfo{Kind: modelKind, Generation: fit.Int64, ImportedAt: fittedAt.Time, Source: "POST /v1/models/clv/fit"}
	}
	var end sql.NullTime
	if err := e.db.QueryRowContext(ctx,
		`SELECT date_trunc('day', max(order_date)) + INTERVAL 1 DAY FROM orders`).Scan(&end); err != nil {
		return fmt.Errorf("load state: end of data: %w", err)
	}
	e.mu.Lock()
	e.datasets = datasets
	e.dataEnd = end.Time
	e.mu.Unlock()
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tableColumns lists a table's columns in order.
func (e *Engine) tableColumns(ctx context.Context, q querier, table string) ([]string, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT column_name FROM information_schema.columns
		 WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// dataset returns the loaded dataset of kind, or nil.
func (e *Engine) dataset(kind string) *DatasetInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.datasets[kind]
}

// DataEnd is the day after the latest order: the default end of a window and
// the default as-of date of features. Zero when no orders are loaded.
func (e *Engine) DataEnd() time.Time {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.dataEnd
}

var errNoOrders = errors.New("no orders loaded")
