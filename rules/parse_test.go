package rules

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const exampleYAML = `name: value_tiers
description: Value tiers by spend and activity
high_value: [A1, A2]          # tiers that count as high value in KPIs
rules:
  - tier: A1
    when: avg_monthly_spend >= 500.0
  - tier: A2
    when: segment == "b2b" && monetary >= percentile("monetary", 0.8)
  - tier: D
    when: recency_days > 365 || suspected_churn
default: C
`

// The same document as JSON, indented with tabs as editors write it.
const exampleJSON = "{\n\t\"name\": \"value_tiers\",\n\t\"description\": \"Value tiers by spend and activity\",\n\t\"high_value\": [\"A1\", \"A2\"],\n\t\"rules\": [\n\t\t{\"tier\": \"A1\", \"when\": \"avg_monthly_spend >= 500.0\"},\n\t\t{\"tier\": \"A2\", \"when\": \"segment == \\\"b2b\\\" && monetary >= percentile(\\\"monetary\\\", 0.8)\"},\n\t\t{\"tier\": \"D\", \"when\": \"recency_days > 365 || suspected_churn\"}\n\t],\n\t\"default\": \"C\"\n}\n"

func wantExample(t *testing.T, rs *RuleSet) {
	t.Helper()
	if rs.Name != "value_tiers" || rs.Description != "Value tiers by spend and activity" || rs.Default != "C" {
		t.Errorf("name/description/default = %q/%q/%q", rs.Name, rs.Description, rs.Default)
	}
	if !reflect.DeepEqual(rs.HighValue, []string{"A1", "A2"}) {
		t.Errorf("high_value = %v", rs.HighValue)
	}
	want := []struct{ tier, when string }{
		{"A1", "avg_monthly_spend >= 500.0"},
		{"A2", `segment == "b2b" && monetary >= percentile("monetary", 0.8)`},
		{"D", "recency_days > 365 || suspected_churn"},
	}
	if len(rs.Rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(rs.Rules), len(want))
	}
	for i, w := range want {
		if rs.Rules[i].Tier != w.tier || rs.Rules[i].When != w.when {
			t.Errorf("rule %d = %q %q, want %q %q", i+1, rs.Rules[i].Tier, rs.Rules[i].When, w.tier, w.when)
		}
	}
}

