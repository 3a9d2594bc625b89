// Package engine opens the embedded DuckDB database, imports datasets, keeps
// the per-customer features, and runs the versioned KPI macros. Work happens
// inside DuckDB: Go composes one statement per request, binds the values and
// reads back the aggregated rows.
package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"custkpi/kpi"
	"custkpi/queries"
	"custkpi/store"
)

//go:embed sql/meta.sql
var metaSQL string

//go:embed sql/features.sql
var featuresSQL string

// Options configure an Engine.
type Options struct {
	// Path of the DuckDB database file; "" or ":memory:" for in-memory.
	Path string
	// QueryTimeout bounds every request that reads (KPI values, scorecard,
	// variance, diff, customers, customer detail, assignments, transitions,
	// rule-set validation) and the small writes (targets, rule-set saves)
	// from its entry: planning, every statement, the Go rule path and the
	// scans share one deadline (0: no bound beyond the caller's context). A
	// timed-out query is interrupted inside DuckDB.
	QueryTimeout time.Duration
	// JobTimeout bounds the long writes, imports, rule-set evaluations and
	// CLV fits, whether they run as a job or within a request, waiting for
	// the write lock included (0: DefaultJobTimeout; <0: no bound beyond
	// the caller's context).
	JobTimeout time.Duration
	// Threads DuckDB may use (0: DuckDB's default, the number of cores).
	Threads int
	// MemoryLimit caps what DuckDB holds in memory (its memory_limit, e.g.
	// "2GB", "512MB"); see store.Options: "" is half of the machine's
	// memory (at most DefaultMemoryLimit for a file), "duckdb" DuckDB's own.
	MemoryLimit string
	// TempDirectory is where DuckDB spills (its temp_directory); "": beside
	// the database file, or custkpi-<pid>.tmp in the system's temp
	// directory for an in-memory database.
	TempDirectory string
	// MaxResultRows caps the rows of a KPI answer, estimated before it runs
	// (periods × distinct values of the by= dimensions); a request past it
	// is refused with result_too_large (0: DefaultMaxResultRows; <0: none).
	MaxResultRows int64
	// CacheEntries is the number of KPI results kept (0: 512; <0: no cache,
	// of KPI results nor of scorecards).
	CacheEntries int
	// WarmScorecard computes the default scorecard in the background after
	// every import (and once at open), so the first request for it finds
	// it stored: for a server.
	WarmScorecard bool
	// Inspect opens the database as it is, for custkpi check: no recovery,
	// no seeding, so nothing is repaired before it is looked at.
	Inspect bool
	// MustExist refuses a database file that is not there (ErrNoDatabase)
	// instead of creating an empty one: for callers that only read, to
	// which a new database could only answer zeros.
	MustExist bool
	// MinTime and MaxTime bound the dates and timestamps an import
	// accepts (MinTime inclusive, MaxTime exclusive); zero: 1900-01-01 and
	// 2200-01-01 (ingest.DefaultMinTime, DefaultMaxTime).
	MinTime, MaxTime time.Time
	Logger           *slog.Logger
	// Observer hears of KPI queries and imports, for metrics (nil: none).
	Observer Observer
}

// The store's open errors, named here for the CLI.
var ErrNoDatabase = store.ErrNoDatabase

// DefaultMemoryLimit is Options.MemoryLimit's default for a database file
// (see store.DefaultMemoryLimit).
const DefaultMemoryLimit = store.DefaultMemoryLimit

// DefaultJobTimeout is Options.JobTimeout's default: imports of ten million
// orders take about 15 s on a 2-core machine, a fit of a million customers
// 18 s; half an hour leaves room for far larger data and still ends a write
// that cannot finish (a file that never ends, a fit that never converges).
const DefaultJobTimeout = 30 * time.Minute

// LockedError: another process holds the database file.
type LockedError = store.LockedError

