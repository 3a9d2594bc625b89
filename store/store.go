// Package store owns the DuckDB handle, the write lock and the current
// snapshot. Every write runs as one transaction that also records a new
// generation; the snapshot of a generation is loaded once, when it is
// published, and shared by every request that reads it; a read pins its
// DuckDB transaction to the generation of the snapshot it planned with.
//
// What a snapshot holds is the caller's (the engine's): the store is
// generic in it and only asks for its generation.
package store

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

//go:embed schema.sql
var schemaSQL string

// Querier is what reads need of *sql.DB, *sql.Conn and *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Snapshot is the caller's view of one generation.
type Snapshot interface {
	Generation() int64
}

// Loader reads the snapshot of the committed data.
type Loader[S Snapshot] func(ctx context.Context, q Querier) (S, error)

// ErrBusy is a read that lost the race against writes MaxReplans times.
var ErrBusy = errors.New("the data changed while the request was planned, repeatedly; try again")

// ErrWriteBusy is a write that gave up waiting for the write lock: its
// context ended (deadline, cancel, client gone) while another write held it.
var ErrWriteBusy = errors.New("another write holds the write lock")

// maxReplans bounds how often a read starts again because writes keep
// landing between its plan and its read; writes are serialised, so this
// only trips under a storm of them.
const MaxReplans = 8

// Store is safe for concurrent use.
type Store[S Snapshot] struct {
	db        *sql.DB
	connector *duckdb.Connector
	load      Loader[S]

	// writeSem is the write lock, one write at a time: a channel of one
	// slot, so waiting for it honours the caller's context (a sync.Mutex
	// would wait forever behind a write that never ends).
	writeSem chan struct{}
	pubMu    sync.RWMutex // a commit and its publish, against read pins
	current  atomic.Pointer[S]
}

// Open opens the database and creates the store's own tables. Publish the
// first snapshot (after the caller has created its tables) before reading.
func Open[S Snapshot](ctx context.Context, opts Options, load Loader[S]) (*Store[S], error) {
	db, connector, err := openDB(ctx, opts)
	if err != nil {
		return nil, err
	}
	s := &Store[S]{db: db, connector: connector, load: load, writeSem: make(chan struct{}, 1)}
	if _, err := db.ExecContext(ctx, schemaSQL); err != nil {
		s.Close()
		return nil, fmt.Errorf("create generation tables: %w", err)
	}
	return s, nil
}

// Close releases the database.
func (s *Store[S]) Close() error {
	err := s.db.Close()
	if cerr := s.connector.Close(); err == nil {
		err = cerr
	}
	return err
}

// DB is the handle, for reads that need no generation (history, documents)
// and for tests; writes go through Write.
func (s *Store[S]) DB() *sql.DB { return s.db }

// Current is the snapshot of the generation the store answers from now.
func (s *Store[S]) Current() S { return *s.current.Load() }

// Publish loads the snapshot of the committed data and makes it current.
func (s *Store[S]) Publish(ctx context.Context) error {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.publish(ctx, s.db)
}

func (s *Store[S]) publish(ctx context.Context, q Querier) error {
	snap, err := s.load(ctx, q)
	if err != nil {
		return err
	}
	s.current.Store(&snap)
	return nil
}

// Write runs fn as one DuckDB transaction that also records a new
// generation. Either all of it commits or none of it does: a crash at any
// point leaves the previous generation whole, and the commit is on disk
// (DuckDB syncs its WAL at commit) before Write returns. fn runs on a
// connection inside the transaction; it must not commit.
//
// Writes are serialised. Waiting for the write in progress honours ctx: when
// ctx ends first, Write runs nothing and returns an error wrapping both
// ErrWriteBusy and ctx's error.
func (s *Store[S]) Write(ctx context.Context, cause string, fn func(ctx context.Context, conn *sql.Conn, gen int64) error) (int64, error) {
	if err := s.lockWrite(ctx); err != nil {
		return 0, fmt.Errorf("%s: %w", cause, err)
	}
	defer s.unlockWrite()
	conn, err := s.db.Conn(ctx)
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
	gen, err := nextGeneration(ctx, conn, cause)
	if err != nil {
		return 0, err
	}
	if err := fn(ctx, conn, gen); err != nil {
		return 0, err
	}
	if err := recordGeneration(ctx, conn, cause, gen); err != nil {
		return 0, err
	}
	CrashPoint("commit")
	// Readers pin their transaction under pubMu's read lock, so none can
	// start between the commit and the new snapshot: a reader sees either
	// the old generation with the old snapshot or the new with the new.
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return 0, fmt.Errorf("%s: commit: %w", cause, err)
	}
	committed = true
	CrashPoint("committed")
	return gen, s.publish(context.WithoutCancel(ctx), conn)
}