func TestParseYAML(t *testing.T) {
	rs, err := Parse([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	wantExample(t, rs)
	// The when values start after "    when: ", column 11 of lines 6, 8, 10.
	for i, line := range []int{6, 8, 10} {
		if r := rs.Rules[i]; r.Line != line || r.Column != 11 {
			t.Errorf("rule %d at %d:%d, want %d:11", i+1, r.Line, r.Column, line)
		}
	}
}

func TestParseJSON(t *testing.T) {
	rs, err := Parse([]byte(exampleJSON))
	if err != nil {
		t.Fatal(err)
	}
	wantExample(t, rs)
	// Rule 1's when is on line 6; a tab counts as one column.
	line6 := strings.Split(exampleJSON, "\n")[5]
	if col := strings.Index(line6, "avg_monthly_spend") + 1; rs.Rules[0].Line != 6 || rs.Rules[0].Column != col {
		t.Errorf("rule 1 at %d:%d, want 6:%d", rs.Rules[0].Line, rs.Rules[0].Column, col)
	}
	yml, err := Parse([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	c1, err1 := Compile(rs, mustSchema(t))
	c2, err2 := Compile(yml, mustSchema(t))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !reflect.DeepEqual(c1.Tiers(), c2.Tiers()) || !reflect.DeepEqual(c1.Inputs(), c2.Inputs()) {
		t.Errorf("JSON and YAML compile differently: %v %v / %v %v", c1.Tiers(), c1.Inputs(), c2.Tiers(), c2.Inputs())
	}
}

func TestParseRoundTrip(t *testing.T) {
	rs, err := Parse([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse([]byte(rs.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, rs.String())
	}
	wantExample(t, again)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc  string
		rule, line int
		col        int
		msg        string
	}{
		{"empty", "", 0, 0, 0, "document is empty"},
		{"not a mapping", "- a\n- b\n", 0, 1, 1, "a rule set must be a mapping"},
		{"yaml syntax", "name: x\nrules: [\n", 0, 2, 0, "did not find expected node content"},
		{"unknown field", "name: x\ndefualt: C\n", 0, 2, 1, `unknown field "defualt"`},
		{"duplicate field", "name: x\nname: y\n", 0, 2, 1, `field "name" appears twice`},
		{"rules not a list", "rules: {tier: A}\n", 0, 1, 8, "rules must be a list"},
		{"rule not a mapping", "rules:\n  - A\n", 1, 2, 5, "a rule must be a mapping"},
		{"unknown rule field", "rules:\n  - tier: A\n    when: true\n    wehn: x\n", 1, 4, 5, `unknown field "wehn" in a rule`},
		{"rule without when", "rules:\n  - tier: A\n", 1, 2, 5, "rule has no when"},
		{"tier not a value", "rules:\n  - tier: [A]\n    when: true\n", 1, 2, 11, "tier must be a single value"},
		{"two documents", "name: x\n---\nname: y\n", 0, 2, 0, "more than one YAML document"},
		{"high_value not a list", "high_value: {a: b}\n", 0, 1, 13, "high_value must be a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			re := onlyError(t, err)
			if re.Rule != tt.rule || re.Line != tt.line || re.Column != tt.col || !strings.Contains(re.Message, tt.msg) {
				t.Errorf("got %+v, want rule %d at %d:%d containing %q", re, tt.rule, tt.line, tt.col, tt.msg)
			}
		})
	}
	if _, err := Parse(make([]byte, MaxDocumentSize+1)); err == nil || !strings.Contains(err.Error(), "the limit is") {
		t.Errorf("oversized document: %v", err)
	}
}

// onlyError asserts that err is an *InvalidError with exactly one error.
func onlyError(t *testing.T, err error) RuleError {
	t.Helper()
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error %v (%T), want *InvalidError", err, err)
	}
	if len(inv.Errors) != 1 {
		t.Fatalf("%d errors, want 1: %v", len(inv.Errors), inv)
	}
	return inv.Errors[0]
}

// Errors inside conditions land on the document's line and column whatever
// the scalar style.
func TestConditionPositionsInDocument(t *testing.T) {
	doc := `name: pos
rules:
  - tier: plain
    when: frequency > 1 && bogus1
  - tier: dq
    when: "segment == \"b2b\" && bogus2"
  - tier: sq
    when: 'segment == ''b2b'' && bogus3'
  - tier: lit
    when: |
      frequency > 1 &&
        bogus4
  - tier: fold
    when: >-
      frequency > 1
      && bogus5
default: z
`
	rs, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(rs, mustSchema(t))
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error %v, want *InvalidError", err)
	}
	want := []RuleError{
		{Rule: 1, Line: 4, Column: 28, Message: "undeclared reference to 'bogus1'"},
		{Rule: 2, Line: 6, Column: 34, Message: "undeclared reference to 'bogus2'"},
		{Rule: 3, Line: 8, Column: 34, Message: "undeclared reference to 'bogus3'"},
		{Rule: 4, Line: 12, Column: 9, Message: "undeclared reference to 'bogus4'"},
		{Rule: 5, Line: 16, Column: 10, Message: "undeclared reference to 'bogus5'"},
	}
	if !reflect.DeepEqual(inv.Errors, want) {
		t.Errorf("errors:\n%v\nwant\n%v", inv.Errors, want)
	}
	// Line by line, the reported column is where the name is.
	lines := strings.Split(doc, "\n")
	for _, e := range inv.Errors {
		name := strings.TrimPrefix(strings.TrimSuffix(e.Message, "'"), "undeclared reference to '")
		if got := string([]rune(lines[e.Line-1])[e.Column-1:]); !strings.HasPrefix(got, name) {
			t.Errorf("rule %d: text at %d:%d is %q, want %s", e.Rule, e.Line, e.Column, got, name)
		}
	}
}

func TestConditionPositionsInJSON(t *testing.T) {
	doc := `{"name": "j", "rules": [{"tier": "a", "when": "frequency > 1"}, {"tier": "b", "when": "segment == \"x\" && bogus"}], "default": "z"}`
	rs, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(rs, mustSchema(t))
	re := onlyError(t, err)
	wantCol := strings.Index(doc, "bogus") + 1
	if re.Rule != 2 || re.Line != 1 || re.Column != wantCol {
		t.Errorf("got %+v, want rule 2 at 1:%d", re, wantCol)
	}
}

// A rule set built in Go, without a document, reports positions by the
// rule's Line and Column, or within the expression when those are zero.
func TestConditionPositionsWithoutDocument(t *testing.T) {
	rs := &RuleSet{Rules: []Rule{{Tier: "a", When: "frequency > 1 &&\n bogus"}, {Tier: "b", When: "bogus2", Line: 7, Column: 11}}, Default: "z"}
	_, err := Compile(rs, mustSchema(t))
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Errors) != 2 {
		t.Fatalf("error %v", err)
	}
	if e := inv.Errors[0]; e.Line != 2 || e.Column != 2 {
		t.Errorf("rule 1 at %d:%d, want 2:2", e.Line, e.Column)
	}
	if e := inv.Errors[1]; e.Line != 7 || e.Column != 11 {
		t.Errorf("rule 2 at %d:%d, want 7:11", e.Line, e.Column)
	}
}