// Engine is safe for concurrent use. Writes are serialised and each one
// commits a new generation; queries run in parallel on DuckDB's connection
// pool, each against one generation (see store.go).
type Engine struct {
	store   *store.Store[*snapshot]
	db      *sql.DB // the store's handle
	opts    Options
	log     *slog.Logger
	catalog *kpi.Catalog
	cache   *resultCache
	alerts  alerting
	// scorecards keeps whole scorecards by generation and window.
	scorecards *scorecardCache
	// scorecardFlight joins the callers computing the same scorecard.
	scorecardFlight singleflight.Group
	// warming: the background scorecard after a write (warm), which
	// Close waits for after cancelling it.
	warming  sync.WaitGroup
	stopWarm context.CancelFunc
	warmCtx  context.Context
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
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	st, err := store.Open(ctx, store.Options{Path: opts.Path, Threads: opts.Threads, MustExist: opts.MustExist,
		MemoryLimit: opts.MemoryLimit, TempDirectory: opts.TempDirectory}, loadSnapshot)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		store: st,
		db:    st.DB(),
		opts:  opts,
		log:   opts.Logger,
		cache: newResultCache(opts.CacheEntries),

		scorecards: newScorecardCache(opts.CacheEntries),
	}
	e.alerts.stop, e.alerts.stopNow = context.WithCancel(context.Background())
	e.warmCtx, e.stopWarm = context.WithCancel(context.Background())
	if err := e.init(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Engine) init(ctx context.Context) error {
	defs, err := queries.Load()
	if err != nil {
		return err
	}
	if e.catalog, err = kpi.NewCatalog(defs); err != nil {
		return err
	}
	if err := createSchema(ctx, e.db, e.catalog); err != nil {
		return err
	}
	if err := e.store.Publish(ctx); err != nil {
		return err
	}
	if e.opts.Inspect {
		return nil
	}
	if err := e.recover(ctx); err != nil {
		return err
	}
	if err := e.seedBuiltins(ctx); err != nil {
		return err
	}
	e.warm()
	return nil
}

