package ingest

import (
	"fmt"
	"strings"

	"custkpi/fault"
	"custkpi/store"
)

// Column is one canonical column of a dataset kind (DATA.md).
type Column struct {
	Name     string
	Type     string // DuckDB type
	Required bool
	Min, Max *float64 // inclusive range checked at import, if set
	OneOf    []string // allowed values, if set
	Unique   bool
	// References names the dataset kind whose customer_id this column must
	// exist in (orphans).
	References string
}

// Kind is a dataset kind: its table and canonical columns.
type Kind struct {
	Name    string
	Columns []Column
	// Patterns are column-name prefixes that carry a type and range of their
	// own (score_* attribute scores in surveys).
	Patterns []Column
}

func bound(v float64) *float64 { return &v }

// Kinds is the data contract of DATA.md. Order matters: customers first, so
// that demo and bulk imports satisfy references.
var Kinds = []Kind{
	{Name: "customers", Columns: []Column{
		{Name: "customer_id", Type: "VARCHAR", Required: true, Unique: true},
		{Name: "signup_date", Type: "DATE", Required: true},
		{Name: "region", Type: "VARCHAR"},
		{Name: "segment", Type: "VARCHAR"},
		{Name: "acquisition_channel", Type: "VARCHAR"},
		{Name: "age", Type: "INTEGER", Min: bound(0), Max: bound(150)},
		{Name: "referred_by", Type: "VARCHAR"},
	}},
	{Name: "orders", Columns: []Column{
		{Name: "order_id", Type: "VARCHAR", Required: true, Unique: true},
		{Name: "customer_id", Type: "VARCHAR", Required: true, References: "customers"},
		{Name: "order_date", Type: "TIMESTAMP", Required: true},
		{Name: "amount", Type: "DOUBLE", Required: true, Min: bound(0)},
		{Name: "cost", Type: "DOUBLE"},
		{Name: "status", Type: "VARCHAR", OneOf: []string{"completed", "returned", "cancelled"}},
		{Name: "items", Type: "INTEGER"},
		{Name: "promised_date", Type: "TIMESTAMP"},
		{Name: "delivered_date", Type: "TIMESTAMP"},
	}},
	{Name: "surveys", Columns: []Column{
		{Name: "response_id", Type: "VARCHAR", Required: true, Unique: true},
		{Name: "customer_id", Type: "VARCHAR", Required: true, References: "customers"},
		{Name: "survey_date", Type: "TIMESTAMP", Required: true},
		{Name: "csat", Type: "INTEGER", Min: bound(1), Max: bound(5)},
		{Name: "nps", Type: "INTEGER", Min: bound(0), Max: bound(10)},
	}, Patterns: []Column{
		{Name: "score_", Type: "INTEGER", Min: bound(1), Max: bound(5)},
	}},
	{Name: "tickets", Columns: []Column{
		{Name: "ticket_id", Type: "VARCHAR", Required: true, Unique: true},
		{Name: "customer_id", Type: "VARCHAR", Required: true, References: "customers"},
		{Name: "opened_at", Type: "TIMESTAMP", Required: true},
		{Name: "first_response_at", Type: "TIMESTAMP"},
		{Name: "resolved_at", Type: "TIMESTAMP"},
		{Name: "category", Type: "VARCHAR"},
	}},
	{Name: "events", Columns: []Column{
		{Name: "customer_id", Type: "VARCHAR", Required: true, References: "customers"},
		{Name: "event_at", Type: "TIMESTAMP", Required: true},
		{Name: "channel", Type: "VARCHAR", Required: true},
		{Name: "event_type", Type: "VARCHAR", Required: true},
		{Name: "campaign_id", Type: "VARCHAR"},
	}},
	{Name: "acquisition_spend", Columns: []Column{
		{Name: "month", Type: "DATE", Required: true},
		{Name: "channel", Type: "VARCHAR", Required: true},
		{Name: "spend", Type: "DOUBLE", Required: true, Min: bound(0)},
	}},
	{Name: "contracts", Columns: []Column{
		{Name: "contract_id", Type: "VARCHAR", Required: true, Unique: true},
		{Name: "customer_id", Type: "VARCHAR", Required: true, References: "customers"},
		{Name: "start_date", Type: "DATE", Required: true},
		{Name: "end_date", Type: "DATE", Required: true},
		{Name: "renewed", Type: "BOOLEAN", Required: true},
	}},
}

// LookupKind returns the dataset kind named name.
func LookupKind(name string) (*Kind, error) {
	for i := range Kinds {
		if Kinds[i].Name == name {
			return &Kinds[i], nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = k.Name
	}
	return nil, &fault.Error{
		Code:    fault.CodeUnknownKind,
		Message: fmt.Sprintf("unknown dataset kind %q: one of %s", name, strings.Join(names, ", ")),
		Details: map[string]any{"kind": name, "kinds": names},
	}
}

// column returns the canonical column (or pattern column) for name.
func (k *Kind) column(name string) (Column, bool) {
	for _, c := range k.Columns {
		if c.Name == name {
			return c, true
		}
	}
	for _, p := range k.Patterns {
		if strings.HasPrefix(name, p.Name) && len(name) > len(p.Name) {
			c := p
			c.Name = name
			return c, true
		}
	}
	return Column{}, false
}

// EmptyTableSQL creates the canonical table with no rows, so that KPI macros
// bind on a fresh database and a KPI over a kind not yet imported can say
// "missing dataset" instead of failing to compile.
func (k *Kind) EmptyTableSQL() string {
	cols := make([]string, len(k.Columns))
	for i, c := range k.Columns {
		cols[i] = fmt.Sprintf("%s %s", store.QuoteIdent(c.Name), c.Type)
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", store.QuoteIdent(k.Name), strings.Join(cols, ", "))
}
