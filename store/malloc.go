package store

import "sync"

// The C allocator's tuning, once per process, before the first database
// opens (tuneMalloc, per platform).
//
// Why: DuckDB keeps its tables and hash tables in its own allocator, but
// some operators grow plain C++ vectors through the C library's malloc:
// quantile_cont and median keep every value of a group that way. glibc
// serves a block of 128 KiB or more with a fresh mmap and unmaps it on
// free, raising that threshold only after it has freed such blocks
// (dynamically, up to 32 MiB). So a fresh process pays page faults for
// every large vector: the first-response median of 186,000 tickets took
// 15-20 ms in a new process and 4.5-5 ms once glibc had raised its
// threshold, which happened after a varying number of queries, hence
// timings in two modes. Setting the threshold to where glibc's own
// adjustment ends (and the trim threshold to twice it, as the adjustment
// does) gives every process the second mode from the start, at the cost
// glibc would reach by itself: freed blocks up to 32 MiB stay in the heap
// for reuse instead of going back to the system.
var mallocOnce sync.Once

// mmapThreshold is glibc's largest dynamic mmap threshold on 64-bit
// (DEFAULT_MMAP_THRESHOLD_MAX); the trim threshold is twice it.
const mmapThreshold = 32 << 20

func tuneMallocOnce() { mallocOnce.Do(tuneMalloc) }

// jemallocDirtyDecayMs and jemallocMuzzyDecayMs tune DuckDB's own
// allocator (jemalloc, which its Linux amd64 builds link in; tuneMalloc,
// jemalloc_linux_amd64.go), unless the environment sets
// DUCKDB_JE_MALLOC_CONF.
//
// Why: DuckDB's build returns freed pages to the system after about a
// second (dirty, then muzzy decay), and a statement building a table of
// millions of rows frees and takes back hundreds of megabytes at a time,
// so each of those pages is faulted in again, which costs most on a
// virtual machine. Keeping freed pages 10 s before returning them (and
// returning them then at once, muzzy 0) took the system time of the
// 1M-customer demo import from 23-28 s to 16-17 s and the import from
// 59-66 s to 51-54 s, at a peak RSS of 1.6-1.8 GB (1.3-1.7 GB before;
// 20 s reached 2.1 GB, never returning them 3.3-3.5 GB). But 10 s also
// reached 2.1 GB once in ten runs: after the larger statements of the
// fast path's build, up to 1.26 GB of jemalloc's 1.44 GB resident were
// freed pages. 5 s imported as fast (medians of five runs, taking turns:
// 62.9 s against 62.4 s) at a peak of 1.43-1.72 GB (10 s: 1.59-2.10 GB);
// returning freed pages after every statement of the build peaked at
// 1.31-1.38 GB but took 68-70 s.
const (
	jemallocDirtyDecayMs = 5000
	jemallocMuzzyDecayMs = 0
)
