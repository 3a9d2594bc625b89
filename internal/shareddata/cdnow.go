package shareddata

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// CDNOWFiles writes the CDNOW sample as the data contract's customers and
// orders (Parquet, in a temporary folder) with db, a DuckDB handle, and
// returns the folder: customers are the sample's ids with their first
// purchase as signup date, orders its rows. The file is whitespace
// separated with a leading space and CRLF line ends.
func CDNOWFiles(tb testing.TB, db *sql.DB) string {
	tb.Helper()
	src := Path(tb, "data/real/cdnow/CDNOW_sample.txt")
	dir := tb.TempDir()
	read := `SELECT CAST(CAST(f[2] AS INTEGER) AS VARCHAR) AS cid, strptime(f[3], '%Y%m%d') AS d, CAST(f[5] AS DOUBLE) AS amount
		FROM (SELECT string_split_regex(trim(line), '\s+') AS f
		      FROM (SELECT unnest(string_split_regex(content, '\r?\n')) AS line FROM read_text('` + src + `'))
		      WHERE trim(line) <> '')`
	for _, q := range []string{
		"COPY (SELECT cid AS customer_id, CAST(min(d) AS DATE) AS signup_date FROM (" + read + ") GROUP BY cid ORDER BY cid) TO '" + filepath.Join(dir, "customers.parquet") + "'",
		"COPY (SELECT row_number() OVER (ORDER BY cid, d) AS order_id, cid AS customer_id, d AS order_date, amount FROM (" + read + ")) TO '" + filepath.Join(dir, "orders.parquet") + "'",
	} {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
