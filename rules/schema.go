package rules

import (
	"fmt"
	"regexp"
	"strings"

	"cel.dev/cel-go/cel"
)

// Type is the CEL type of a feature.
type Type int

// The feature types. Integers are CEL int (SQL BIGINT), money and rates
// double, text string, flags bool, dates timestamp (SQL DATE or TIMESTAMP,
// read as UTC).
const (
	Int Type = iota + 1
	Double
	String
	Bool
	Timestamp
)

func (t Type) String() string {
	switch t {
	case Int:
		return "int"
	case Double:
		return "double"
	case String:
		return "string"
	case Bool:
		return "bool"
	case Timestamp:
		return "timestamp"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// MarshalText writes the type's CEL name, so features read well in JSON.
func (t Type) MarshalText() ([]byte, error) {
	if t.celType() == nil {
		return nil, fmt.Errorf("rules: unknown type %d", int(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads a CEL type name: int, double, string, bool or
// timestamp.
func (t *Type) UnmarshalText(b []byte) error {
	for _, c := range []Type{Int, Double, String, Bool, Timestamp} {
		if string(b) == c.String() {
			*t = c
			return nil
		}
	}
	return fmt.Errorf("rules: unknown type %q (want int, double, string, bool or timestamp)", b)
}

func (t Type) celType() *cel.Type {
	switch t {
	case Int:
		return cel.IntType
	case Double:
		return cel.DoubleType
	case String:
		return cel.StringType
	case Bool:
		return cel.BoolType
	case Timestamp:
		return cel.TimestampType
	}
	return nil
}

// sqlType is the DuckDB type a feature column is cast to before use, so the
// SQL path computes in the same domain as CEL whatever the column's storage
// type (INTEGER, DECIMAL, DATE, ...).
func (t Type) sqlType() string {
	switch t {
	case Int:
		return "BIGINT"
	case Double:
		return "DOUBLE"
	case String:
		return "VARCHAR"
	case Bool:
		return "BOOLEAN"
	case Timestamp:
		return "TIMESTAMP"
	}
	return ""
}

// TypeForSQL maps a DuckDB column type name (as information_schema or
// DESCRIBE spell it) to a feature type. It reports false for types rules
// cannot use: nested types, HUGEINT and UBIGINT (beyond int64), TIMESTAMP_NS
// (beyond microseconds) and TIMESTAMP WITH TIME ZONE (depends on the session
// zone).
func TypeForSQL(sqlType string) (Type, bool) {
	t := strings.ToUpper(strings.TrimSpace(sqlType))
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "BIGINT", "INT8", "LONG", "INTEGER", "INT4", "INT", "SIGNED", "SMALLINT", "INT2", "SHORT",
		"TINYINT", "INT1", "UINTEGER", "USMALLINT", "UTINYINT":
		return Int, true
	case "DOUBLE", "FLOAT8", "FLOAT", "FLOAT4", "REAL", "DECIMAL", "NUMERIC":
		return Double, true
	case "VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "ENUM":
		return String, true
	case "BOOLEAN", "BOOL", "LOGICAL":
		return Bool, true
	case "DATE", "TIMESTAMP", "DATETIME", "TIMESTAMP_US", "TIMESTAMP_MS", "TIMESTAMP_S":
		return Timestamp, true
	}
	return 0, false
}

// Feature is one per-customer variable a rule can read.
type Feature struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// StandardFeatures are the per-customer features of KPIS.md plus the
// customers columns of DATA.md and the CLV model's outputs. The engine builds
// its real schema from the customer_features table, which may hold more.
func StandardFeatures() []Feature {
	return []Feature{
		{"recency_days", Int},
		{"frequency", Int},
		{"monetary", Double},
		{"avg_order_value", Double},
		{"profit", Double},
		{"first_order_date", Timestamp},
		{"last_order_date", Timestamp},
		{"tenure_days", Int},
		{"orders_last_90d", Int},
		{"median_gap_days", Double},
		{"suspected_churn", Bool},
		{"r_score", Int},
		{"f_score", Int},
		{"m_score", Int},
		{"avg_monthly_spend", Double},
		{"monetary_rank_pct", Double},
		{"monetary_cum_share", Double},
		{"csat_avg", Double},
		{"nps_last", Int},
		{"complaints", Int},
		{"tickets", Int},
		{"email_open_rate", Double},
		{"customer_id", String},
		{"signup_date", Timestamp},
		{"region", String},
		{"segment", String},
		{"acquisition_channel", String},
		{"age", Int},
		{"referred_by", String},
		{"age_band", String},
		{"p_alive", Double},
		{"expected_purchases_90d", Double},
		{"clv_12m", Double},
	}
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// reservedNames cannot be variables: CEL keywords and reserved words, and
// the names of CEL's types, which an expression could not tell apart.
var reservedNames = map[string]bool{
	"true": true, "false": true, "null": true, "in": true, "as": true, "break": true,
	"const": true, "continue": true, "else": true, "for": true, "function": true, "if": true,
	"import": true, "let": true, "loop": true, "package": true, "namespace": true,
	"return": true, "var": true, "void": true, "while": true,
	"int": true, "uint": true, "double": true, "bool": true, "string": true, "bytes": true,
	"list": true, "map": true, "type": true, "null_type": true, "dyn": true,
	"timestamp": true, "duration": true, "google": true,
}

// ValidFeatureName reports whether name can be declared as a CEL variable.
// The engine uses it to leave out imported columns that rules cannot name.
func ValidFeatureName(name string) bool {
	return identRE.MatchString(name) && !reservedNames[name] && !strings.HasPrefix(name, "__")
}

// Schema is a set of features and the one CEL environment declaring them.
// It is immutable and safe for concurrent use.
type Schema struct {
	features []Feature
	index    map[string]int
	env      *cel.Env
}

// Names of the helper functions and their overloads.
const (
	fnPercentile         = "percentile"
	fnDaysSince          = "days_since"
	overloadPercentile   = "percentile_string_double"
	overloadDaysSince    = "days_since_timestamp"
	maxStringSizeForCost = 4096 // assumed longest text feature, for cost estimation
)

// NewSchema declares every feature with its type in one CEL environment,
// built once and shared by every rule set compiled against it.
func NewSchema(features []Feature) (*Schema, error) {
	s := &Schema{index: make(map[string]int, len(features))}
	var bad []string
	for _, f := range features {
		switch {
		case !ValidFeatureName(f.Name):
			bad = append(bad, fmt.Sprintf("%q is not a valid variable name", f.Name))
			continue
		case f.Type.celType() == nil:
			bad = append(bad, fmt.Sprintf("%q has unknown type %v", f.Name, f.Type))
			continue
		}
		if _, dup := s.index[f.Name]; dup {
			bad = append(bad, fmt.Sprintf("%q is declared twice", f.Name))
			continue
		}
		s.index[f.Name] = len(s.features)
		s.features = append(s.features, f)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("rules: new schema: %s", strings.Join(bad, "; "))
	}
	opts := []cel.EnvOption{
		cel.EagerlyValidateDeclarations(true),
		// "monetary > 100" reads naturally; CEL compares int and double
		// exactly as DuckDB does (the int converted to double).
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.ParserExpressionSizeLimit(MaxExpressionLength),
		// Both helpers depend on the evaluation (its as-of date, its
		// population), not on the expression: they are bound per evaluation.
		cel.Function(fnPercentile, cel.Overload(overloadPercentile,
			[]*cel.Type{cel.StringType, cel.DoubleType}, cel.DoubleType, cel.LateFunctionBinding())),
		cel.Function(fnDaysSince, cel.Overload(overloadDaysSince,
			[]*cel.Type{cel.TimestampType}, cel.IntType, cel.LateFunctionBinding())),
	}
	for _, f := range s.features {
		opts = append(opts, cel.Variable(f.Name, f.Type.celType()))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("rules: new schema: cel environment: %w", err)
	}
	s.env = env
	return s, nil
}

// Features returns the declared features in declaration order.
func (s *Schema) Features() []Feature {
	return append([]Feature(nil), s.features...)
}

// Feature looks a feature up by name.
func (s *Schema) Feature(name string) (Feature, bool) {
	i, ok := s.index[name]
	if !ok {
		return Feature{}, false
	}
	return s.features[i], true
}
