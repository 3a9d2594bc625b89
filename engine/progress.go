package engine

import "context"

// Progress receives where a long write is: its phase (reading, validating,
// writing, deriving, evaluating, fitting, scoring) and how much of the
// phase is done. A job passes one in (jobs.Progress fits); the CLI too.
type Progress interface {
	Phase(name string)
	Total(n int64, unit string)
	Add(n int64)
}

type progressKey struct{}

// WithProgress makes the writes run with ctx report to p.
func WithProgress(ctx context.Context, p Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// progressOf is the context's Progress, or one that ignores everything.
func progressOf(ctx context.Context) Progress {
	if p, ok := ctx.Value(progressKey{}).(Progress); ok {
		return p
	}
	return noProgress{}
}

type noProgress struct{}

func (noProgress) Phase(string)        {}
func (noProgress) Total(int64, string) {}
func (noProgress) Add(int64)           {}
