//go:build linux && amd64 && cgo

package store

// DuckDB's Linux builds for amd64 link jemalloc in (those for arm64 do
// not): its tuning, jemallocDirtyDecayMs.

/*
#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

// DuckDB's jemalloc (its symbols prefixed duckdb_je_), linked in with
// the driver.
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

// custkpi_tune_jemalloc sets DuckDB's jemalloc's page decay, in ms, of
// the arenas it creates from now on and of those it has: jemalloc starts
// with the process, before any Go code runs, so its options can only be
// changed this way. Whoever runs the process with DUCKDB_JE_MALLOC_CONF
// keeps their choice.
static void custkpi_tune_jemalloc(ssize_t dirty_ms, ssize_t muzzy_ms) {
	if (getenv("DUCKDB_JE_MALLOC_CONF")) {
		return;
	}
	duckdb_je_mallctl("arenas.dirty_decay_ms", NULL, NULL, &dirty_ms, sizeof(dirty_ms));
	duckdb_je_mallctl("arenas.muzzy_decay_ms", NULL, NULL, &muzzy_ms, sizeof(muzzy_ms));
	unsigned n = 0;
	size_t len = sizeof(n);
	if (duckdb_je_mallctl("arenas.narenas", &n, &len, NULL, 0) != 0) {
		return;
	}
	char name[64];
	for (unsigned i = 0; i < n; i++) {
		// An arena not created yet refuses; it takes the defaults above.
		snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", i);
		duckdb_je_mallctl(name, NULL, NULL, &dirty_ms, sizeof(dirty_ms));
		snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", i);
		duckdb_je_mallctl(name, NULL, NULL, &muzzy_ms, sizeof(muzzy_ms));
	}
}

// custkpi_dirty_decay_ms is the dirty page decay of the arena the calling
// thread allocates from (-2: unknown).
static long custkpi_dirty_decay_ms(void) {
	unsigned arena = 0;
	size_t len = sizeof(arena);
	if (duckdb_je_mallctl("thread.arena", &arena, &len, NULL, 0) != 0) {
		return -2;
	}
	char name[64];
	snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", arena);
	ssize_t v;
	len = sizeof(v);
	if (duckdb_je_mallctl(name, &v, &len, NULL, 0) != 0) {
		return -2;
	}
	return (long)v;
}
*/
import "C"

func tuneJemalloc() {
	C.custkpi_tune_jemalloc(C.ssize_t(jemallocDirtyDecayMs), C.ssize_t(jemallocMuzzyDecayMs))
}

// jemallocDirtyDecay is the dirty page decay DuckDB's jemalloc runs
// with, in ms, and whether it could tell: for tests.
func jemallocDirtyDecay() (ms int, known bool) {
	v := C.custkpi_dirty_decay_ms()
	return int(v), v != -2
}
