package engine

import (
	"context"
	"custkpi/store"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each bad file is refused with an error naming the file, the column and
// the first offending rows, and the data imported before answers exactly
// as it did.
func TestImportFailuresLeaveDataIntact(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	q := Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-04-01"), By: []string{"region"}}
	before, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, e, "surveys", writeFile(t, "surveys.csv", "response_id,customer_id,survey_date,csat,nps\nr1,c1,2024-01-10,4,9\n"))

	cases := []struct {
		name, kind, file, content string
		column                    string
		rows                      []int64
		message                   string
	}{
		{"missing required column", "orders", "orders.csv",
			"order_id,customer_id,amount\nx1,c1,10\n", "order_date", nil, "missing required column order_date"},
		{"wrong type", "orders", "orders.csv",
			"order_id,customer_id,order_date,amount\nx1,c1,2024-01-01,10\nx2,c1,2024-01-02,ten\nx3,c1,2024-01-03,abc\n",
			"amount", []int64{2, 3}, "are not DOUBLE"},
		{"duplicate id", "orders", "orders.csv",
			"order_id,customer_id,order_date,amount\nx1,c1,2024-01-01,10\nx2,c1,2024-01-02,20\nx1,c2,2024-01-03,30\n",
			"order_id", nil, "must be unique: duplicate x1 at rows [1 3]"},
		{"orphan orders", "orders", "orders.csv",
			"order_id,customer_id,order_date,amount\nx1,c1,2024-01-01,10\nx2,zz,2024-01-02,20\n",
			"customer_id", []int64{2}, "not in customers"},
		{"negative amount", "orders", "orders.csv",
			"order_id,customer_id,order_date,amount\nx1,c1,2024-01-01,-5\n", "amount", []int64{1}, "is below 0"},
		{"unknown status", "orders", "orders.csv",
			"order_id,customer_id,order_date,amount,status\nx1,c1,2024-01-01,5,shipped\n", "status", []int64{1}, "not one of completed, returned, cancelled"},
		{"csat 7", "surveys", "surveys.csv",
			"response_id,customer_id,survey_date,csat\nr1,c1,2024-01-01,4\nr2,c2,2024-01-02,7\n", "csat", []int64{2}, "outside 1..5"},
		{"nps 11", "surveys", "surveys.csv",
			"response_id,customer_id,survey_date,nps\nr1,c1,2024-01-01,11\n", "nps", []int64{1}, "outside 0..10"},
		{"attribute score 0", "surveys", "surveys.csv",
			"response_id,customer_id,survey_date,score_speed\nr1,c1,2024-01-01,0\n", "score_speed", []int64{1}, "outside 1..5"},
		{"not a csv", "orders", "orders.parquet", "this is not parquet", "", nil, "cannot read it as parquet"},
	}
	tried := 0
	for _, c := range cases {
		for _, format := range []string{"", "parquet"} {
			if format == "parquet" && !strings.HasSuffix(c.file, ".csv") {
				continue
			}
			tried++
			t.Run(strings.TrimSuffix(c.name+"/"+format, "/"), func(t *testing.T) {
				testRefusedImport(t, e, q, before, c.kind, csvAs(t, e, writeFile(t, c.file, c.content), format), c.column, c.rows, c.message)
			})
		}
	}
	hist, err := e.ImportHistory(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, h := range hist {
		if h.Status == "failed" {
			failed++
		}
	}
	if failed != tried {
		t.Errorf("history records %d failed imports, want %d", failed, tried)
	}
}

func TestImportMappingAppendOrphansDrop(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	// A file with other column names, integer ids and an extra column.
	path := writeFile(t, "more.csv", "id,cust,created_at,total,channel_note\n100,c6,2024-03-02 10:00:00,25.5,app\n101,zz,2024-03-03 10:00:00,10,web\n")
	res, err := e.Import(ctx, ImportRequest{Kind: "orders", Path: path, Mode: "append", Orphans: "drop",
		Mapping: map[string]string{"order_id": "id", "customer_id": "cust", "order_date": "created_at", "amount": "total"}})
	if err == nil {
		t.Fatalf("append with a new extra column should fail, got %+v", res)
	}
	if !strings.Contains(err.Error(), "channel_note") {
		t.Errorf("error %q does not name the extra column", err)
	}
	path = writeFile(t, "more.csv", "id,cust,created_at,total\n100,c6,2024-03-02 10:00:00,25.5\n101,zz,2024-03-03 10:00:00,10\n")
	res, err = e.Import(ctx, ImportRequest{Kind: "orders", Path: path, Mode: "append", Orphans: "drop",
		Mapping: map[string]string{"order_id": "id", "customer_id": "cust", "order_date": "created_at", "amount": "total"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 1 || res.TotalRows != 13 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "row 2") {
		t.Fatalf("append result %+v", res)
	}
	got, err := e.Run(ctx, Query{KPI: "revenue", From: date("2024-03-01"), To: date("2024-04-01"), By: []string{"region"}})
	if err != nil {
		t.Fatal(err)
	}
	// March: c4 70 + c5 90 + c1 30, and now c6 (west) 25.5.
	assertRows(t, got, []row{{"east", 90.0, nil, nil}, {"north", 30.0, nil, nil}, {"south", 70.0, nil, nil}, {"west", 25.5, nil, nil}})

	// Appending an id that is already loaded is a duplicate.
	path = writeFile(t, "dup.csv", "order_id,customer_id,order_date,amount\no1,c1,2024-03-02,1\n")
	if _, err := e.Import(ctx, ImportRequest{Kind: "orders", Path: path, Mode: "append"}); ErrorCode(err) != CodeInvalidDataset {
		t.Fatalf("append of a loaded id: %v", err)
	}
	// Unknown kind, bad mapping.
	if _, err := e.Import(ctx, ImportRequest{Kind: "planets", Path: path}); ErrorCode(err) != CodeUnknownKind {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, err := e.Import(ctx, ImportRequest{Kind: "orders", Path: path, Mapping: map[string]string{"order_date": "created"}}); err == nil || !strings.Contains(err.Error(), "no column created") {
		t.Fatalf("bad mapping: %v", err)
	}
}

// Parquet is the main format; extra customers columns become dimensions.
func TestImportParquetExtraDimension(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	dir := t.TempDir()
	pq := filepath.Join(dir, "customers.parquet")
	if _, err := e.DB().ExecContext(ctx, "COPY (SELECT *, CASE WHEN region IN ('north', 'east') THEN 'gold' ELSE 'silver' END AS plan FROM customers) TO '"+pq+"' (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	res := mustImport(t, e, "customers", pq)
	if res.Rows != 6 || !strings.HasPrefix(res.Checksum, "sha256:") {
		t.Fatalf("import %+v", res)
	}
	got, err := e.Run(ctx, Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-04-01"), By: []string{"plan"}})
	if err != nil {
		t.Fatal(err)
	}
	assertRows(t, got, []row{{"gold", 250.0, nil, nil}, {"silver", 170.0, nil, nil}})
}

// csvAs rewrites a CSV file as Parquet (format "parquet"), through DuckDB,
// so each refusal is tried on both readers.
func csvAs(t *testing.T, e *Engine, path, format string) string {
	t.Helper()
	if format == "" {
		return path
	}
	out := strings.TrimSuffix(path, ".csv") + ".parquet"
	if _, err := e.DB().Exec("COPY (SELECT * FROM read_csv(" + store.QuoteString(path) + ", header = true)) TO " + store.QuoteString(out) + " (FORMAT parquet)"); err != nil {
		t.Fatal(err)
	}
	return out
}

// testRefusedImport imports a bad file and demands a refusal naming the
// file, the column and the first offending rows, with the data unchanged.
func testRefusedImport(t *testing.T, e *Engine, q Query, before *Result, kind, path, column string, rows []int64, message string) {
	t.Helper()
	ctx := context.Background()
	_, err := e.Import(ctx, ImportRequest{Kind: kind, Path: path})
	var ee *Error
	if !asError(err, &ee) || ee.Code != CodeInvalidDataset {
		t.Fatalf("got %v, want invalid_dataset", err)
	}
	if !strings.Contains(ee.Message, message) || !strings.Contains(ee.Message, path) {
		t.Errorf("message %q does not name the file and say %q", ee.Message, message)
	}
	if column != "" && ee.Details["column"] != column {
		t.Errorf("details %v do not name column %s", ee.Details, column)
	}
	if rows != nil {
		shown, _ := ee.Details["rows"].([]map[string]any)
		var got []int64
		for _, r := range shown {
			got = append(got, r["row"].(int64))
		}
		if len(got) != len(rows) || got[0] != rows[0] {
			t.Errorf("rows %v, want %v", got, rows)
		}
	}
	after, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if after.Fingerprint != before.Fingerprint {
		t.Errorf("fingerprint changed by a failed import")
	}
	assertRows(t, after, []row{{"east", 90.0, nil, nil}, {"north", 160.0, nil, nil}, {"south", 170.0, nil, nil}})
	if d := e.dataset("surveys"); d == nil || d.Rows != 1 {
		t.Errorf("surveys after a failed import: %+v", d)
	}
}

// The path reaches DuckDB as a bound value, never as SQL text: a quote in
// a file name is just a character of the name.
func TestImportPathIsBound(t *testing.T) {
	e := handBuilt(t)
	dir := filepath.Join(t.TempDir(), "it's; DROP TABLE orders; --")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "o'rders.csv")
	src, err := os.ReadFile(filepath.Join("testdata", "handbuilt", "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	res := mustImport(t, e, "orders", p)
	if res.Rows != 12 || res.Source != p {
		t.Errorf("import from %q: %+v", p, res)
	}
}

// Measured case (issue 9): importing /etc/passwd as customers echoed its
// first line in the error and stored it in the history. A file that is no
// table is refused without showing its contents.
func TestImportOfANonTableEchoesNothing(t *testing.T) {
	e := handBuilt(t)
	p := filepath.Join(t.TempDir(), "passwd.csv")
	secret := "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	if err := os.WriteFile(p, []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := e.Import(context.Background(), ImportRequest{Kind: "customers", Path: p})
	if ErrorCode(err) != CodeInvalidDataset {
		t.Fatalf("import of a passwd file: %v", err)
	}
	var ee *Error
	asError(err, &ee)
	if strings.Contains(err.Error(), "root:") || strings.Contains(fmt.Sprint(ee.Details), "root:") || strings.Contains(fmt.Sprint(ee.Details), "daemon") {
		t.Errorf("the refusal echoes the file: %v %v", err, ee.Details)
	}
	hist, _ := e.ImportHistory(context.Background(), 5)
	for _, h := range hist {
		if h.Message != nil && strings.Contains(*h.Message, "root:") {
			t.Errorf("the history stores the file's contents: %s", *h.Message)
		}
	}
}