// createSchema creates the canonical and metadata tables, the feature
// macros and each KPI version's table macro, unless the database already
// has exactly these: the digest of the statements is stored last, and a
// database holding it is left untouched. An open that writes nothing also
// closes without a checkpoint (DuckDB checkpoints at close after any
// write: about 80 ms at a million customers, on every CLI command).
func createSchema(ctx context.Context, db *sql.DB, cat *kpi.Catalog) error {
	type ddl struct{ what, sql string }
	var stmts []ddl
	for _, k := range Kinds {
		stmts = append(stmts, ddl{"create table " + k.Name, k.EmptyTableSQL()})
	}
	stmts = append(stmts, ddl{"create metadata tables", metaSQL}, ddl{"create feature macros", featuresSQL})
	for _, k := range cat.List() {
		for _, d := range k.Versions {
			stmts = append(stmts, ddl{fmt.Sprintf("register KPI %s v%d (%s)", d.Name, d.Version, d.File), kpi.MacroSQL(d)})
		}
	}
	h := sha256.New()
	for _, s := range stmts {
		fmt.Fprintf(h, "%d\n%s\n", len(s.sql), s.sql)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	var stored sql.NullString
	// A database without the table (new, or from an older build) errs:
	// the statements run.
	if err := db.QueryRowContext(ctx, "SELECT max(digest) FROM meta_schema").Scan(&stored); err == nil && stored.String == digest {
		return nil
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s.sql); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE meta_schema AS SELECT ?::VARCHAR AS digest`, digest); err != nil {
		return fmt.Errorf("record the schema's digest: %w", err)
	}
	return nil
}

// Close stops the background work (alert evaluations, a scorecard
// warm-up) and releases the database.
func (e *Engine) Close() error {
	e.alerts.stopNow()
	e.stopWarm()
	e.alerts.bg.Wait()
	e.warming.Wait()
	return e.store.Close()
}

// DB is the database handle, for packages of the engine (models, rules
// storage) and for tests; callers must not write canonical tables through it.
func (e *Engine) DB() *sql.DB { return e.db }

// Catalog returns the KPI catalog.
func (e *Engine) Catalog() *kpi.Catalog { return e.catalog }

// withTimeout applies the configured query timeout. Every entry point
// applies it first thing; an entry called from another (the scorecard's
// KPI runs) keeps the earlier deadline of its caller, so a request has one
// deadline from its entry.
func (e *Engine) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if e.opts.QueryTimeout > 0 {
		return context.WithTimeout(ctx, e.opts.QueryTimeout)
	}
	return context.WithCancel(ctx)
}

// withJobTimeout applies the job timeout of the long writes.
func (e *Engine) withJobTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	switch {
	case e.opts.JobTimeout == 0:
		return context.WithTimeout(ctx, DefaultJobTimeout)
	case e.opts.JobTimeout > 0:
		return context.WithTimeout(ctx, e.opts.JobTimeout)
	}
	return context.WithCancel(ctx)
}

// Health is the state of the engine: the DuckDB version and the datasets.
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
	for k, d := range e.snap().datasets {
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
	ImportedAt time.Time `json:"imported_at" format:"date-time"`
	Columns    []string  `json:"columns"`
	// Generation is the generation of the write that last changed this
	// dataset; it keys cached results.
	Generation int64 `json:"generation"`
}

// loadSnapshot reads what the committed data holds: the datasets (from the
// import history), the latest fit and evaluations, and the end of the data.
func loadSnapshot(ctx context.Context, q store.Querier) (*snapshot, error) {
	s := &snapshot{evaluations: map[string]evaluationRef{}}
	if err := q.QueryRowContext(ctx, "SELECT generation FROM meta_state").Scan(&s.generation); err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	var err error
	if s.datasets, err = loadDatasets(ctx, q); err != nil {
		return nil, err
	}
	// A fitted model is a pseudo-dataset: KPIs on its scores require it, and
	// its generation keys their cached answers.
	var fit, fitGen sql.NullInt64
	var fittedAt sql.NullTime
	if err := q.QueryRowContext(ctx, `SELECT id, coalesce(generation, id), fitted_at FROM meta_model_fits
		WHERE model = 'clv' ORDER BY id DESC LIMIT 1`).Scan(&fit, &fitGen, &fittedAt); err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("load state: model fits: %w", err)
	}
	if fit.Valid {
		s.datasets[modelKind] = &DatasetInfo{Kind: modelKind, Generation: fitGen.Int64, ImportedAt: fittedAt.Time, Source: "clv fit"}
	}
	if s.evaluations, err = loadEvaluations(ctx, q); err != nil {
		return nil, err
	}
	var ordersGen int64
	if o := s.datasets["orders"]; o != nil {
		ordersGen = o.Generation
	}
	if s.dataEnd, err = recordedDataEnd(ctx, q, ordersGen); err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	if s.keys, err = loadKeys(ctx, q); err != nil {
		return nil, err
	}
	if err := loadFeatures(ctx, q, s); err != nil {
		return nil, err
	}
	if s.fastCurrent, err = fastTablesCurrent(ctx, q, fastStamp(s.datasets)); err != nil {
		return nil, err
	}
	if s.data, err = plannerData(ctx, q, s); err != nil {
		return nil, err
	}
	return s, nil
}

// loadFeatures reads the features' columns and builds their CEL schema.
func loadFeatures(ctx context.Context, q querier, s *snapshot) error {
	var err error
	if s.featureNames, s.featureTypes, err = featureColumns(ctx, q); err != nil {
		return err
	}
	if s.schema, err = buildSchema(s.featureNames, s.featureTypes); err != nil {
		return err
	}
	s.featuresAsOf = asOfFor(s.dataEnd)
	return nil
}

// plannerData is the snapshot as the KPI planner sees it.
func plannerData(ctx context.Context, q querier, s *snapshot) (*kpi.Data, error) {
	d := &kpi.Data{Generation: s.generation, DataEnd: s.dataEnd, Datasets: map[string]kpi.Dataset{}, Evaluations: map[string]kpi.Evaluation{}}
	var err error
	if d.CustomerColumns, err = tableColumns(ctx, q, "customers"); err != nil {
		return nil, err
	}
	for kind, ds := range s.datasets {
		pd := kpi.Dataset{Generation: ds.Generation, Columns: ds.Columns}
		if k, err := LookupKind(kind); err == nil {
			for _, p := range k.Patterns {
				pd.Patterns = append(pd.Patterns, p.Name)
			}
		}
		d.Datasets[kind] = pd
	}
	sums := map[int64]bool{}
	if s.fastCurrent {
		if sums, err = loadTierSums(ctx, q); err != nil {
			return nil, err
		}
	}
	for name, ev := range s.evaluations {
		d.Evaluations[name] = kpi.Evaluation{ID: ev.id, Generation: ev.generation, Sums: sums[ev.id]}
	}
	if s.fastCurrent {
		if d.ComboDimensions, err = combinationColumns(ctx, q, "fast_dim_combos"); err != nil {
			return nil, err
		}
		if d.FineDimensions, err = combinationColumns(ctx, q, "fast_dim_fine"); err != nil {
			return nil, err
		}
		if d.WideDimensions, d.WideTopOnly, err = wideDimensions(ctx, q); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// loadDatasets reads the latest successful import of each kind and counts
// the rows of its table.
func loadDatasets(ctx context.Context, q querier) (map[string]*DatasetInfo, error) {
	// The latest good import of each kind. (A window rather than a
	// correlated subquery: 3–7 ms against 6–17 ms of every CLI command.)
	rows, err := q.QueryContext(ctx, `
		SELECT kind, coalesce(generation, id), source, checksum, imported_at, columns
		FROM meta_imports
		WHERE status = 'ok'
		QUALIFY id = max(id) OVER (PARTITION BY kind)`)
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	defer rows.Close()
	datasets := map[string]*DatasetInfo{}
	for rows.Next() {
		d := &DatasetInfo{}
		var cols []any
		if err := rows.Scan(&d.Kind, &d.Generation, &d.Source, &d.Checksum, &d.ImportedAt, &cols); err != nil {
			return nil, fmt.Errorf("load state: %w", err)
		}
		for _, c := range cols {
			if s, ok := c.(string); ok {
				d.Columns = append(d.Columns, s)
			}
		}
		datasets[d.Kind] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	if err := countRows(ctx, q, datasets); err != nil {
		return nil, err
	}
	return datasets, nil
}

// countRows sets each dataset's rows, counted in one statement: a
// statement each took 30 ms of every CLI command's 150 at 1M customers.
func countRows(ctx context.Context, q querier, datasets map[string]*DatasetInfo) error {
	if len(datasets) == 0 {
		return nil
	}
	var counts []string
	var dest []any
	for kind, d := range datasets {
		counts = append(counts, "(SELECT count(*) FROM "+quoteIdent(kind)+")")
		dest = append(dest, &d.Rows)
	}
	if err := q.QueryRowContext(ctx, "SELECT "+strings.Join(counts, ", ")).Scan(dest...); err != nil {
		return fmt.Errorf("load state: count the datasets' rows: %w", err)
	}
	return nil
}

// loadEvaluations reads the latest evaluation of each rule set.
func loadEvaluations(ctx context.Context, q querier) (map[string]evaluationRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT ruleset, max(id), arg_max(coalesce(generation, 0), id) FROM meta_evaluations GROUP BY ruleset`)
	if err != nil {
		return nil, fmt.Errorf("load state: evaluations: %w", err)
	}
	defer rows.Close()
	out := map[string]evaluationRef{}
	for rows.Next() {
		var name string
		var ref evaluationRef
		if err := rows.Scan(&name, &ref.id, &ref.generation); err != nil {
			return nil, fmt.Errorf("load state: evaluations: %w", err)
		}
		out[name] = ref
	}
	return out, rows.Err()
}

// querier is what reads need of *sql.DB, *sql.Conn and *sql.Tx.
type querier = store.Querier

// dataset returns the loaded dataset of kind, or nil.
func (e *Engine) dataset(kind string) *DatasetInfo {
	return e.snap().datasets[kind]
}

// DataEnd is the day after the latest order: the default end of a window and
// the default as-of date of features. Zero when no orders are loaded.
func (e *Engine) DataEnd() time.Time {
	return e.snap().dataEnd
}
