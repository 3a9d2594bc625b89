package rules

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
)

// SQLOptions places a translation in the engine's query.
type SQLOptions struct {
	// Alias qualifies feature columns, e.g. "f" gives f."monetary"; empty
	// leaves them unqualified. It must be a plain identifier.
	Alias string
	// Relation is the table or view percentile subqueries read, e.g.
	// "customer_features": the evaluation's population. Required when a
	// percentile is used.
	Relation string
	// AsOf is the evaluation's as-of date for days_since. Required when
	// days_since is used.
	AsOf time.Time
	// Percentiles, when it holds a percentile's value (computed by the
	// engine beforehand), makes the translation use that constant instead
	// of a scalar subquery over Relation.
	Percentiles map[PercentileRef]float64
}

// SQLRuleSet is a rule set translated to DuckDB SQL expressions over one
// row of features.
type SQLRuleSet struct {
	// Tier is CASE WHEN <c1> THEN 'tier1' ... ELSE 'default' END.
	Tier string
	// RuleIndex is CASE WHEN <c1> THEN 1 ... ELSE 0 END (0: the default).
	RuleIndex string
	// NullSkips[i] is true for a customer who reached rule i+1 (no earlier
	// rule matched) and whose condition for it was NULL (unknown).
	NullSkips []string
	// Conditions[i] is rule i+1's condition: TRUE, FALSE or NULL.
	Conditions []string
}

// maxSQLLength bounds one translated condition: a few constructs repeat an
// operand, and deep nesting of them would multiply the text.
const maxSQLLength = 64 << 10

// maxRuleSetSQLLength bounds the text of a whole translated rule set.
const maxRuleSetSQLLength = 4 << 20

var aliasRE = identRE

// SQL translates every rule to DuckDB SQL. It returns an error wrapping
// ErrNotTranslatable, naming the rule and the construct, when a rule uses
// something the translator does not support; evaluate in Go then.
func (c *Compiled) SQL(opts SQLOptions) (SQLRuleSet, error) {
	if err := checkSQLOptions(opts, c.daysSince); err != nil {
		return SQLRuleSet{}, fmt.Errorf("rules: translate %s: %w", c.label(), err)
	}
	out := SQLRuleSet{Conditions: make([]string, len(c.exprs))}
	for i, ce := range c.exprs {
		s, err := translate(c.schema, ce, opts)
		if err != nil {
			return SQLRuleSet{}, fmt.Errorf("rules: translate %s: rule %d (tier %q): %w", c.label(), i+1, c.set.Rules[i].Tier, err)
		}
		out.Conditions[i] = s
	}
	// The null-skip expressions repeat every earlier condition; refuse a
	// translation whose text would be unreasonably large.
	total := 0
	for i, cond := range out.Conditions {
		total += (len(out.Conditions) - i + 2) * len(cond)
	}
	if total > maxRuleSetSQLLength {
		return SQLRuleSet{}, fmt.Errorf("rules: translate %s: %w: the translation would be about %d bytes, over %d", c.label(), ErrNotTranslatable, total, maxRuleSetSQLLength)
	}
	var tier, idx strings.Builder
	tier.WriteString("CASE")
	idx.WriteString("CASE")
	for i, cond := range out.Conditions {
		fmt.Fprintf(&tier, " WHEN %s THEN %s", cond, quoteString(c.set.Rules[i].Tier))
		fmt.Fprintf(&idx, " WHEN %s THEN %d", cond, i+1)
	}
	fmt.Fprintf(&tier, " ELSE %s END", quoteString(c.set.Default))
	idx.WriteString(" ELSE 0 END")
	out.Tier, out.RuleIndex = tier.String(), idx.String()
	out.NullSkips = make([]string, len(out.Conditions))
	for i, cond := range out.Conditions {
		var b strings.Builder
		fmt.Fprintf(&b, "((%s) IS NULL", cond)
		for _, prev := range out.Conditions[:i] {
			fmt.Fprintf(&b, " AND (%s) IS NOT TRUE", prev)
		}
		b.WriteString(")")
		out.NullSkips[i] = b.String()
	}
	return out, nil
}

// SQL translates the condition to a DuckDB boolean expression, NULL when
// unknown (a WHERE clause drops it, as the Go path does).
func (c *Condition) SQL(opts SQLOptions) (string, error) {
	if err := checkSQLOptions(opts, c.expr.daysSince); err != nil {
		return "", fmt.Errorf("rules: translate condition: %w", err)
	}
	s, err := translate(c.schema, c.expr, opts)
	if err != nil {
		return "", fmt.Errorf("rules: translate condition: %w", err)
	}
	return s, nil
}

