package store

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memoryShare is the share of the machine's memory (or of the container's
// limit, when lower) DuckDB may hold by default: half leaves the other half
// to the Go process (answers being encoded, uploads, the Go rule path), the
// page cache and the rest of the machine, where DuckDB's own default, 80%,
// lets one query take the machine.
const memoryShare = 0.5

// machineMemory is the memory this process can have: the lower of the
// machine's (/proc/meminfo) and the cgroup's limit; 0 when unknown (not
// Linux).
func machineMemory() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					total = kb * 1024
				}
				break
			}
		}
		f.Close()
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}

// defaultMemoryLimit is Options.MemoryLimit's default for a database at
// path ("" in memory), from the memory the machine has (mem bytes; 0:
// unknown): half of it, and no more than DefaultMemoryLimit for a file. An
// in-memory database's tables live within the limit too, so it gets the
// whole share. "duckdb" (DuckDB's own default) when the memory is unknown
// and the database in memory.
func defaultMemoryLimit(path string, mem int64) string {
	share := int64(float64(mem) * memoryShare)
	const fileDefault = 1 << 30 // DefaultMemoryLimit's 1GB, give or take DuckDB's 1000³
	switch {
	case mem == 0 && path != "":
		return DefaultMemoryLimit
	case mem == 0:
		return "duckdb"
	case path != "" && share >= fileDefault:
		return DefaultMemoryLimit
	}
	return mib(share)
}

func mib(n int64) string { return fmt.Sprintf("%dMiB", max(n>>20, 64)) }

// defaultTempDirectory is where an in-memory database spills: DuckDB's own
// default, .tmp in the working directory, may be read-only or shared; a
// directory of this process under the system's temp directory is neither.
func defaultTempDirectory(path string) string {
	if path != "" {
		return "" // DuckDB's default: <path>.tmp, beside the file
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("custkpi-%d.tmp", os.Getpid()))
}
