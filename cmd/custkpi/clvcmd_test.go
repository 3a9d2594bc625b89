package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"custkpi/internal/shareddata"
)

// cdnowDB imports the CDNOW sample's orders through the CLI.
func cdnowDB(t *testing.T) string {
	t.Helper()
	src := shareddata.Path(t, "data/real/cdnow/CDNOW_sample.txt")
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "orders.csv")
	custPath := filepath.Join(dir, "customers.csv")
	mem, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	q := `COPY (SELECT row_number() OVER () AS order_id, CAST(CAST(f[2] AS INTEGER) AS VARCHAR) AS customer_id,
		strptime(f[3], '%Y%m%d') AS order_date, CAST(f[5] AS DOUBLE) AS amount
		FROM (SELECT string_split_regex(trim(line), '\s+') AS f
		      FROM (SELECT unnest(string_split_regex(content, '\r?\n')) AS line FROM read_text('` + src + `'))
		      WHERE trim(line) <> '')) TO '` + csvPath + `' (HEADER)`
	if _, err := mem.Exec(q); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Exec(`COPY (SELECT customer_id, CAST(min(order_date) AS DATE) AS signup_date FROM read_csv('` + csvPath + `') GROUP BY ALL) TO '` + custPath + `' (HEADER)`); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "cdnow.duckdb")
	for _, kp := range [][2]string{{"customers", custPath}, {"orders", csvPath}} {
		if out, err := runCLI("import", "--db", db, kp[0], kp[1]); err != nil {
			t.Fatalf("import %s: %v\n%s", kp[0], err, out)
		}
	}
	return db
}

func TestCLVModelCommands(t *testing.T) {
	db := cdnowDB(t)
	out, err := runCLI("clv", "fit", "--db", db, "--calibration-end", "1997-09-30", "--model", "pareto_nbd")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "Pareto/NBD   r=0.5533 alpha=10.5777 s=0.6062 beta=11.6687") {
		t.Errorf("fit output:\n%s", out)
	}
	out, err = runCLI("clv", "compare", "--db", db, "--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--format", "csv")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cols, rows := readCSV(t, out)
	if len(rows) != 4 || cols[1] != "model" || rows[0][0] != "1" || rows[3][1] != "nbd" {
		t.Errorf("compare:\n%s", out)
	}
	if code, _, stderr := runExit("clv", "fit", "--db", db, "--calibration-end", "1997-09-30", "--model", "bgbb"); code != 1 || !strings.Contains(stderr, "bgbb needs --period-days") {
		t.Errorf("bgbb without periods: exit %d, %s", code, stderr)
	}
}
