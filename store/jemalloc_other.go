//go:build !(linux && amd64 && cgo)

package store

// tuneJemalloc leaves other platforms' allocators as they are.
func tuneJemalloc() {}

func jemallocDirtyDecay() (ms int, known bool) { return 0, false }
