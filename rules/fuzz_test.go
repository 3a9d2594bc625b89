package rules

import (
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzCompile feeds arbitrary documents through Parse, Compile, SQL and
// EvalGo: nothing may panic, every refusal must be an *InvalidError, and a
// compiled set must translate (or say ErrNotTranslatable) and evaluate.
func FuzzCompile(f *testing.F) {
	for _, name := range BuiltinNames() {
		doc, _ := BuiltinDocument(name)
		f.Add(doc)
	}
	f.Add([]byte(exampleYAML))
	f.Add([]byte(exampleJSON))
	f.Add([]byte(doc1("monetery > 100.0")))
	f.Add([]byte(doc1(`segment.matches("[")`)))
	f.Add([]byte(doc1(`'[1, 2, 3].all(x, x > frequency)'`)))
	f.Add([]byte(doc1("int(monetary) / frequency % 3 == -1")))
	f.Add([]byte("rules:\n  - tier: a\n    when: |\n      frequency > 1 &&\n        \"\\u00e9\" in [region]\ndefault: b\n"))
	f.Add([]byte(`{"rules": [{"tier": "a", "when": "days_since(signup_date) > 3"}], "default": "b"}`))

	s, err := NewSchema(StandardFeatures())
	if err != nil {
		f.Fatal(err)
	}
	asOf := time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC)
	rows := []map[string]any{
		row(nil),
		row(map[string]any{"frequency": int64(3), "monetary": 120.5, "segment": "b2b", "signup_date": asOf.AddDate(-1, 0, 0), "suspected_churn": false, "r_score": int64(4)}),
		row(map[string]any{"frequency": int64(0), "monetary": 0.0, "region": "é", "age": int64(-9223372036854775808)}),
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var inv *InvalidError
		rs, err := Parse(doc)
		if err != nil {
			if !errors.As(err, &inv) {
				t.Fatalf("Parse error %T: %v", err, err)
			}
			return
		}
		c, err := Compile(rs, s)
		if err != nil {
			if !errors.As(err, &inv) {
				t.Fatalf("Compile error %T: %v", err, err)
			}
			return
		}
		if _, err := c.SQL(SQLOptions{Alias: "f", Relation: "customer_features", AsOf: asOf}); err != nil && !errors.Is(err, ErrNotTranslatable) {
			t.Fatalf("SQL: %v", err)
		}
		got, err := c.EvalGo(context.Background(), rows, EvalEnv{AsOf: asOf})
		if err != nil {
			t.Fatalf("EvalGo: %v", err)
		}
		for _, a := range got {
			if a.Rule < 0 || a.Rule > len(rs.Rules) || (a.Rule == 0 && a.Tier != rs.Default) || (a.Rule > 0 && a.Tier != rs.Rules[a.Rule-1].Tier) {
				t.Fatalf("assignment %+v does not fit the rule set", a)
			}
		}
	})
}
