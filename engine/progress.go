package engine

import (
	"context"

	"custkpi/progress"
)

// Progress receives where a long write is (see package progress).
type Progress = progress.Reporter

// WithProgress makes the writes run with ctx report to p.
func WithProgress(ctx context.Context, p Progress) context.Context { return progress.With(ctx, p) }

var progressOf = progress.Of
