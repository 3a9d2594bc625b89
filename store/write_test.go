package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

type genSnap struct{ gen int64 }

func (s genSnap) Generation() int64 { return s.gen }

func loadGen(ctx context.Context, q Querier) (genSnap, error) {
	var s genSnap
	return s, q.QueryRowContext(ctx, "SELECT generation FROM meta_state").Scan(&s.gen)
}

// Measured case "importing /dev/zero or a FIFO blocks every import, target,
// evaluation and fit": a write that holds the lock must not make the next
// one wait past its context. The second write gives up with ErrWriteBusy
// when its deadline passes, and runs nothing.
func TestWriteLockWaitHonoursContext(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{}, loadGen)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Write(ctx, "hold", func(context.Context, *sql.Conn, int64) error {
			close(held)
			<-release
			return nil
		})
		done <- err
	}()
	<-held
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	ran := false
	_, err = s.Write(short, "second", func(context.Context, *sql.Conn, int64) error { ran = true; return nil })
	if !errors.Is(err, ErrWriteBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second write: %v, want ErrWriteBusy and the deadline", err)
	}
	if ran || time.Since(start) > 2*time.Second {
		t.Fatalf("second write ran=%v after %s", ran, time.Since(start))
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The lock is free again.
	if _, err := s.Write(ctx, "third", func(context.Context, *sql.Conn, int64) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := s.Current().Generation(); got != 2 {
		t.Errorf("generation %d, want 2", got)
	}
}
