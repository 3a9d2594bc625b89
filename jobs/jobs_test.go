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

// A shutdown cancels every job and waits for them; Active counts the
// running ones and OnFinish hears each end with its final state.
func TestCancelAllAndCounts(t *testing.T) {
	finished := make(chan Job, 2)
	r := New(Options{OnFinish: func(j Job) { finished <- j }})
	started := make(chan struct{}, 2)
	block := func(ctx context.Context, _ *Progress) (any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	r.Start("evaluate", block)
	r.Start("fit", block)
	<-started
	<-started
	if got := r.Active(); got[Running] != 2 || got[Queued] != 0 {
		t.Errorf("Active = %v, want 2 running", got)
	}
	r.CancelAll()
	if got := r.Active(); got[Running] != 0 {
		t.Errorf("Active after CancelAll = %v", got)
	}
	for range 2 {
		if j := <-finished; j.State != Cancelled || j.FinishedAt == nil {
			t.Errorf("OnFinish heard %+v, want cancelled", j)
		}
	}
	for _, j := range r.List() {
		if j.State != Cancelled {
			t.Errorf("job %s is %s after CancelAll", j.Kind, j.State)
		}
	}
}