// Derive runs fn under the write lock, outside any transaction, and then
// publishes the snapshot again: for derived data that a write's
// generation does not depend on and readers check before they use it (a
// stamp fn writes last). Each statement of fn commits on its own, so it
// scans committed tables on every thread, where DuckDB scans the tables a
// transaction itself wrote on one. No new generation is recorded.
func (s *Store[S]) Derive(ctx context.Context, cause string, fn func(ctx context.Context, conn *sql.Conn) error) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("%s: %w", cause, err)
	}
	defer s.unlockWrite()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", cause, err)
	}
	defer conn.Close()
	if err := fn(ctx, conn); err != nil {
		return err
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.publish(context.WithoutCancel(ctx), conn)
}

// lockWrite takes the write lock, or gives up when ctx ends first.
func (s *Store[S]) lockWrite(ctx context.Context) error {
	select {
	case s.writeSem <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.writeSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrWriteBusy, ctx.Err())
	}
}

func (s *Store[S]) unlockWrite() { <-s.writeSem }

func nextGeneration(ctx context.Context, conn *sql.Conn, cause string) (int64, error) {
	var gen int64
	if err := conn.QueryRowContext(ctx, "SELECT generation + 1 FROM meta_state").Scan(&gen); err != nil {
		return 0, fmt.Errorf("%s: generation: %w", cause, err)
	}
	return gen, nil
}

func recordGeneration(ctx context.Context, conn *sql.Conn, cause string, gen int64) error {
	if _, err := conn.ExecContext(ctx, "UPDATE meta_state SET generation = ?", gen); err != nil {
		return fmt.Errorf("%s: generation: %w", cause, err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO meta_generations VALUES (?, ?, ?)", gen, cause, time.Now().UTC()); err != nil {
		return fmt.Errorf("%s: generation: %w", cause, err)
	}
	return nil
}

// Pinned runs fn inside a read transaction whose DuckDB snapshot is the
// generation of want: every statement fn runs reads that generation and
// nothing newer. It reports ok=false, running nothing, when a write has
// published another generation since want was taken; the caller plans
// again with the new snapshot.
func (s *Store[S]) Pinned(ctx context.Context, want S, fn func(ctx context.Context, conn *sql.Conn) error) (ok bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	s.pubMu.RLock()
	gen, err := BeginRead(ctx, conn)
	s.pubMu.RUnlock()
	if err != nil {
		return false, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	if gen != want.Generation() {
		return false, nil
	}
	return true, fn(ctx, conn)
}

// PinnedStatement is Pinned for an fn that runs one statement: it runs
// it outside a transaction, so DuckDB gives the statement a snapshot of
// its own when it starts, which saves the three calls a transaction costs
// (BEGIN, the generation's read, ROLLBACK: about half a millisecond, a
// fifth of a short KPI request). Its ok tells, in their place, that want
// was the published generation both before fn ran and after it returned:
// a commit publishes before pubMu's write lock is let go, so reading the
// same generation under the read lock on both sides means no commit
// landed in between, so the statement read want's. ok=false discards
// what fn did and the error it returned; the caller plans again.
func (s *Store[S]) PinnedStatement(ctx context.Context, want S, fn func(ctx context.Context, conn *sql.Conn) error) (ok bool, err error) {
	if s.published() != want.Generation() {
		return false, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	err = fn(ctx, conn)
	if s.published() != want.Generation() {
		return false, nil
	}
	return true, err
}

// published is the generation of the current snapshot, read under
// pubMu's read lock: no commit is between COMMIT and its publish.
func (s *Store[S]) published() int64 {
	s.pubMu.RLock()
	defer s.pubMu.RUnlock()
	return s.Current().Generation()
}

// Read runs fn pinned to the current generation, starting again when a
// write publishes between taking the snapshot and pinning it.
func (s *Store[S]) Read(ctx context.Context, fn func(ctx context.Context, conn *sql.Conn, snap S) error) error {
	for range MaxReplans {
		snap := s.Current()
		ok, err := s.Pinned(ctx, snap, func(ctx context.Context, conn *sql.Conn) error { return fn(ctx, conn, snap) })
		if ok || err != nil {
			return err
		}
	}
	return ErrBusy
}

// BeginRead starts a transaction and touches the database, which is when
// DuckDB fixes the transaction's snapshot, and answers its generation.
func BeginRead(ctx context.Context, conn *sql.Conn) (int64, error) {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, err
	}
	var gen int64
	err := conn.QueryRowContext(ctx, "SELECT generation FROM meta_state").Scan(&gen)
	return gen, err
}
