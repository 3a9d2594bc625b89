package engine

import (
	"context"
	"database/sql"
	"time"

	"custkpi/ingest"
	"custkpi/store"
)

// The import request and its answer are ingest's; these names keep the
// engine's callers unchanged.
type (
	ImportRequest = ingest.Request
	ImportResult  = ingest.Result
	ImportRecord  = ingest.Record
	// The data contract (DATA.md).
	Kind   = ingest.Kind
	Column = ingest.Column
)

var (
	// Kinds is the data contract of DATA.md, customers first.
	Kinds = ingest.Kinds
	// LookupKind finds a dataset kind by name.
	LookupKind = ingest.LookupKind
)

// Import validates a file and swaps it in as the dataset of its kind, all or
// nothing: a file that fails leaves the data imported before untouched.
func (e *Engine) Import(ctx context.Context, req ImportRequest) (*ImportResult, error) {
	res, err := e.ImportBatch(ctx, []ImportRequest{req})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// ImportBatch imports several files in order (customers first where orders
// reference them) as one write: all of them and the features rebuilt from
// them commit as one generation, or none does. A refused file is recorded in
// the import history with its reason, and the data loaded before is
// untouched.
func (e *Engine) ImportBatch(ctx context.Context, reqs []ImportRequest) ([]*ImportResult, error) {
	if err := unscoped(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := e.withJobTimeout(ctx)
	defer cancel()
	start := time.Now()
	var out []*ImportResult
	var failed *ImportRequest
	_, err := e.write(ctx, "import", true, func(ctx context.Context, conn *sql.Conn, gen int64) error {
		out = out[:0]
		for i := range reqs {
			req := reqs[i]
			if req.MinTime.IsZero() && req.MaxTime.IsZero() {
				req.MinTime, req.MaxTime = e.opts.MinTime, e.opts.MaxTime
			}
			res, err := ingest.File(ctx, conn, gen, req, e.columnsOf(req.Kind))
			if err != nil {
				failed = &reqs[i]
				return err
			}
			out = append(out, res)
		}
		store.CrashPoint("staged")
		return nil
	})
	if err != nil {
		if failed != nil {
			if _, kerr := LookupKind(failed.Kind); kerr == nil { // a metric label only for a real kind
				e.opts.Observer.Import(failed.Kind, 0, time.Since(start), err)
			}
			if rerr := ingest.RecordFailure(context.WithoutCancel(ctx), e.db, *failed, err); rerr != nil {
				e.log.Warn("record failed import", "kind", failed.Kind, "err", rerr)
			}
		}
		return nil, err
	}
	for _, r := range out {
		if d := e.dataset(r.Kind); d != nil {
			r.TotalRows = d.Rows
		}
		e.opts.Observer.Import(r.Kind, r.Rows, time.Since(start), nil)
	}
	e.warm()
	e.afterImport() // in the background: the import has committed
	return out, nil
}

// columnsOf is a loaded dataset's columns (nil when not loaded).
func (e *Engine) columnsOf(kind string) []string {
	if d := e.dataset(kind); d != nil {
		return d.Columns
	}
	return nil
}

// ImportHistory returns the import history, newest first.
func (e *Engine) ImportHistory(ctx context.Context, limit int) ([]ImportRecord, error) {
	return ingest.History(ctx, e.db, limit)
}

// Datasets lists the loaded datasets by kind, in the data contract's order.
func (e *Engine) Datasets() []*DatasetInfo {
	datasets := e.snap().datasets
	var out []*DatasetInfo
	for _, k := range Kinds {
		if d := datasets[k.Name]; d != nil {
			c := *d
			out = append(out, &c)
		}
	}
	return out
}