func checkSQLOptions(opts SQLOptions, days bool) error {
	if opts.Alias != "" && !aliasRE.MatchString(opts.Alias) {
		return fmt.Errorf("alias %q is not a plain identifier", opts.Alias)
	}
	if strings.ContainsAny(opts.Relation, ";") {
		return fmt.Errorf("relation %q is not a relation name", opts.Relation)
	}
	if days && opts.AsOf.IsZero() {
		return errors.New("days_since needs SQLOptions.AsOf")
	}
	return nil
}

// frag is a translated sub-expression.
type frag struct {
	sql  string
	kind types.Kind
	// nanFree is true for doubles that cannot be NaN (literals and
	// converted ints), which need no NaN guard in comparisons.
	nanFree bool
	// isConst is true for literals: never NULL.
	isConst bool
	// subquery is true when the text holds a percentile's scalar subquery,
	// which DuckDB does not allow inside TRY.
	subquery bool
}

type translator struct {
	s    *Schema
	nat  *ast.AST
	opts SQLOptions
	sub  map[int64]bool // expression id -> its text holds a subquery
}

func translate(s *Schema, ce *compiledExpr, opts SQLOptions) (string, error) {
	t := &translator{s: s, nat: ce.ast.NativeRep(), opts: opts, sub: map[int64]bool{}}
	f, err := t.expr(ce.ast.NativeRep().Expr())
	if err != nil {
		return "", err
	}
	if len(f.sql) > maxSQLLength {
		return "", fmt.Errorf("%w: the translation is %d bytes, over %d", ErrNotTranslatable, len(f.sql), maxSQLLength)
	}
	return f.sql, nil
}

func (t *translator) unsupported(e ast.Expr, format string, args ...any) error {
	loc := t.nat.SourceInfo().GetStartLocation(e.ID())
	return fmt.Errorf("%w: %s (line %d, column %d of the condition)", ErrNotTranslatable, fmt.Sprintf(format, args...), max(loc.Line(), 1), max(loc.Column(), 0)+1)
}

func (t *translator) kindOf(e ast.Expr) types.Kind {
	if ty := t.nat.GetType(e.ID()); ty != nil {
		return ty.Kind()
	}
	return types.DynKind
}

func (t *translator) expr(e ast.Expr) (frag, error) {
	f, err := t.node(e)
	if err != nil {
		return frag{}, err
	}
	// A call's text holds its arguments' text: it holds a subquery if any
	// of them does.
	if e.Kind() == ast.CallKind {
		c := e.AsCall()
		if c.IsMemberFunction() {
			f.subquery = f.subquery || t.sub[c.Target().ID()]
		}
		for _, a := range c.Args() {
			f.subquery = f.subquery || t.sub[a.ID()]
		}
	}
	t.sub[e.ID()] = f.subquery
	return f, nil
}

func (t *translator) node(e ast.Expr) (frag, error) {
	switch e.Kind() {
	case ast.LiteralKind:
		return t.literal(e)
	case ast.IdentKind:
		name := e.AsIdent()
		f, ok := t.s.Feature(name)
		if r, found := t.nat.ReferenceMap()[e.ID()]; !ok || !found || r.Name != name {
			return frag{}, t.unsupported(e, "variable %s is not a feature", name)
		}
		return frag{sql: t.column(f), kind: t.kindOf(e)}, nil
	case ast.CallKind:
		return t.call(e)
	case ast.ComprehensionKind:
		return frag{}, t.unsupported(e, "macros over lists (all, exists, map, filter)")
	case ast.ListKind:
		return frag{}, t.unsupported(e, "a list outside `in`")
	}
	return frag{}, t.unsupported(e, "this kind of expression")
}

func (t *translator) column(f Feature) string {
	col := quoteIdent(f.Name)
	if t.opts.Alias != "" {
		col = quoteIdent(t.opts.Alias) + "." + col
	}
	return "CAST(" + col + " AS " + f.Type.sqlType() + ")"
}

