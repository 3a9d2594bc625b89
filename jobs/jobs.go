// Package jobs runs long work (imports, rule evaluations, model fits) in
// the background with a deadline, reports its phase and progress, lets it
// be cancelled, and keeps the recent ones to be listed. It knows nothing of
// what the work is: the caller hands it a function.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"time"
)

// States of a job (API.md, "Jobs").
const (
	Queued    = "queued"
	Running   = "running"
	Succeeded = "succeeded"
	Failed    = "failed"
	Cancelled = "cancelled"
)

// Error is a failed job's error, as the API's error body has it.
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// Job is a snapshot of one job's state.
type Job struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	State      string     `json:"state" enums:"queued,running,succeeded,failed,cancelled"`
	Phase      string     `json:"phase"`
	Done       int64      `json:"done"`
	Total      int64      `json:"total"`
	Unit       string     `json:"unit"`
	CreatedAt  time.Time  `json:"created_at" format:"date-time"`
	StartedAt  *time.Time `json:"started_at" format:"date-time" extensions:"x-nullable"`
	FinishedAt *time.Time `json:"finished_at" format:"date-time" extensions:"x-nullable"`
	Result     any        `json:"result,omitempty"`
	Error      *Error     `json:"error,omitempty"`
}

// Func is the work of a job. It reports through p and stops when ctx is done.
type Func func(ctx context.Context, p *Progress) (any, error)

// Options configure a Registry.
type Options struct {
	// Timeout bounds every job (0: one hour).
	Timeout time.Duration
	// Keep is how many finished jobs are listed (0: 100).
	Keep int
	// DescribeError turns a job's error into its code and message; by
	// default the code is "internal".
	DescribeError func(error) Error
	// OnFinish, when set, hears of every job that ends (for metrics), with
	// its final state.
	OnFinish func(Job)
}

// Registry holds the jobs of one server.
type Registry struct {
	opts Options
	mu   sync.Mutex
	jobs map[string]*entry
	// order of creation, oldest first, for listing and pruning.
	order []string
	wg    sync.WaitGroup
}

type entry struct {
	job    Job
	cancel context.CancelFunc
}

// New makes an empty registry.
func New(opts Options) *Registry {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Hour
	}
	if opts.Keep <= 0 {
		opts.Keep = 100
	}
	if opts.DescribeError == nil {
		opts.DescribeError = func(err error) Error { return Error{Code: "internal", Message: err.Error()} }
	}
	return &Registry{opts: opts, jobs: map[string]*entry{}}
}

// Start queues fn as a job of kind and runs it in the background.
func (r *Registry) Start(kind string, fn Func) Job {
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
	e := &entry{job: Job{ID: newID(), Kind: kind, State: Queued, CreatedAt: time.Now().UTC()}, cancel: cancel}
	r.mu.Lock()
	r.jobs[e.job.ID] = e
	r.order = append(r.order, e.job.ID)
	r.prune()
	job := e.job
	r.mu.Unlock()
	r.wg.Add(1)
	go r.run(ctx, e, fn)
	return job
}

func (r *Registry) run(ctx context.Context, e *entry, fn Func) {
	defer r.wg.Done()
	defer e.cancel()
	r.update(e, func(j *Job) {
		now := time.Now().UTC()
		j.State, j.StartedAt = Running, &now
	})
	res, err := fn(ctx, &Progress{r: r, e: e})
	var final Job
	r.update(e, func(j *Job) {
		defer func() { final = *j }()
		now := time.Now().UTC()
		j.FinishedAt = &now
		switch {
		case err == nil:
			j.State, j.Result = Succeeded, res
		case errors.Is(ctx.Err(), context.Canceled):
			j.State = Cancelled
			j.Error = &Error{Code: "cancelled", Message: "the job was cancelled; nothing of it was written"}
		default:
			d := r.opts.DescribeError(err)
			j.State, j.Error = Failed, &d
		}
	})
	if r.opts.OnFinish != nil {
		r.opts.OnFinish(final)
	}
}

func (r *Registry) update(e *entry, f func(*Job)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&e.job)
}

// Get returns a job by id.
func (r *Registry) Get(id string) (Job, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.jobs[id]
	if !ok {
		return Job{}, false
	}
	return e.job, true
}

// List returns the jobs, newest first.
func (r *Registry) List() []Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Job, 0, len(r.order))
	for _, id := range slices.Backward(r.order) {
		out = append(out, r.jobs[id].job)
	}
	return out
}

// Cancel asks a job to stop; it reports false for an unknown id. A job that
// has finished is left as it is.
func (r *Registry) Cancel(id string) (Job, bool) {
	r.mu.Lock()
	e, ok := r.jobs[id]
	r.mu.Unlock()
	if !ok {
		return Job{}, false
	}
	e.cancel()
	return r.Get(id)
}

// Wait cancels nothing and waits for every running job, for a graceful stop.
func (r *Registry) Wait() { r.wg.Wait() }

// CancelAll asks every job to stop, for a server that is shutting down
// (a cancelled job writes nothing), and waits for them to end.
func (r *Registry) CancelAll() {
	r.mu.Lock()
	for _, e := range r.jobs {
		e.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// Active counts the jobs queued and running, by state.
func (r *Registry) Active() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := map[string]int{Queued: 0, Running: 0}
	for _, e := range r.jobs {
		if _, ok := n[e.job.State]; ok {
			n[e.job.State]++
		}
	}
	return n
}

// prune forgets the oldest finished jobs beyond Keep. Running ones stay.
func (r *Registry) prune() {
	finished := 0
	for _, id := range r.order {
		if r.jobs[id].job.FinishedAt != nil {
			finished++
		}
	}
	for i := 0; finished > r.opts.Keep && i < len(r.order); {
		id := r.order[i]
		if r.jobs[id].job.FinishedAt == nil {
			i++
			continue
		}
		delete(r.jobs, id)
		r.order = slices.Delete(r.order, i, i+1)
		finished--
	}
}

// Progress is how a job reports where it is.
type Progress struct {
	r *Registry
	e *entry
}

// Phase names the step the job is in (reading, validating, writing,
// deriving) and resets its counts.
func (p *Progress) Phase(name string) {
	p.r.update(p.e, func(j *Job) { j.Phase, j.Done, j.Total = name, 0, 0 })
}

// Total sets how much the phase has to do, in unit (rows, customers).
func (p *Progress) Total(n int64, unit string) {
	p.r.update(p.e, func(j *Job) { j.Total, j.Unit = n, unit })
}

// Add counts work done.
func (p *Progress) Add(n int64) {
	p.r.update(p.e, func(j *Job) { j.Done += n })
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
