package engine

import (
	"context"
	"slices"
	"testing"
)

// typeOf is the DuckDB type of a column of an answer.
func typeOf(t *testing.T, cols, types []string, name string) string {
	t.Helper()
	i := slices.Index(cols, name)
	if i < 0 || len(types) != len(cols) {
		t.Fatalf("no column %s in %v (types %v)", name, cols, types)
	}
	return types[i]
}

// A KPI answer carries DuckDB's column types, the same with rows, without
// rows and from the cache: period a DATE, counts BIGINT, the value DOUBLE.
func TestKPIResultTypes(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	for _, q := range []Query{
		{KPI: "churn_rate", From: date("2024-01-01"), To: date("2024-04-01"), Grain: GrainMonth, By: []string{"region"}},
		{KPI: "churn_rate", From: date("2024-01-01"), To: date("2024-04-01"), Grain: GrainMonth, By: []string{"region"}}, // cached
		{KPI: "churn_rate", From: date("2020-01-01"), To: date("2020-04-01"), Grain: GrainMonth, By: []string{"region"}}, // no rows
	} {
		res, err := e.Run(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for col, want := range map[string]string{"period": "DATE", "region": "VARCHAR", "value": "DOUBLE", "numerator": "BIGINT", "denominator": "BIGINT"} {
			if got := typeOf(t, res.Columns, res.Types, col); got != want {
				t.Errorf("%s (%d rows, cached %v): %s is %s, want %s", q.From.Format("2006"), len(res.Rows), res.Cached, col, got, want)
			}
		}
		for _, r := range res.Rows {
			if _, ok := r[slices.Index(res.Columns, "denominator")].(int64); !ok {
				t.Errorf("denominator %v is not an integer", r)
			}
		}
	}
}

// Money is rounded to cents in the answer, and only money: revenue of
// 0.1 + 0.2 is 0.3, not 0.30000000000000004; a ratio keeps its digits.
func TestMoneyRoundedToCents(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	orders := "order_id,customer_id,order_date,amount\nx1,c1,2024-05-02 10:00:00,0.1\nx2,c2,2024-05-03 10:00:00,0.2\nx3,c2,2024-05-04 10:00:00,0.2\n"
	mustImport(t, e, "orders", writeFile(t, "orders.csv", orders))
	q := Query{From: date("2024-05-01"), To: date("2024-06-01")}
	for kpi, want := range map[string]float64{"revenue": 0.5, "avg_order_value": 0.17} { // 0.5/3 = 0.1666…
		q.KPI = kpi
		res, err := e.Run(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Rows[0][0]; got != want {
			t.Errorf("%s = %v, want exactly %v", kpi, got, want)
		}
	}
	q.KPI = "repeat_purchase_rate" // c2 of c1, c2: 1/2; not money, not rounded
	page, err := e.Customers(ctx, CustomerQuery{Where: "frequency > 0", OrderBy: "customer_id"})
	if err != nil {
		t.Fatal(err)
	}
	if got := page.Rows[1]["avg_monthly_spend"]; got != 0.03 { // 0.4/12
		t.Errorf("c2 avg_monthly_spend %v, want 0.03", got)
	}
}

// The customers page and export carry the features' DuckDB types: dates
// are DATE or TIMESTAMP, counts BIGINT, referred_by VARCHAR on every page.
func TestCustomerTypes(t *testing.T) {
	e := handBuilt(t)
	page, err := e.Customers(context.Background(), CustomerQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for col, want := range map[string]string{"signup_date": "DATE", "first_order_date": "TIMESTAMP", "frequency": "BIGINT",
		"referred_by": "VARCHAR", "monetary": "DOUBLE", "suspected_churn": "BOOLEAN"} {
		if got := typeOf(t, page.Columns, page.Types, col); got != want {
			t.Errorf("%s is %s, want %s", col, got, want)
		}
	}
}

type collectTable struct {
	cols, types []string
	rows        [][]any
	begins      int
}

func (c *collectTable) Begin(cols, types []string) error {
	c.cols, c.types, c.begins = cols, types, c.begins+1
	return nil
}

func (c *collectTable) Row(r []any) error { c.rows = append(c.rows, r); return nil }

// The export writes every customer once, ordered, with the page's columns
// and types; a scoped key's export holds its customers only; where=
// narrows it as it narrows the list.
func TestExportCustomers(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	page, err := e.Customers(ctx, CustomerQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var all collectTable
	if err := e.ExportCustomers(ctx, "", &all); err != nil {
		t.Fatal(err)
	}
	if all.begins != 1 || int64(len(all.rows)) != page.Total || !slices.Equal(all.cols, page.Columns) || !slices.Equal(all.types, page.Types) {
		t.Fatalf("export: %d begins, %d rows of %d, columns %v types %v", all.begins, len(all.rows), page.Total, all.cols, all.types)
	}
	id := slices.Index(all.cols, "customer_id")
	for i, r := range all.rows {
		if r[id] != page.Rows[i]["customer_id"] {
			t.Errorf("row %d: %v, want %v", i, r[id], page.Rows[i]["customer_id"])
		}
	}
	north := WithPrincipal(ctx, &Principal{Name: "north", Role: RoleReader, Scope: Scope{"region": {"north"}}})
	var scoped collectTable
	if err := e.ExportCustomers(north, "", &scoped); err != nil {
		t.Fatal(err)
	}
	region := slices.Index(scoped.cols, "region")
	if len(scoped.rows) != 2 || scoped.rows[0][region] != "north" || scoped.rows[1][region] != "north" {
		t.Errorf("north export: %v", scoped.rows)
	}
	var some collectTable
	if err := e.ExportCustomers(ctx, "frequency >= 2", &some); err != nil {
		t.Fatal(err)
	}
	want, _ := e.Customers(ctx, CustomerQuery{Where: "frequency >= 2"})
	if int64(len(some.rows)) != want.Total || want.Total == 0 || want.Total == page.Total {
		t.Errorf("where export: %d rows, list says %d of %d", len(some.rows), want.Total, page.Total)
	}
	var none collectTable
	if err := e.ExportCustomers(ctx, "frequency > 1000", &none); err != nil || none.begins != 1 || len(none.rows) != 0 || len(none.types) != len(page.Types) {
		t.Errorf("empty export: %v, %d begins, %d rows, types %v", err, none.begins, len(none.rows), none.types)
	}
}

// More customers than a chunk (chunks of 2 of the six): the keyset reads
// them all, each once, in order, also when the last chunk is full.
func TestExportCustomersChunks(t *testing.T) {
	e := handBuilt(t)
	defer func(n int) { exportChunk = n }(exportChunk)
	for _, n := range []int{2, 3, 4} {
		exportChunk = n
		var all collectTable
		if err := e.ExportCustomers(context.Background(), "", &all); err != nil {
			t.Fatal(err)
		}
		id := slices.Index(all.cols, "customer_id")
		var ids []string
		for _, r := range all.rows {
			ids = append(ids, r[id].(string))
		}
		if want := []string{"c1", "c2", "c3", "c4", "c5", "c6"}; !slices.Equal(ids, want) {
			t.Errorf("chunks of %d: %v, want %v", n, ids, want)
		}
	}
}
