package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A read through PinnedStatement that reports ok read the generation it
// was pinned to, while writes land as fast as they can: each write leaves
// its own generation as the one row of a table, and each read, which
// waits a moment before its statement (as a request's planning does) so
// that writes land in between, must find there the generation it was
// pinned to. The snapshot's loader takes a moment too, so a commit's
// publish lags it, as a real snapshot's load does.
func TestPinnedStatementReadsItsGeneration(t *testing.T) {
	ctx := context.Background()
	slowLoad := func(ctx context.Context, q Querier) (genSnap, error) {
		time.Sleep(2 * time.Millisecond)
		return loadGen(ctx, q)
	}
	s, err := Open(ctx, Options{}, slowLoad)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().ExecContext(ctx, "CREATE TABLE marks (gen BIGINT); INSERT INTO marks VALUES (0)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var writes sync.WaitGroup
	writes.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := s.Write(ctx, "mark", func(ctx context.Context, conn *sql.Conn, gen int64) error {
				_, err := conn.ExecContext(ctx, "UPDATE marks SET gen = ?", gen)
				return err
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	})

	var ok, stale atomic.Int64
	var reads sync.WaitGroup
	for range 3 {
		reads.Go(func() {
			for range 150 {
				want := s.Current()
				var got int64
				pinned, err := s.PinnedStatement(ctx, want, func(ctx context.Context, conn *sql.Conn) error {
					time.Sleep(time.Millisecond)
					return conn.QueryRowContext(ctx, "SELECT gen FROM marks").Scan(&got)
				})
				if err != nil {
					t.Error(err)
					return
				}
				if !pinned {
					stale.Add(1)
					continue
				}
				ok.Add(1)
				if got != want.Generation() {
					t.Errorf("pinned to generation %d, read generation %d", want.Generation(), got)
					return
				}
			}
		})
	}
	reads.Wait()
	close(stop)
	writes.Wait()
	t.Logf("%d reads pinned, %d refused as stale, %d generations", ok.Load(), stale.Load(), s.Current().Generation())
	if ok.Load() == 0 || stale.Load() == 0 {
		t.Errorf("%d reads pinned and %d refused: the test needs both to mean anything", ok.Load(), stale.Load())
	}
}
