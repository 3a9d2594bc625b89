package engine

import (
	"context"

	"custkpi/kpi"
)

// Path names how a KPI answer was computed: PathPlain runs the version's
// macro (the definition), PathFast the shared per-customer tables checked
// against it (fast.go), PathCache a stored answer.
const (
	PathPlain = kpi.PathPlain
	PathFast  = kpi.PathFast
	PathCache = "cache"
)

type plainKey struct{}

// WithPlainPath asks every KPI computed under ctx to run on the plain
// path: the benchmark's "before" and the property test's reference.
func WithPlainPath(ctx context.Context) context.Context {
	return context.WithValue(ctx, plainKey{}, true)
}

func plainOnly(ctx context.Context) bool {
	v, _ := ctx.Value(plainKey{}).(bool)
	return v
}
