package engine_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"custkpi/engine"
	"custkpi/engine/demo"
)

// The import benchmark: the engine's import of ~10M orders against what
// DuckDB itself needs to load the same Parquet file and validate it once.
//
//	go test ./engine -run '^$' -bench ImportOrders -benchtime 3x -v
//	go test ./engine -run '^$' -bench ImportOrders -bench.import.customers 100000   # smaller
//
// Peak RSS of one side alone, in a process of its own (customers loaded by
// an earlier command, as a user would):
//
//	go test -c -o engine.test ./engine
//	D=/tmp/importbench; ./engine.test -test.run '^TestImportOnce$' -bench.import.dir $D -bench.import.step generate
//	for side in engine plain; do
//	  rm -f $D/$side.duckdb*
//	  ./engine.test -test.run '^TestImportOnce$' -bench.import.dir $D -bench.import.side $side -bench.import.step customers
//	  /usr/bin/time -v ./engine.test -test.run '^TestImportOnce$' -bench.import.dir $D -bench.import.side $side -bench.import.step orders
//	done
var (
	importCustomers = flag.Int("bench.import.customers", 1_130_000, "customers generated for BenchmarkImportOrders (1,130,000: about 10M orders)")
	importDir       = flag.String("bench.import.dir", "", "directory of the import benchmark's demo dataset: generated there unless it holds orders.parquet, and kept (default: a temporary directory)")
	importSide      = flag.String("bench.import.side", "", "TestImportOnce: engine or plain")
	importMemory    = flag.String("bench.import.memory", "", "the engine's MemoryLimit (default: engine.DefaultMemoryLimit)")
	importStep      = flag.String("bench.import.step", "", "TestImportOnce: generate, customers or orders")
)

// importFiles generates the demo dataset once per process (or finds it in
// -bench.import.dir) and returns the paths of its customers and orders.
var importFiles = sync.OnceValues(func() (map[string]string, error) {
	dir := *importDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "custkpi-importbench-*"); err != nil {
			return nil, err
		}
	}
	files := map[string]string{"customers": filepath.Join(dir, "customers.parquet"), "orders": filepath.Join(dir, "orders.parquet")}
	if _, err := os.Stat(files["orders"]); err == nil {
		return files, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return demo.Generate(context.Background(), dir, demo.Options{Customers: *importCustomers, Seed: 1})
})

// phaseTimes records when each phase of a write began.
type phaseTimes struct {
	names  []string
	starts []time.Time
}

func (p *phaseTimes) Phase(name string) {
	p.names = append(p.names, name)
	p.starts = append(p.starts, time.Now())
}
func (p *phaseTimes) Total(int64, string) {}
func (p *phaseTimes) Add(int64)           {}

// since sums the time from the phase named first to the end.
func (p *phaseTimes) since(name string, end time.Time) time.Duration {
	for i, n := range p.names {
		if n == name {
			return end.Sub(p.starts[i])
		}
	}
	return 0
}

// engineImport imports kind from file into the engine database at path,
// logging how long opening, each phase and closing took.
func engineImport(tb testing.TB, ctx context.Context, path, kind, file string) error {
	t0 := time.Now()
	e, err := engine.Open(ctx, engine.Options{Path: path, CacheEntries: -1, MemoryLimit: *importMemory})
	if err != nil {
		return err
	}
	t1 := time.Now()
	phases := &phaseTimes{}
	_, err = e.Import(engine.WithProgress(ctx, phases), engine.ImportRequest{Kind: kind, Path: file})
	t2 := time.Now()
	if cerr := e.Close(); err == nil {
		err = cerr
	}
	t3 := time.Now()
	var parts []string
	for i, n := range phases.names {
		end := t2
		if i+1 < len(phases.starts) {
			end = phases.starts[i+1]
		}
		parts = append(parts, fmt.Sprintf("%s %s", n, end.Sub(phases.starts[i]).Round(time.Millisecond)))
	}
	tb.Logf("open %s; %s; close %s", t1.Sub(t0).Round(time.Millisecond), strings.Join(parts, ", "), t3.Sub(t2).Round(time.Millisecond))
	return err
}

// plainValidation is one pass over the loaded orders with the checks the
// engine makes: every value casts to its canonical type, required values
// present, amount ≥ 0, status in its set, order_id unique, no orphans.
const plainValidation = `SELECT
	count_if(order_id IS NOT NULL AND TRY_CAST(order_id AS VARCHAR) IS NULL),
	count_if(customer_id IS NOT NULL AND TRY_CAST(customer_id AS VARCHAR) IS NULL),
	count_if(order_date IS NOT NULL AND TRY_CAST(order_date AS TIMESTAMP) IS NULL),
	count_if(amount IS NOT NULL AND TRY_CAST(amount AS DOUBLE) IS NULL),
	count_if(cost IS NOT NULL AND TRY_CAST(cost AS DOUBLE) IS NULL),
	count_if(status IS NOT NULL AND TRY_CAST(status AS VARCHAR) IS NULL),
	count_if(items IS NOT NULL AND TRY_CAST(items AS INTEGER) IS NULL),
	count_if(promised_date IS NOT NULL AND TRY_CAST(promised_date AS TIMESTAMP) IS NULL),
	count_if(delivered_date IS NOT NULL AND TRY_CAST(delivered_date AS TIMESTAMP) IS NULL),
	count_if(order_id IS NULL), count_if(customer_id IS NULL), count_if(order_date IS NULL), count_if(amount IS NULL),
	count_if(amount < 0),
	count_if(status NOT IN ('completed', 'returned', 'cancelled')),
	count(*) - count(DISTINCT order_id),
	(SELECT count(*) FROM orders o ANTI JOIN customers c ON o.customer_id = c.customer_id)
FROM orders`

