//go:build !(linux && cgo)

package store

// tuneMalloc leaves other platforms' allocators as they are.
func tuneMalloc() {}

func mallocMaps(int) (mapped, known bool) { return false, false }
