package jobs

import (
	"context"
	"errors"
	"testing"
	"time"
)

func wait(t *testing.T, r *Registry, id string) Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, _ := r.Get(id)
		if j.FinishedAt != nil {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s did not finish: %+v", id, j)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestJobLifecycle(t *testing.T) {
	r := New(Options{})
	started := make(chan struct{})
	j := r.Start("import", func(ctx context.Context, p *Progress) (any, error) {
		p.Phase("reading")
		p.Total(10, "rows")
		p.Add(4)
		close(started)
		<-ctx.Done() // blocks until cancelled
		return nil, ctx.Err()
	})
	<-started
	got, _ := r.Get(j.ID)
	if got.State != Running || got.Phase != "reading" || got.Done != 4 || got.Total != 10 || got.Unit != "rows" {
		t.Fatalf("running job %+v", got)
	}
	if _, ok := r.Cancel(j.ID); !ok {
		t.Fatal("cancel: unknown job")
	}
	if got = wait(t, r, j.ID); got.State != Cancelled || got.Error == nil || got.Error.Code != "cancelled" {
		t.Fatalf("cancelled job %+v", got)
	}

	ok := r.Start("fit", func(context.Context, *Progress) (any, error) { return 42, nil })
	if got = wait(t, r, ok.ID); got.State != Succeeded || got.Result != 42 {
		t.Fatalf("succeeded job %+v", got)
	}
	r2 := New(Options{DescribeError: func(err error) Error { return Error{Code: "bad", Message: err.Error()} }})
	f := r2.Start("fit", func(context.Context, *Progress) (any, error) { return nil, errors.New("boom") })
	if got = wait(t, r2, f.ID); got.State != Failed || got.Error.Code != "bad" || got.Error.Message != "boom" {
		t.Fatalf("failed job %+v", got)
	}
	if l := r.List(); len(l) != 2 || l[0].ID != ok.ID {
		t.Fatalf("list %+v", l)
	}
}

func TestTimeoutAndPrune(t *testing.T) {
	r := New(Options{Timeout: 20 * time.Millisecond, Keep: 2})
	j := r.Start("import", func(ctx context.Context, _ *Progress) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if got := wait(t, r, j.ID); got.State != Failed {
		t.Fatalf("a job past its deadline: %+v", got)
	}
	for range 4 {
		x := r.Start("fit", func(context.Context, *Progress) (any, error) { return nil, nil })
		wait(t, r, x.ID)
	}
	r.Start("fit", func(context.Context, *Progress) (any, error) { return nil, nil })
	if l := r.List(); len(l) > 3 {
		t.Fatalf("kept %d jobs, want at most 2 finished + 1", len(l))
	}
}
