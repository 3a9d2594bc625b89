package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"custkpi/kpi"
	"custkpi/rules"
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
	// The features: columns, types, their CEL schema, and the instant they
	// are computed as of.
	featureNames, featureTypes []string
	schema                     *rules.Schema
	featuresAsOf               time.Time
}

type evaluationRef struct {
	id         int64
	generation int64
}

// snap is the current snapshot.
func (e *Engine) snap() *snapshot { return e.current.Load() }

// write runs one write as one DuckDB transaction that also records a new
// generation and, when derive is set, rebuilds customer_features from the
// data as written. Either all of it commits or none of it does: a crash at
// any point leaves the previous generation whole, and the commit is on disk
// (DuckDB syncs its WAL at commit) before write returns. fn runs on a
// connection inside the transaction; it must not commit.
func (e *Engine) write(ctx context.Context, cause string, derive bool, fn func(ctx context.Context, conn *sql.Conn, gen int64) error) (int64, error) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", cause, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, fmt.Errorf("%s: begin: %w", cause, err)
	}
	committed := false
	defer func() {
		if !committed {
			// The rollback must run even when ctx is what failed.
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var gen int64
	if err := conn.QueryRowContext(ctx, "SELECT generation + 1 FROM meta_state").Scan(&gen); err != nil {
		return 0, fmt.Errorf("%s: generation: %w", cause, err)
	}
	if err := fn(ctx, conn, gen); err != nil {
		return 0, err
	}
	if derive {
		progressOf(ctx).Phase("deriving")
		crashPoint("derive")
		if err := rebuildFeatures(ctx, conn, gen); err != nil {
			return 0, err
		}
	}
	if _, err := conn.ExecContext(ctx, "UPDATE meta_state SET generation = ?", gen); err != nil {
		return 0, fmt.Errorf("%s: generation: %w", cause, err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO meta_generations VALUES (?, ?, ?)", gen, cause, time.Now().UTC()); err != nil {
		return 0, fmt.Errorf("%s: generation: %w", cause, err)
	}
	crashPoint("commit")
	// Readers pin their transaction under pubMu's read lock, so none can
	// start between the commit and the new snapshot: a reader sees either
	// the old generation with the old snapshot or the new with the new.
	e.pubMu.Lock()
	defer e.pubMu.Unlock()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return 0, fmt.Errorf("%s: commit: %w", cause, err)
	}
	committed = true
	crashPoint("committed")
	if err := e.publish(context.WithoutCancel(ctx), conn); err != nil {
		return gen, err
	}
	return gen, nil
}

// rebuildFeatures recomputes customer_features as of the day after the
// latest order and stamps it, and the data it derives from, with the
// generation.
func rebuildFeatures(ctx context.Context, conn *sql.Conn, gen int64) error {
	asOf, err := featuresAsOf(ctx, conn)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TABLE customer_features AS SELECT * FROM customer_features_at(?::TIMESTAMP)", asOf); err != nil {
		return contextErr(ctx, err, "rebuild customer features")
	}
	if _, err := conn.ExecContext(ctx, "UPDATE meta_state SET data_generation = ?, features_generation = ?", gen, gen); err != nil {
		return fmt.Errorf("rebuild customer features: stamp: %w", err)
	}
	return nil
}

// recover makes the derived data of the current generation whole before
// the engine answers anything: a database written by an older build, or one
// whose features were never built, gets them rebuilt in a write of its own.
func (e *Engine) recover(ctx context.Context) error {
	var gen, featuresGen int64
	if err := e.db.QueryRowContext(ctx, "SELECT data_generation, features_generation FROM meta_state").Scan(&gen, &featuresGen); err != nil {
		return fmt.Errorf("open: state: %w", err)
	}
	var tables int
	if err := e.db.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'customer_features'").Scan(&tables); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	if tables == 1 && featuresGen == gen {
		return nil
	}
	e.log.Info("rebuilding customer features", "data_generation", gen, "features_generation", featuresGen)
	_, err := e.write(ctx, "recover: rebuild features", true, func(context.Context, *sql.Conn, int64) error { return nil })
	return err
}

// publish reads the state of the committed data and makes it the current
// snapshot. It runs under pubMu with the writer's connection.
func (e *Engine) publish(ctx context.Context, q querier) error {
	s, err := loadSnapshot(ctx, q)
	if err != nil {
		return err
	}
	e.current.Store(s)
	return nil
}

// pinned runs fn inside a read transaction whose DuckDB snapshot is the
// generation of want: every statement fn runs reads that generation and
// nothing newer. It reports ok=false, running nothing, when a write has
// published another generation since want was taken; the caller plans
// again with the new snapshot.
func (e *Engine) pinned(ctx context.Context, want *snapshot, fn func(ctx context.Context, conn *sql.Conn) error) (ok bool, err error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return false, contextErr(ctx, err, "read")
	}
	defer conn.Close()
	e.pubMu.RLock()
	gen, err := beginRead(ctx, conn)
	e.pubMu.RUnlock()
	if err != nil {
		return false, contextErr(ctx, err, "read")
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	if gen != want.generation {
		return false, nil
	}
	return true, fn(ctx, conn)
}

// read runs fn pinned to the current generation, starting again when a
// write publishes between taking the snapshot and pinning it.
func (e *Engine) read(ctx context.Context, fn func(ctx context.Context, conn *sql.Conn) error) error {
	for range maxReplans {
		ok, err := e.pinned(ctx, e.snap(), fn)
		if ok || err != nil {
			return err
		}
	}
	return errBusy("read")
}

// beginRead starts a transaction and touches the database, which is when
// DuckDB fixes the transaction's snapshot, and answers its generation.
func beginRead(ctx context.Context, conn *sql.Conn) (int64, error) {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, err
	}
	var gen int64
	err := conn.QueryRowContext(ctx, "SELECT generation FROM meta_state").Scan(&gen)
	return gen, err
}

// maxReplans bounds how often a read starts again because writes keep
// landing between its plan and its read; each write is serialised, so this
// only trips under a storm of writes.
const maxReplans = 8

// Generation is the generation of the data the engine answers from now.
func (e *Engine) Generation() int64 { return e.snap().generation }
