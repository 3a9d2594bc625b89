// Command custkpi serves, imports, queries and demonstrates the custkpi
// engine: customer KPIs computed in embedded DuckDB.
//
//	custkpi demo                      generate a demo dataset, import it, serve the API
//	custkpi serve --db shop.duckdb    serve an existing database
//	custkpi import --db shop.duckdb orders ./orders.parquet --map order_date=created_at
//	custkpi kpi churn_rate --db shop.duckdb --from 2024-01-01 --to 2025-01-01 --grain quarter --by region
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGINT and SIGTERM cancel the context: the server drains and the
	// database closes cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "custkpi:", err)
		os.Exit(1)
	}
}
