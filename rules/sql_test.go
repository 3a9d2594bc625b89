package rules

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func compileDoc(t *testing.T, doc string) *Compiled {
	t.Helper()
	rs, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compile(rs, mustSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSQLExample(t *testing.T) {
	c := compileDoc(t, exampleYAML)
	q, err := c.SQL(SQLOptions{Alias: "f", Relation: "customer_features"})
	if err != nil {
		t.Fatal(err)
	}
	ams := `CAST("f"."avg_monthly_spend" AS DOUBLE)`
	c1 := `((` + ams + ` >= CAST('500' AS DOUBLE)) AND NOT isnan(` + ams + `))`
	m := `CAST("f"."monetary" AS DOUBLE)`
	pct := `(SELECT quantile_cont(CAST("__pct"."monetary" AS DOUBLE), CAST('0.8' AS DOUBLE)) FILTER (WHERE NOT isnan(CAST("__pct"."monetary" AS DOUBLE))) FROM customer_features AS "__pct")`
	c2 := `((CAST("f"."segment" AS VARCHAR) = 'b2b') AND ((` + m + ` >= ` + pct + `) AND (CAST(isnan(` + m + `) AS INTEGER) + CAST(isnan(` + pct + `) AS INTEGER) = 0)))`
	c3 := `((CAST("f"."recency_days" AS BIGINT) > CAST(365 AS BIGINT)) OR CAST("f"."suspected_churn" AS BOOLEAN))`
	if want := []string{c1, c2, c3}; strings.Join(q.Conditions, "\n") != strings.Join(want, "\n") {
		t.Errorf("conditions:\n%s\nwant\n%s", strings.Join(q.Conditions, "\n"), strings.Join(want, "\n"))
	}
	if want := "CASE WHEN " + c1 + " THEN 'A1' WHEN " + c2 + " THEN 'A2' WHEN " + c3 + " THEN 'D' ELSE 'C' END"; q.Tier != want {
		t.Errorf("tier:\n%s\nwant\n%s", q.Tier, want)
	}
	if want := "CASE WHEN " + c1 + " THEN 1 WHEN " + c2 + " THEN 2 WHEN " + c3 + " THEN 3 ELSE 0 END"; q.RuleIndex != want {
		t.Errorf("rule index:\n%s\nwant\n%s", q.RuleIndex, want)
	}
	wantSkips := []string{
		"((" + c1 + ") IS NULL)",
		"((" + c2 + ") IS NULL AND (" + c1 + ") IS NOT TRUE)",
		"((" + c3 + ") IS NULL AND (" + c1 + ") IS NOT TRUE AND (" + c2 + ") IS NOT TRUE)",
	}
	if strings.Join(q.NullSkips, "\n") != strings.Join(wantSkips, "\n") {
		t.Errorf("null skips:\n%s\nwant\n%s", strings.Join(q.NullSkips, "\n"), strings.Join(wantSkips, "\n"))
	}

	// Percentiles computed beforehand become constants.
	q, err = c.SQL(SQLOptions{Alias: "f", Percentiles: map[PercentileRef]float64{{"monetary", 0.8}: 1234.5}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `((CAST("f"."segment" AS VARCHAR) = 'b2b') AND ((` + m + ` >= CAST('1234.5' AS DOUBLE)) AND NOT isnan(` + m + `)))`; q.Conditions[1] != want {
		t.Errorf("with a known percentile:\n%s\nwant\n%s", q.Conditions[1], want)
	}
}

// Only generated text reaches SQL: names quoted from the schema, strings
// with doubled quotes, tier names alike.
func TestSQLQuoting(t *testing.T) {
	doc := `rules:
  - tier: "O'Brien tier"
    when: region == "north'; DROP TABLE x; --" && acquisition_channel.startsWith("it's")
default: "d'"
`
	c := compileDoc(t, doc)
	q, err := c.SQL(SQLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := `CASE WHEN ((CAST("region" AS VARCHAR) = 'north''; DROP TABLE x; --') AND starts_with(CAST("acquisition_channel" AS VARCHAR), 'it''s')) THEN 'O''Brien tier' ELSE 'd''' END`
	if q.Tier != want {
		t.Errorf("tier:\n%s\nwant\n%s", q.Tier, want)
	}
}

func TestSQLConstructs(t *testing.T) {
	s := mustSchema(t)
	asOf := time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct{ expr, want string }{
		{"frequency / 2 > 1", `(TRY(CAST("frequency" AS BIGINT) // CAST(2 AS BIGINT)) > CAST(1 AS BIGINT))`},
		{"-frequency % 3 == 0", `(TRY(TRY(-CAST("frequency" AS BIGINT)) % CAST(3 AS BIGINT)) = CAST(0 AS BIGINT))`},
		{"days_since(last_order_date) < 90", `(date_diff('day', CAST(CAST("last_order_date" AS TIMESTAMP) AS DATE), DATE '2024-06-15') < CAST(90 AS BIGINT))`},
		{`signup_date >= timestamp("2024-01-31T23:00:00-02:00")`, `(CAST("signup_date" AS TIMESTAMP) >= TIMESTAMP '2024-02-01 01:00:00')`},
		{`segment in ["b2b", "gov"]`, `(CAST("segment" AS VARCHAR) IN ('b2b', 'gov'))`},
		{`size(region) > 3 && region.matches("^n")`, `((CAST(length(CAST("region" AS VARCHAR)) AS BIGINT) > CAST(3 AS BIGINT)) AND regexp_matches(CAST("region" AS VARCHAR), '^n'))`},
		{"double(frequency) > 2.5", `(CAST(CAST("frequency" AS BIGINT) AS DOUBLE) > CAST('2.5' AS DOUBLE))`},
		{"frequency > 2.5", `(CAST(CAST("frequency" AS BIGINT) AS DOUBLE) > CAST('2.5' AS DOUBLE))`},
		{"int(monetary) == 3", `(TRY_CAST(trunc(NULLIF(CAST("monetary" AS DOUBLE), CAST('-9223372036854775808' AS DOUBLE))) AS BIGINT) = CAST(3 AS BIGINT))`},
		{"monetary == profit", `((CAST("monetary" AS DOUBLE) = CAST("profit" AS DOUBLE)) AND NOT isnan(CAST("monetary" AS DOUBLE) + CAST("profit" AS DOUBLE)))`},
		{"(frequency > 1 ? region : segment) == 'x'", `((CASE (CAST("frequency" AS BIGINT) > CAST(1 AS BIGINT)) WHEN TRUE THEN CAST("region" AS VARCHAR) WHEN FALSE THEN CAST("segment" AS VARCHAR) END) = 'x')`},
		{"frequency in []", "FALSE"},
	}
	for _, tt := range tests {
		c, err := CompileCondition(tt.expr, s)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		got, err := c.SQL(SQLOptions{AsOf: asOf})
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.expr, got, tt.want)
		}
	}
}

func TestSQLNotTranslatable(t *testing.T) {
	tests := []struct{ expr, what string }{
		{"[1, 2].exists(x, x == frequency)", "macros over lists"},
		{`region.matches(frequency > 1 ? "^a" : "^b")`, "matches with a computed pattern"},
		{"last_order_date - signup_date > duration('24h')", "subtract_timestamp_timestamp"},
		{"last_order_date.getFullYear() == 2024", "getFullYear"},
		{"frequency in [1, 2.0]", "a list mixing int and double"},
		{"string(frequency) == '1'", "int64_to_string"},
		{`signup_date > timestamp("2024-01-01T00:00:00.000000001Z")`, "finer than microseconds"},
		{`frequency + int(percentile("monetary", 0.5)) > 1`, "integer arithmetic over a percentile"},
	}
	s := mustSchema(t)
	for _, tt := range tests {
		doc := &RuleSet{Name: "x", Rules: []Rule{{Tier: "ok", When: "frequency > 1"}, {Tier: "hard", When: tt.expr}}, Default: "z"}
		c, err := Compile(doc, s)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		_, err = c.SQL(SQLOptions{Relation: "customer_features", AsOf: time.Now()})
		if !errors.Is(err, ErrNotTranslatable) || !strings.Contains(err.Error(), `rule 2 (tier "hard")`) || !strings.Contains(err.Error(), tt.what) {
			t.Errorf("%s: error %v, want ErrNotTranslatable naming rule 2 and %q", tt.expr, err, tt.what)
		}
	}
}

func TestSQLOptionsChecked(t *testing.T) {
	s := mustSchema(t)
	c, err := CompileCondition(`days_since(signup_date) > 1 && monetary > percentile("monetary", 0.5)`, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []SQLOptions{
		{Relation: "customer_features"}, // no as-of
		{AsOf: time.Now()},              // no relation
		{Alias: `f"; --`, Relation: "customer_features", AsOf: time.Now()}, // not an identifier
	} {
		if _, err := c.SQL(opts); err == nil || errors.Is(err, ErrNotTranslatable) {
			t.Errorf("%+v: error %v, want a usage error", opts, err)
		}
	}
}
