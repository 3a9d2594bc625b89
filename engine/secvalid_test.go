package engine

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"custkpi/ingest"
	"custkpi/rules"
	"custkpi/store"
)

// Issue 9, measured: imports accepted NaN/±Inf amounts and NaN customer
// columns (revenue, the scorecard and customers then answered empty 200s),
// an order dated infinity (after which every default-window KPI answered
// 500, even after a restart), a file without rows (/etc/passwd as orders
// answered 201 with 0 rows and wiped 877,552 orders), and a customers
// column named like a feature (monetary), which silently replaced it. Each
// is refused, naming the file, the column and the first rows, and the data
// loaded before answers as it did.
func TestMeasuredImportsThatHarmData(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	q := Query{KPI: "revenue", From: date("2024-01-01"), To: date("2024-04-01"), By: []string{"region"}}
	before, err := e.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, e, "surveys", writeFile(t, "surveys.csv", "response_id,customer_id,survey_date,csat,nps\nr1,c1,2024-01-10,4,9\n"))
	const orders = "order_id,customer_id,order_date,amount,cost\n"
	const customers = "customer_id,signup_date,region\n"
	for _, c := range []struct {
		name, kind, file, content string
		column                    string
		rows                      []int64
		message                   string
	}{
		{"NaN amount", "orders", "orders.csv", orders + "x1,c1,2024-01-01,10,1\nx2,c1,2024-01-02,NaN,1\n", "amount", []int64{2}, "NaN or infinite"},
		{"Inf amount", "orders", "orders.csv", orders + "x1,c1,2024-01-01,2.5,1\nx2,c1,2024-01-01,inf,1\n", "amount", []int64{2}, "NaN or infinite"},
		{"-Inf cost", "orders", "orders.csv", orders + "x1,c1,2024-01-01,5,1.5\nx2,c1,2024-01-01,5,-inf\n", "cost", []int64{2}, "NaN or infinite"},
		{"NaN customers column", "customers", "customers.csv", customers[:len(customers)-1] + ",score\nc1,2023-10-01,north,1.5\nc2,2023-11-15,north,nan\n", "score", []int64{2}, "NaN or infinite"},
		{"order dated infinity", "orders", "orders.csv", orders + "x1,c1,2024-01-01,5,1\nx2,c1,infinity,5,1\n", "order_date", []int64{2}, "outside 1900-01-01..2200-01-01"},
		{"order dated -infinity", "orders", "orders.csv", orders + "x1,c1,-infinity,5,1\n", "order_date", []int64{1}, "outside 1900-01-01..2200-01-01"},
		{"order dated 2300", "orders", "orders.csv", orders + "x1,c1,2300-01-01,5,1\n", "order_date", []int64{1}, "outside"},
		{"order dated 1850", "orders", "orders.csv", orders + "x1,c1,1850-06-01,5,1\n", "order_date", []int64{1}, "outside"},
		{"signup date infinity", "customers", "customers.csv", customers + "c1,infinity,north\n", "signup_date", []int64{1}, "outside"},
		{"delivered infinity", "orders", "orders.csv", "order_id,customer_id,order_date,amount,delivered_date\nx1,c1,2024-01-01,5,infinity\n", "delivered_date", []int64{1}, "outside"},
		{"no data rows", "orders", "orders.csv", orders, "", nil, "no data rows"},
		{"no data rows, customers", "customers", "customers.csv", customers, "", nil, "no data rows"},
		{"column named monetary", "customers", "customers.csv", customers[:len(customers)-1] + ",monetary\nc1,2023-10-01,north,5\n", "monetary", nil, "rename it"},
		{"column named age_band", "customers", "customers.csv", customers[:len(customers)-1] + ",age_band\nc1,2023-10-01,north,x\n", "age_band", nil, "rename it"},
		{"column named recency_days", "customers", "customers.csv", customers[:len(customers)-1] + ",recency_days\nc1,2023-10-01,north,3\n", "recency_days", nil, "computed for every customer"},
		{"column named clv_12m", "customers", "customers.csv", customers[:len(customers)-1] + ",clv_12m\nc1,2023-10-01,north,3\n", "clv_12m", nil, "rename it"},
	} {
		for _, format := range []string{"", "parquet"} {
			t.Run(strings.TrimSuffix(c.name+"/"+format, "/"), func(t *testing.T) {
				testRefusedImport(t, e, q, before, c.kind, csvAs(t, e, writeFile(t, c.file, c.content), format), c.column, c.rows, c.message)
			})
		}
	}
}

// allow_empty imports a file without rows (a dataset emptied on purpose);
// a feature-named column mapped onto a canonical one is no longer extra.
func TestImportAllowEmptyAndMappedAway(t *testing.T) {
	e := handBuilt(t)
	ctx := context.Background()
	res, err := e.Import(ctx, ImportRequest{Kind: "surveys", Path: writeFile(t, "surveys.csv", "response_id,customer_id,survey_date\n"), AllowEmpty: true})
	if err != nil || res.Rows != 0 {
		t.Fatalf("allow_empty: %+v %v", res, err)
	}
	if _, err := e.Import(ctx, ImportRequest{Kind: "customers", Mapping: map[string]string{"region": "monetary"},
		Path: writeFile(t, "customers.csv", "customer_id,signup_date,monetary\nc1,2023-10-01,north\nc2,2023-11-15,north\nc3,2023-12-01,south\nc4,2024-01-10,east\nc5,2024-02-01,south\n")}); err != nil {
		t.Fatalf("mapped away: %v", err)
	}
}

