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
