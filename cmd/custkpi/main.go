// Command custkpi serves, imports, queries and demonstrates the custkpi
// engine: customer KPIs computed in embedded DuckDB.
//
//	custkpi demo                      generate a demo dataset, import it, serve the API
//	custkpi serve --db shop.duckdb    serve an existing database
//	custkpi import --db shop.duckdb orders ./orders.parquet --map order_date=created_at
//	custkpi kpi churn_rate --db shop.duckdb --from 2024-01-01 --to 2025-01-01 --grain quarter --by region
//	custkpi kpis                      the KPI catalog
//
// Exit codes: 0 ok, 1 the command failed, 2 the command line is wrong
// (unknown command or flag, missing argument, bad flag value), 130
// interrupted by SIGINT (143 by SIGTERM).
package main

import "os"

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}
