// Package progress carries, in a context, where long work is: its phase and
// how much of the phase is done. Jobs and the CLI display it; the engine and
// ingest report to it; nobody else needs to know who listens.
package progress

import "context"

// Reporter receives where a long write is: its phase (reading, validating,
// writing, deriving, indexing, evaluating, fitting, scoring) and how much of the
// phase is done. A job passes one in (jobs.Progress fits); the CLI too.
type Reporter interface {
	Phase(name string)
	Total(n int64, unit string)
	Add(n int64)
}

type progressKey struct{}

// With makes the work run with ctx report to p.
func With(ctx context.Context, p Reporter) context.Context {
	return context.WithValue(ctx, progressKey{}, p)
}

// Of is the context's Reporter, or one that ignores everything.
func Of(ctx context.Context) Reporter {
	if p, ok := ctx.Value(progressKey{}).(Reporter); ok {
		return p
	}
	return noProgress{}
}

type noProgress struct{}

func (noProgress) Phase(string)        {}
func (noProgress) Total(int64, string) {}
func (noProgress) Add(int64)           {}
