//go:build linux && cgo

package store

/*
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
static void custkpi_tune_malloc(int mmap_threshold) {
	// Whoever set either through the environment keeps their choice.
	if (getenv("MALLOC_MMAP_THRESHOLD_") || getenv("MALLOC_TRIM_THRESHOLD_") || getenv("GLIBC_TUNABLES")) {
		return;
	}
	mallopt(M_MMAP_THRESHOLD, mmap_threshold);
	mallopt(M_TRIM_THRESHOLD, 2 * mmap_threshold);
}
// custkpi_mmapped tells whether malloc serves a block of n bytes with a
// mapping of its own: glibc marks such a chunk in the low bits of the
// size word before the block (IS_MMAPPED, 2).
static int custkpi_mmapped(size_t n) {
	void *p = malloc(n);
	if (p == NULL) {
		return -1;
	}
	int mapped = (((size_t *)p)[-1] & 2) != 0;
	free(p);
	return mapped;
}
#else
static void custkpi_tune_malloc(int mmap_threshold) { (void)mmap_threshold; }
static int custkpi_mmapped(size_t n) { (void)n; return -1; }
#endif
*/
import "C"

func tuneMalloc() {
	C.custkpi_tune_malloc(C.int(mmapThreshold))
	tuneJemalloc()
}

// mallocMaps tells whether the C allocator gives a block of n bytes a
// mapping of its own, and whether it can tell (glibc only): for tests.
func mallocMaps(n int) (mapped, known bool) {
	r := C.custkpi_mmapped(C.size_t(n))
	return r == 1, r >= 0
}