// plainLoad is what DuckDB itself needs: load the file as it is, through
// database/sql on a file database with DuckDB's defaults, and (for orders)
// validate it in one pass: the same work, done by hand.
func plainLoad(ctx context.Context, path, kind, file string) error {
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return err
	}
	defer db.Close()
	load := fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM read_parquet('%s')", kind, strings.ReplaceAll(file, "'", "''"))
	if _, err := db.ExecContext(ctx, load); err != nil {
		return err
	}
	if kind != "orders" {
		return nil
	}
	rows, err := db.QueryContext(ctx, plainValidation)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]int64, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		return fmt.Errorf("validation: no row: %v", rows.Err())
	}
	if err := rows.Scan(ptrs...); err != nil {
		return err
	}
	for i, v := range vals {
		if v != 0 {
			return fmt.Errorf("validation: check %d counts %d", i+1, v)
		}
	}
	return rows.Err()
}

func removeDB(path string) {
	os.Remove(path)
	os.Remove(path + ".wal")
}

// BenchmarkImportOrders times, in each iteration and side by side, the
// engine's import of the demo orders (replace mode, into a fresh file
// database holding the customers, validation and the feature rebuild
// included) and DuckDB's plain load of the same file plus one validation
// pass (plainValidation). Customers are imported first on each side, not
// timed. Reported: engine_s, split into import_s (reading, writing and
// validating the file) and features_s (the feature rebuild, the commit and
// publishing the new generation), plain_s, and the ratios engine/plain and
// import/plain.
func BenchmarkImportOrders(b *testing.B) {
	ctx := context.Background()
	start := time.Now()
	files, err := importFiles()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("dataset ready in %s: %s", time.Since(start).Round(time.Millisecond), filepath.Dir(files["orders"]))
	dir := b.TempDir()
	var engineT, importT, featuresT, plainT time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("engine%d.duckdb", n))
		e, err := engine.Open(ctx, engine.Options{Path: path, CacheEntries: -1, MemoryLimit: *importMemory})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Import(ctx, engine.ImportRequest{Kind: "customers", Path: files["customers"]}); err != nil {
			b.Fatal(err)
		}
		phases := &phaseTimes{}
		b.StartTimer()
		t0 := time.Now()
		res, err := e.Import(engine.WithProgress(ctx, phases), engine.ImportRequest{Kind: "orders", Path: files["orders"]})
		end := time.Now()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		engineT += end.Sub(t0)
		featuresT += phases.since("deriving", end)
		importT += end.Sub(t0) - phases.since("deriving", end)
		e.Close()
		removeDB(path)

		plainT += timePlain(b, ctx, filepath.Join(dir, fmt.Sprintf("plain%d.duckdb", n)), files)
		if n == 0 {
			b.Logf("%d orders", res.Rows)
		}
		n++
		b.StartTimer()
	}
	sec := func(d time.Duration) float64 { return d.Seconds() / float64(n) }
	b.ReportMetric(sec(engineT), "engine_s")
	b.ReportMetric(sec(importT), "import_s")
	b.ReportMetric(sec(featuresT), "features_s")
	b.ReportMetric(sec(plainT), "plain_s")
	b.ReportMetric(engineT.Seconds()/plainT.Seconds(), "engine/plain")
	b.ReportMetric(importT.Seconds()/plainT.Seconds(), "import/plain")
}

// timePlain loads the customers (not timed), then times the plain load of
// the orders, into a fresh file database.
func timePlain(b *testing.B, ctx context.Context, path string, files map[string]string) time.Duration {
	if err := plainLoad(ctx, path, "customers", files["customers"]); err != nil {
		b.Fatal(err)
	}
	defer removeDB(path)
	b.StartTimer()
	t0 := time.Now()
	err := plainLoad(ctx, path, "orders", files["orders"])
	d := time.Since(t0)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// TestImportOnce runs one step of the import benchmark in a process of its
// own, for /usr/bin/time -v to measure its peak RSS (see the commands at
// the top of this file); skipped without -bench.import.step.
func TestImportOnce(t *testing.T) {
	if *importStep == "" {
		t.Skip("run with -bench.import.step generate|customers|orders")
	}
	if *importDir == "" {
		t.Fatal("-bench.import.dir is required")
	}
	files, err := importFiles()
	if err != nil {
		t.Fatal(err)
	}
	if *importStep == "generate" {
		return
	}
	kind := *importStep
	if kind != "customers" && kind != "orders" {
		t.Fatalf("-bench.import.step %q is not generate, customers or orders", kind)
	}
	ctx := context.Background()
	path := filepath.Join(*importDir, *importSide+".duckdb")
	start := time.Now()
	switch *importSide {
	case "engine":
		err = engineImport(t, ctx, path, kind, files[kind])
	case "plain":
		err = plainLoad(ctx, path, kind, files[kind])
	default:
		t.Fatalf("-bench.import.side %q is not engine or plain", *importSide)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s: %s", *importSide, kind, time.Since(start).Round(time.Millisecond))
}