func (t *translator) literal(e ast.Expr) (frag, error) {
	switch v := e.AsLiteral().(type) {
	case types.Int:
		return frag{sql: "CAST(" + strconv.FormatInt(int64(v), 10) + " AS BIGINT)", kind: types.IntKind, isConst: true}, nil
	case types.Double:
		return frag{sql: doubleSQL(float64(v)), kind: types.DoubleKind, nanFree: !math.IsNaN(float64(v)), isConst: true}, nil
	case types.String:
		if strings.ContainsRune(string(v), 0) {
			return frag{}, t.unsupported(e, "a string holding a NUL character")
		}
		return frag{sql: quoteString(string(v)), kind: types.StringKind, isConst: true}, nil
	case types.Bool:
		if v {
			return frag{sql: "TRUE", kind: types.BoolKind, isConst: true}, nil
		}
		return frag{sql: "FALSE", kind: types.BoolKind, isConst: true}, nil
	}
	return frag{}, t.unsupported(e, "a %s literal", e.AsLiteral().Type().TypeName())
}

// doubleSQL writes a double constant through a string cast: DuckDB parses
// the shortest round-trip form exactly, where a plain literal would be
// DECIMAL first.
func doubleSQL(v float64) string {
	var s string
	switch {
	case math.IsNaN(v):
		s = "nan"
	case math.IsInf(v, 1):
		s = "inf"
	case math.IsInf(v, -1):
		s = "-inf"
	default:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return "CAST('" + s + "' AS DOUBLE)"
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func asDouble(f frag) string {
	if f.kind == types.IntKind {
		return "CAST(" + f.sql + " AS DOUBLE)"
	}
	return f.sql
}

func mayBeNaN(f frag) bool { return f.kind == types.DoubleKind && !f.nanFree }

var compareOps = map[string]string{
	operators.Less:          "<",
	operators.LessEquals:    "<=",
	operators.Greater:       ">",
	operators.GreaterEquals: ">=",
}

var intArith = map[string]string{
	overloads.AddInt64:      "+",
	overloads.SubtractInt64: "-",
	overloads.MultiplyInt64: "*",
	overloads.DivideInt64:   "//",
}

var doubleArith = map[string]string{
	overloads.AddDouble:      "+",
	overloads.SubtractDouble: "-",
	overloads.MultiplyDouble: "*",
	overloads.DivideDouble:   "/",
}

// call translates a function or operator call: first the operators whose
// translation does not depend on an overload, then by the one overload the
// checker resolved.
func (t *translator) call(e ast.Expr) (frag, error) {
	c := e.AsCall()
	fn := c.FunctionName()
	var args []ast.Expr
	if c.IsMemberFunction() {
		args = append(args, c.Target())
	}
	args = append(args, c.Args()...)

	switch fn {
	case operators.LogicalAnd, operators.LogicalOr:
		return t.junction(fn, args)
	case operators.LogicalNot:
		a, err := t.expr(args[0])
		if err != nil {
			return frag{}, err
		}
		return frag{sql: "(NOT " + a.sql + ")", kind: types.BoolKind}, nil
	case operators.Conditional:
		return t.conditional(e, args)
	case operators.In:
		return t.in(e, args)
	}

	ref, ok := t.nat.ReferenceMap()[e.ID()]
	if !ok || len(ref.OverloadIDs) != 1 {
		return frag{}, t.unsupported(e, "function %s on these argument types", fn)
	}
	return t.overload(e, fn, ref.OverloadIDs[0], args)
}

// junction translates && or || over all of args.
func (t *translator) junction(fn string, args []ast.Expr) (frag, error) {
	op := " AND "
	if fn == operators.LogicalOr {
		op = " OR "
	}
	parts, err := t.all(args)
	if err != nil {
		return frag{}, err
	}
	sqls := make([]string, len(parts))
	for i, p := range parts {
		sqls[i] = p.sql
	}
	return frag{sql: "(" + strings.Join(sqls, op) + ")", kind: types.BoolKind}, nil
}

// conditional translates cond ? a : b.
func (t *translator) conditional(e ast.Expr, args []ast.Expr) (frag, error) {
	parts, err := t.all(args)
	if err != nil {
		return frag{}, err
	}
	if parts[1].kind != parts[2].kind {
		return frag{}, t.unsupported(e, "a conditional with branches of different types")
	}
	// A NULL condition must give NULL, as CEL's unknown condition does,
	// not the ELSE branch: hence two explicit WHENs and no ELSE.
	return frag{
		sql:     "(CASE " + parts[0].sql + " WHEN TRUE THEN " + parts[1].sql + " WHEN FALSE THEN " + parts[2].sql + " END)",
		kind:    parts[1].kind,
		nanFree: parts[1].nanFree && parts[2].nanFree,
	}, nil
}

// overload translates a call by its resolved overload ov.
func (t *translator) overload(e ast.Expr, fn, ov string, args []ast.Expr) (frag, error) {
	// These need their arguments' source (literals), not their translation.
	switch ov {
	case overloadPercentile:
		return t.percentile(e, args)
	case overloadDaysSince:
		a, err := t.expr(args[0])
		if err != nil {
			return frag{}, err
		}
		return frag{sql: "date_diff('day', CAST(" + a.sql + " AS DATE), DATE '" + t.opts.AsOf.UTC().Format(time.DateOnly) + "')", kind: types.IntKind}, nil
	case overloads.StringToTimestamp:
		lit, ok := stringLiteral(args[0])
		if !ok {
			return frag{}, t.unsupported(e, "timestamp() of a computed string")
		}
		return t.timestampLiteral(e, lit)
	}
	parts, err := t.all(args)
	if err != nil {
		return frag{}, err
	}
	switch fn {
	case operators.Equals, operators.NotEquals:
		return t.equality(e, fn == operators.Equals, parts)
	case operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		return t.compare(e, compareOps[fn], parts)
	}
	if f, ok, err := t.arithmetic(e, ov, parts); ok {
		return f, err
	}
	return t.function(e, fn, ov, args, parts)
}

// anySubquery reports whether any of parts holds a percentile subquery.
func anySubquery(parts []frag) bool {
	for _, p := range parts {
		if p.subquery {
			return true
		}
	}
	return false
}

// arithmetic translates the numeric operators; ok is false when ov is not
// one of them.
func (t *translator) arithmetic(e ast.Expr, ov string, parts []frag) (f frag, ok bool, err error) {
	if _, isInt := intArith[ov]; (isInt || ov == overloads.ModuloInt64 || ov == overloads.NegateInt64) && anySubquery(parts) {
		return frag{}, true, t.unsupported(e, "integer arithmetic over a percentile")
	}
	if op, ok := intArith[ov]; ok {
		// DuckDB's BIGINT arithmetic raises an error where CEL's does
		// (overflow; // by zero is NULL already); TRY turns the error into
		// NULL, as CEL's error is unknown. Both truncate towards zero.
		// (TRY_CAST from HUGEINT would do too, but DuckDB 1.4's comparison
		// simplification unwraps it when compared with a constant.)
		return frag{sql: "TRY(" + parts[0].sql + " " + op + " " + parts[1].sql + ")", kind: types.IntKind}, true, nil
	}
	if op, ok := doubleArith[ov]; ok {
		// IEEE-754 in both: no errors, infinities and NaN alike.
		return frag{sql: "(" + parts[0].sql + " " + op + " " + parts[1].sql + ")", kind: types.DoubleKind}, true, nil
	}
	switch ov {
	case overloads.ModuloInt64:
		// Zero gives NULL and MinInt64 % -1 an error in DuckDB, CEL errors
		// for both; the sign follows the dividend in both.
		return frag{sql: "TRY(" + parts[0].sql + " % " + parts[1].sql + ")", kind: types.IntKind}, true, nil
	case overloads.NegateInt64:
		return frag{sql: "TRY(-" + parts[0].sql + ")", kind: types.IntKind}, true, nil
	case overloads.NegateDouble:
		return frag{sql: "(-" + parts[0].sql + ")", kind: types.DoubleKind, nanFree: parts[0].nanFree}, true, nil
	}
	return frag{}, false, nil
}

// function translates the string functions and the type conversions, the
// overloads left after operators and arithmetic.
func (t *translator) function(e ast.Expr, fn, ov string, args []ast.Expr, parts []frag) (frag, error) {
	switch ov {
	case overloads.AddString:
		return frag{sql: "(" + parts[0].sql + " || " + parts[1].sql + ")", kind: types.StringKind}, nil
	case overloads.SizeString, overloads.SizeStringInst:
		// length counts code points, as CEL's size does.
		return frag{sql: "CAST(length(" + parts[0].sql + ") AS BIGINT)", kind: types.IntKind}, nil
	case overloads.ContainsString:
		return frag{sql: "contains(" + parts[0].sql + ", " + parts[1].sql + ")", kind: types.BoolKind}, nil
	case overloads.StartsWithString:
		return frag{sql: "starts_with(" + parts[0].sql + ", " + parts[1].sql + ")", kind: types.BoolKind}, nil
	case overloads.EndsWithString:
		return frag{sql: "ends_with(" + parts[0].sql + ", " + parts[1].sql + ")", kind: types.BoolKind}, nil
	case overloads.Matches, overloads.MatchesString:
		if _, ok := stringLiteral(args[1]); !ok {
			return frag{}, t.unsupported(e, "matches with a computed pattern")
		}
		// DuckDB's regexp_matches is RE2, like Go's regexp: a partial
		// match with the same syntax; the pattern compiled in Go already.
		return frag{sql: "regexp_matches(" + parts[0].sql + ", " + parts[1].sql + ")", kind: types.BoolKind}, nil
	case overloads.IntToDouble:
		return frag{sql: "CAST(" + parts[0].sql + " AS DOUBLE)", kind: types.DoubleKind, nanFree: true}, nil
	case overloads.DoubleToInt:
		// CEL truncates and refuses NaN, infinities and values outside
		// (-2^63, 2^63): trunc, then a checked cast, -2^63 itself excluded.
		// (TRY_CAST from DOUBLE is safe from the simplification that
		// breaks TRY_CAST from HUGEINT: the cast is not invertible.)
		return frag{sql: "TRY_CAST(trunc(NULLIF(" + parts[0].sql + ", CAST('-9223372036854775808' AS DOUBLE))) AS BIGINT)", kind: types.IntKind, subquery: anySubquery(parts)}, nil
	case overloads.IntToInt, overloads.DoubleToDouble, overloads.StringToString, overloads.BoolToBool, overloads.TimestampToTimestamp:
		return parts[0], nil
	}
	return frag{}, t.unsupported(e, "function %s (%s)", strings.Trim(fn, "_"), ov)
}

func (t *translator) all(args []ast.Expr) ([]frag, error) {
	out := make([]frag, len(args))
	for i, a := range args {
		f, err := t.expr(a)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func (t *translator) equality(e ast.Expr, eq bool, p []frag) (frag, error) {
	a, b := p[0], p[1]
	if a.kind != b.kind {
		return frag{}, t.unsupported(e, "equality between different types")
	}
	switch a.kind {
	case types.IntKind, types.StringKind, types.BoolKind, types.TimestampKind:
	case types.DoubleKind:
		if !a.nanFree && !b.nanFree {
			// DuckDB holds NaN = NaN; CEL does not. a + b is NaN when either
			// is (or for opposite infinities, which are unequal anyway) and
			// NULL when either is NULL, keeping NULL dominant.
			if eq {
				return frag{sql: "((" + a.sql + " = " + b.sql + ") AND NOT isnan(" + a.sql + " + " + b.sql + "))", kind: types.BoolKind}, nil
			}
			return frag{sql: "((" + a.sql + " <> " + b.sql + ") OR isnan(" + a.sql + " + " + b.sql + "))", kind: types.BoolKind}, nil
		}
	default:
		return frag{}, t.unsupported(e, "equality of %s values", celKindName(a.kind))
	}
	op := " = "
	if !eq {
		op = " <> "
	}
	return frag{sql: "(" + a.sql + op + b.sql + ")", kind: types.BoolKind}, nil
}

func (t *translator) compare(e ast.Expr, op string, p []frag) (frag, error) {
	a, b := p[0], p[1]
	switch {
	case a.kind == b.kind && (a.kind == types.IntKind || a.kind == types.StringKind || a.kind == types.BoolKind || a.kind == types.TimestampKind):
		return frag{sql: "(" + a.sql + " " + op + " " + b.sql + ")", kind: types.BoolKind}, nil
	case (a.kind == types.IntKind || a.kind == types.DoubleKind) && (b.kind == types.IntKind || b.kind == types.DoubleKind):
	default:
		return frag{}, t.unsupported(e, "ordering of %s and %s", celKindName(a.kind), celKindName(b.kind))
	}
	l, r := asDouble(a), asDouble(b)
	cmp := "(" + l + " " + op + " " + r + ")"
	if !mayBeNaN(a) && !mayBeNaN(b) {
		return frag{sql: cmp, kind: types.BoolKind}, nil
	}
	// CEL orders NaN below, above and equal to nothing: every ordering with
	// a NaN is false, while DuckDB sorts NaN above everything. The guard is
	// false when either side is NaN and NULL when either is NULL, so that
	// NULL still wins as it does in CEL, where the comparison is strict.
	var guard string
	switch {
	case !mayBeNaN(a) && a.isConst:
		guard = "NOT isnan(" + r + ")"
	case !mayBeNaN(b) && b.isConst:
		guard = "NOT isnan(" + l + ")"
	default:
		guard = "(CAST(isnan(" + l + ") AS INTEGER) + CAST(isnan(" + r + ") AS INTEGER) = 0)"
	}
	return frag{sql: "(" + cmp + " AND " + guard + ")", kind: types.BoolKind}, nil
}

// in translates x in [constants]: the list must be literal constants of x's
// type, so no element can be NULL (CEL makes the whole list unknown then;
// SQL's IN would still find the others).
func (t *translator) in(e ast.Expr, args []ast.Expr) (frag, error) {
	x, err := t.expr(args[0])
	if err != nil {
		return frag{}, err
	}
	if args[1].Kind() != ast.ListKind {
		return frag{}, t.unsupported(e, "`in` over anything but a list of constants")
	}
	elems := args[1].AsList().Elements()
	if len(elems) == 0 {
		// CEL's optimized plan folds x in [] to false without evaluating x,
		// even when x is unknown.
		return frag{sql: "FALSE", kind: types.BoolKind, isConst: true}, nil
	}
	sqls := make([]string, len(elems))
	for i, el := range elems {
		var f frag
		var err error
		switch {
		case el.Kind() == ast.LiteralKind:
			f, err = t.literal(el)
		case el.Kind() == ast.CallKind && el.AsCall().FunctionName() == "timestamp" && len(el.AsCall().Args()) == 1:
			lit, ok := stringLiteral(el.AsCall().Args()[0])
			if !ok {
				return frag{}, t.unsupported(el, "`in` over a computed timestamp")
			}
			f, err = t.timestampLiteral(el, lit)
		default:
			return frag{}, t.unsupported(el, "`in` over a list that is not all constants")
		}
		if err != nil {
			return frag{}, err
		}
		if f.kind != x.kind {
			return frag{}, t.unsupported(el, "`in` over a list mixing %s and %s", celKindName(x.kind), celKindName(f.kind))
		}
		sqls[i] = f.sql
	}
	return frag{sql: "(" + x.sql + " IN (" + strings.Join(sqls, ", ") + "))", kind: types.BoolKind}, nil
}

func (t *translator) timestampLiteral(e ast.Expr, lit string) (frag, error) {
	v := types.String(lit).ConvertToType(types.TimestampType)
	ts, ok := v.(types.Timestamp)
	if !ok {
		return frag{}, t.unsupported(e, "an invalid timestamp %q", lit)
	}
	u := ts.Time.UTC()
	if u.Nanosecond()%1000 != 0 {
		return frag{}, t.unsupported(e, "a timestamp finer than microseconds")
	}
	return frag{sql: "TIMESTAMP '" + u.Format("2006-01-02 15:04:05.999999") + "'", kind: types.TimestampKind}, nil
}

func (t *translator) percentile(e ast.Expr, args []ast.Expr) (frag, error) {
	name, ok1 := stringLiteral(args[0])
	p, ok2 := doubleLiteral(args[1])
	f, ok3 := t.s.Feature(name)
	if !ok1 || !ok2 || !ok3 {
		return frag{}, t.unsupported(e, "percentile of a computed name or p")
	}
	if v, ok := t.opts.Percentiles[PercentileRef{Feature: name, P: p}]; ok {
		return frag{sql: doubleSQL(v), kind: types.DoubleKind, nanFree: !math.IsNaN(v), isConst: true}, nil
	}
	if strings.TrimSpace(t.opts.Relation) == "" {
		return frag{}, errors.New("percentile needs SQLOptions.Relation or its value in SQLOptions.Percentiles")
	}
	// NaN is left out like NULL (Quantile does the same); the relation's
	// own alias keeps the outer query's columns out of scope.
	col := `CAST("__pct"."` + strings.ReplaceAll(f.Name, `"`, `""`) + `" AS DOUBLE)`
	return frag{
		sql:      "(SELECT quantile_cont(" + col + ", " + doubleSQL(p) + ") FILTER (WHERE NOT isnan(" + col + ")) FROM " + t.opts.Relation + ` AS "__pct")`,
		kind:     types.DoubleKind,
		subquery: true,
	}, nil
}

func celKindName(k types.Kind) string {
	switch k {
	case types.IntKind:
		return "int"
	case types.DoubleKind:
		return "double"
	case types.StringKind:
		return "string"
	case types.BoolKind:
		return "bool"
	case types.TimestampKind:
		return "timestamp"
	case types.ListKind:
		return "list"
	case types.DurationKind:
		return "duration"
	}
	return "dynamic"
}
