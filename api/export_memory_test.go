package api

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"custkpi/engine"
	"custkpi/engine/demo"
)

var exportCustomers = flag.Int("export.customers", 0, "customers generated for TestExportMemory (0: skip it)")

// TestExportMemory measures, by hand, what an export of many customers
// costs in memory: it logs the peak Go heap and the peak resident size of
// the process (DuckDB included) while each format streams, against the
// resident size before. It asserts only the row count; the figures are
// for reading (go test ./api -run TestExportMemory -export.customers=1000000 -v).
func TestExportMemory(t *testing.T) {
	if *exportCustomers == 0 {
		t.Skip("set -export.customers to measure an export's memory")
	}
	ctx := context.Background()
	files, err := demo.Generate(ctx, t.TempDir(), demo.Options{Customers: *exportCustomers, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Open(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	var reqs []engine.ImportRequest
	for _, k := range []string{"customers", "orders"} {
		reqs = append(reqs, engine.ImportRequest{Kind: k, Path: files[k]})
	}
	if _, err := eng.ImportBatch(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(eng, Options{}).Handler())
	defer srv.Close()
	for _, format := range []string{"ndjson", "csv", "arrow", "parquet"} {
		runtime.GC()
		before := procStatus(t, "VmRSS")
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets the peak (VmHWM)
		var heapPeak atomic.Uint64
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > heapPeak.Load() {
						heapPeak.Store(ms.HeapInuse)
					}
				}
			}
		}()
		start := time.Now()
		resp, err := http.Get(srv.URL + "/v1/customers/export?format=" + format)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		close(done)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", format, resp.StatusCode, err)
		}
		t.Logf("%s: %d customers, %d MB in %s; RSS before %d MB, peak %d MB; Go heap peak %d MB", format, *exportCustomers, n>>20,
			time.Since(start).Round(time.Millisecond), before>>10, procStatus(t, "VmHWM")>>10, heapPeak.Load()>>20)
	}
}

// procStatus reads a kB figure of /proc/self/status.
func procStatus(t *testing.T, key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc: ", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}
