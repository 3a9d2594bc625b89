package engine

import (
	"context"
	"database/sql"
	"time"

	"custkpi/kpi"
	"custkpi/store"
)

// The KPI query and its answer belong to the planner (package kpi); these
// names keep the engine's callers unchanged.
type (
	Query   = kpi.Query
	Result  = kpi.Result
	Grain   = kpi.Grain
	KPI     = kpi.KPI
	Catalog = kpi.Catalog
)

const (
	GrainNone    = kpi.GrainNone
	GrainDay     = kpi.GrainDay
	GrainWeek    = kpi.GrainWeek
	GrainMonth   = kpi.GrainMonth
	GrainQuarter = kpi.GrainQuarter
	GrainYear    = kpi.GrainYear
)

var (
	// Grains lists the grains, for messages and docs.
	Grains = kpi.Grains
	// ParseGrain checks a grain name ("" is none).
	ParseGrain = kpi.ParseGrain
	// ParseDate reads a YYYY-MM-DD parameter.
	ParseDate = kpi.ParseDate
)

// Run answers a KPI query in one SQL statement (or from the cache), read
// from one generation: the plan is made from the current snapshot without
// touching the database (so a cached answer costs no database work), and
// the statement runs pinned to that snapshot's generation; a write landing
// in between makes it plan again.
func (e *Engine) Run(ctx context.Context, q Query) (*Result, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	q, err := e.resolveDerivedWeights(ctx, q)
	if err != nil {
		return nil, err
	}
	for range store.MaxReplans {
		s := e.snap()
		st, err := e.plan(ctx, s, q)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if r, ok := e.cache.get(st.Key); ok {
			c := *r
			c.Cached = true
			c.Path = PathCache
			e.opts.Observer.KPIQuery(st.Result.KPI, true, time.Since(start), nil)
			return &c, nil
		}
		if err := e.checkResultSize(ctx, s, st); err != nil {
			return nil, err
		}
		res, ok, err := e.execute(ctx, s, st)
		if err != nil {
			err = contextErr(ctx, err, "kpi "+q.KPI)
			e.opts.Observer.KPIQuery(st.Result.KPI, false, time.Since(start), err)
			return nil, err
		}
		if ok {
			e.opts.Observer.KPIQuery(st.Result.KPI, false, time.Since(start), nil)
			return res, nil
		}
	}
	return nil, errBusy("kpi " + q.KPI)
}

// execute runs a planned statement pinned to the snapshot's generation and
// caches the answer; ok is false when the generation has moved on.
func (e *Engine) execute(ctx context.Context, s *snapshot, st *kpi.Statement) (*Result, bool, error) {
	start := time.Now()
	var t *table
	ok, err := e.pinnedStatement(ctx, s, func(ctx context.Context, conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, st.SQL, st.Args...)
		if err != nil {
			return err
		}
		t, err = scanTable(rows)
		return err
	})
	if err != nil || !ok {
		return nil, ok, err
	}
	res := st.Result
	res.Columns, res.Types, res.Rows = t.Columns, t.Types, t.Rows
	res.Elapsed = time.Since(start)
	res.Path, res.Calendar = st.Path, st.Calendar
	e.cache.put(st.Key, res)
	out := *res
	return &out, true, nil
}

// SQL returns the statement and arguments a query would run, for the
// catalog's "explain" and for tests.
func (e *Engine) SQL(ctx context.Context, q Query) (string, []any, error) {
	st, err := e.plan(ctx, e.snap(), q)
	if err != nil {
		return "", nil, err
	}
	return st.SQL, st.Args, nil
}

// plan resolves a where= condition (the one part of a query that may need
// the database: a condition the SQL translation cannot express is matched
// in Go) and hands the rest to the pure planner.
func (e *Engine) plan(ctx context.Context, s *snapshot, q Query) (*kpi.Statement, error) {
	q.Scope = scopeOf(ctx) // the key's, whatever the caller set
	q.Fast = !plainOnly(ctx) && s.fastCurrent
	var where *kpi.Filter
	if q.Where != "" {
		def, err := kpi.Definition(e.catalog, q)
		if err != nil {
			return nil, err
		}
		if def.Dimensions == nil { // else the planner refuses where= for it
			if where, err = e.whereFilter(ctx, s, q.Where); err != nil {
				return nil, err
			}
		}
	}
	return kpi.Plan(e.catalog, s.data, q, where)
}