// The date range is the engine's option: an operator with older records
// widens it.
func TestImportDateRangeOption(t *testing.T) {
	e, err := Open(context.Background(), Options{MinTime: time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Import(ctx, ImportRequest{Kind: "customers", Path: writeFile(t, "customers.csv", "customer_id,signup_date\nc1,1850-01-01\n")}); err != nil {
		t.Fatalf("1850 with MinTime 1800: %v", err)
	}
	_, err = e.Import(ctx, ImportRequest{Kind: "customers", Path: writeFile(t, "customers.csv", "customer_id,signup_date\nc1,1750-01-01\n")})
	var ee *Error
	if !asError(err, &ee) || ee.Code != CodeInvalidDataset || !strings.Contains(ee.Message, "outside 1800-01-01..2200-01-01") {
		t.Errorf("1750: %v", err)
	}
}

// The names refused are the computed features, derived from the macro.
func TestComputedFeaturesDerived(t *testing.T) {
	e := handBuilt(t)
	names, err := ingest.ComputedFeatures(context.Background(), e.DB())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"recency_days", "frequency", "monetary", "age_band", "suspected_churn", "email_open_rate", "p_alive", "clv_12m"} {
		if !contains(names, want) {
			t.Errorf("%s missing from %v", want, names)
		}
	}
	for _, not := range []string{"customer_id", "region", "signup_date", "age"} {
		if contains(names, not) {
			t.Errorf("%s is a customers column, not a computed feature: %v", not, names)
		}
	}
}

// Regexes are checked at save for what both paths support: every pattern
// the rules package accepts compiles in DuckDB's regexp_matches too, and
// every pattern Go compiles but DuckDB refuses is refused at the check.
// Every Unicode class name Go knows is tried, and the constructs where
// the two engines differ.
func TestRegexBothPathsAgree(t *testing.T) {
	e := mustOpen(t)
	schema, err := rules.NewSchema(rules.StandardFeatures())
	if err != nil {
		t.Fatal(err)
	}
	pats := []string{`(?P<x>a)`, `(?<x>a)`, `(a)`, `\pL`, `\p{Greek}`, `[[:alpha:]]`, `\Qa.b\E`, `(?i)a`, `(?s).`, `(?m)^a$`,
		`(?U)a+`, `a{1000}`, `\x{10FFFF}`, `\z`, `\A`, `\b`, `\v`, `[\d]`, `(?-s:.)`, `[a-z&&[^b]]`, `x{2,}`, `\0`, `\012`,
		`(?P<x>a)(?P<x>b)`, `[(?<x>]`, `\Q(?<x>\E`, `\pN{1000}`, `\PL{220}`, `(?i)\pL{220}`, `\pL{448}`, `\pL{449}`, `\pL{200}|\pL{200}`}
	for n := range unicode.Categories {
		pats = append(pats, `\p{`+n+`}`, `\P{`+n+`}`)
	}
	for n := range unicode.Scripts {
		pats = append(pats, `\p{`+n+`}`)
	}
	for _, p := range pats {
		if _, err := regexp.Compile(p); err != nil {
			continue // Go refuses it: the check says so already
		}
		var m sql.NullBool
		duckErr := e.DB().QueryRow("SELECT regexp_matches('abc', " + store.QuoteString(p) + ")").Scan(&m)
		_, checkErr := rules.CompileCondition("region.matches("+strconv.Quote(p)+")", schema)
		switch {
		case checkErr == nil && duckErr != nil:
			t.Errorf("%s: the check accepts what DuckDB refuses: %v", p, duckErr)
		case checkErr != nil && duckErr == nil && !strings.Contains(checkErr.Error(), "too large"):
			// Only the size estimate may refuse what DuckDB would take.
			t.Errorf("%s: the check refuses what both accept: %v", p, checkErr)
		}
	}
}

// Issue 9, measured: a rule set with a named group was saved and failed
// at evaluation with 500. It is refused at save with its position.
func TestMeasuredRegexNamedGroupRefusedAtSave(t *testing.T) {
	e := handBuilt(t)
	doc := "name: named\nrules:\n  - tier: A\n    when: region.matches(\"(?<dir>north)\")\ndefault: Z\n"
	_, err := e.SaveRuleSet(context.Background(), "named", []byte(doc))
	var ee *Error
	if !asError(err, &ee) || ee.Code != CodeInvalidRuleset {
		t.Fatalf("got %v, want invalid_ruleset", err)
	}
	errs, _ := ee.Details["errors"].([]rules.RuleError)
	if len(errs) != 1 || errs[0].Rule != 1 || errs[0].Line != 4 || errs[0].Column != 26 {
		t.Errorf("errors %+v, want rule 1 at line 4, column 26", errs)
	}
	// The spelling both accept is saved and evaluates on the SQL path.
	doc = strings.Replace(doc, "(?<dir>", "(?P<dir>", 1)
	if _, err := e.SaveRuleSet(context.Background(), "named", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	ev, err := e.EvaluateRuleSet(context.Background(), "named", 0, time.Time{}, false)
	if err != nil || ev.Path != "sql" {
		t.Fatalf("evaluate: %+v %v", ev, err)
	}
}
