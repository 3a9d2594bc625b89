package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"custkpi/kpi"
	"custkpi/rules"
	"custkpi/store"
)

// snapshot is what a request needs to know about the data of one
// generation, read once when the generation is published and never changed
// afterwards: requests share it without locks.
type snapshot struct {
	generation int64
	// datasets by kind; each one's Generation is the generation of the write
	// that last changed it, so cached answers of untouched data survive.
	datasets map[string]*DatasetInfo
	dataEnd  time.Time // day after the latest order (zero: no orders)
	// evaluations: the latest evaluation of each rule set (tier dimensions
	// read it) and the generation that wrote it.
	evaluations map[string]evaluationRef
	// data is what the KPI planner needs of this generation.
	data *kpi.Data
	// fastCurrent: the fast path's tables are built from this
	// generation's datasets (they are built after the write that changed
	// them; until then every answer takes the plain path).
	fastCurrent bool
	// The features: columns, types, their CEL schema, and the instant they
	// are computed as of.
	featureNames, featureTypes []string
	schema                     *rules.Schema
	featuresAsOf               time.Time
	// keys by id (revoked ones too), for authentication without a query.
	keys map[string]*storedKey
	// distinct caches the distinct values of the dimensions results were
	// grouped by (see checkResultSize).
	distinct sync.Map
}

// Generation makes a snapshot a store.Snapshot.
func (s *snapshot) Generation() int64 { return s.generation }

type evaluationRef struct {
	id         int64
	generation int64
}

// snap is the current snapshot.
func (e *Engine) snap() *snapshot { return e.store.Current() }

// Generation is the generation of the data the engine answers from now.
func (e *Engine) Generation() int64 { return e.snap().generation }

// write runs fn as one write of the store (one transaction, one new
// generation) and, when derive is set, rebuilds customer_features from the
// data as written, in the same transaction: derived data never lags the
// data it derives from.
//
// A write that cannot get the write lock before ctx ends (another write is
// in progress) is a CodeBusy fault: nothing of it ran.
func (e *Engine) write(ctx context.Context, cause string, derive bool, fn func(ctx context.Context, conn *sql.Conn, gen int64) error) (int64, error) {
	gen, err := e.store.Write(ctx, cause, func(ctx context.Context, conn *sql.Conn, gen int64) error {
		if err := fn(ctx, conn, gen); err != nil {
			return err
		}
		if !derive {
			return nil
		}
		progressOf(ctx).Phase("deriving")
		store.CrashPoint("derive")
		store.CrashSoon("deriving", 100*time.Millisecond)
		return rebuildFeatures(ctx, conn, gen)
	})
	if err == nil && derive {
		// The data is committed; the fast path's tables follow it. When
		// they cannot be built, answers take the plain path until the
		// next write or start builds them.
		if ferr := e.deriveFast(ctx); ferr != nil {
			e.log.Warn("the fast path's tables were not rebuilt; answers take the plain path until the next write or start", "err", ferr)
		}
	}
	if errors.Is(err, store.ErrWriteBusy) {
		return 0, &Error{Code: CodeBusy, Err: err,
			Message: cause + ": another write (an import, evaluation, fit or change) held the write lock until this request's deadline; nothing was written, try again later"}
	}
	if err != nil && ctx.Err() != nil && ErrorCode(err) == "" {
		return 0, contextErr(ctx, err, cause)
	}
	return gen, err
}

// rebuildFeatures recomputes customer_features as of the day after the
// latest order and stamps it, and the data it derives from, with the
// generation.
func rebuildFeatures(ctx context.Context, conn *sql.Conn, gen int64) error {
	end, err := dataEnd(ctx, conn)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE customer_features AS SELECT * FROM customer_features_at(?::TIMESTAMP)", asOfFor(end)); err != nil {
		return contextErr(ctx, err, "rebuild customer features")
	}
	var recorded any // null: no orders
	if !end.IsZero() {
		recorded = end
	}
	if _, err := conn.ExecContext(ctx, "UPDATE meta_derived SET data_generation = ?, features_generation = ?, data_end = ?, data_end_generation = ?",
		gen, gen, recorded, gen); err != nil {
		return fmt.Errorf("rebuild customer features: stamp: %w", err)
	}
	return nil
}

// recover makes the derived data of the current generation whole before
// the engine answers anything: a database written by an older build, or one
// whose features were never built, gets them rebuilt in a write of its own.
func (e *Engine) recover(ctx context.Context) error {
	var dataGen, featuresGen int64
	if err := e.db.QueryRowContext(ctx, "SELECT data_generation, features_generation FROM meta_derived").Scan(&dataGen, &featuresGen); err != nil {
		return fmt.Errorf("open: state: %w", err)
	}
	built, err := store.TableExists(ctx, e.db, "customer_features")
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if built && featuresGen == dataGen {
		if !e.snap().fastCurrent {
			e.log.Info("rebuilding the fast path's tables", "data_generation", dataGen)
		}
		return e.deriveFast(ctx) // nothing when they are current
	}
	if built {
		e.log.Info("rebuilding customer features and the fast path's tables", "data_generation", dataGen, "features_generation", featuresGen)
	}
	_, err = e.write(ctx, "build customer features", true, func(context.Context, *sql.Conn, int64) error { return nil })
	return err
}

// pinnedStatement runs fn, one statement, pinned to the snapshot's
// generation without a transaction (see store.PinnedStatement).
func (e *Engine) pinnedStatement(ctx context.Context, want *snapshot, fn func(ctx context.Context, conn *sql.Conn) error) (bool, error) {
	ok, err := e.store.PinnedStatement(ctx, want, fn)
	return ok, contextErr(ctx, err, "read")
}

// read runs fn pinned to the current generation.
func (e *Engine) read(ctx context.Context, fn func(ctx context.Context, conn *sql.Conn) error) error {
	err := e.store.Read(ctx, func(ctx context.Context, conn *sql.Conn, _ *snapshot) error { return fn(ctx, conn) })
	if errors.Is(err, store.ErrBusy) {
		return errBusy("read")
	}
	if err != nil && ctx.Err() != nil && ErrorCode(err) == "" {
		return contextErr(ctx, err, "read")
	}
	return err
}
