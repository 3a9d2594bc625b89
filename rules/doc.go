// Package rules compiles tier rule sets written in CEL (RULES.md) against a
// schema of per-customer features, translates them to DuckDB SQL for
// pushdown, and evaluates them in Go when SQL cannot express a rule.
//
// One *cel.Env is built per Schema; Compile checks every condition once
// (syntax, types, bool output, helper arguments, limits on length, nesting
// and CEL's estimated cost) and keeps one cel.Program per rule. Conditions
// that read text or loop (macros) run with cel.CostLimit and the caller's
// context (ContextEval, InterruptCheckFrequency); the others, whose
// estimated cost is a proven bound and which cannot block, run a plain
// optimized program, and the context is checked between customers.
//
// Feature values given to the Go path are int64 (or any Go integer), float64
// (or float32), string, bool, time.Time (read as UTC) or nil for null. Scan
// DECIMAL columns as DOUBLE (cast in the SELECT) so both paths see the same
// double.
//
// # Null semantics
//
// Conditions are evaluated in three-valued logic, identically on both paths.
// A null feature, and any run-time error inside a condition (integer
// overflow, integer division or modulo by zero, converting an out-of-range
// double to int, a percentile over no values), makes that sub-expression
// unknown. Unknown propagates through every operator and function except &&
// and ||, which absorb it in either order: false && unknown is false, true
// || unknown is true. !unknown is unknown, and c ? a : b with an unknown c is
// unknown. (One exception comes from CEL's optimizer: x in [] is false even
// for an unknown x.) A rule whose condition ends unknown does not match: the
// customer falls through to the next rule and is counted as a null skip of
// that rule. So with recency_days null, both recency_days > 365 and
// !(recency_days > 365) fail to match, while recency_days > 365 ||
// frequency == 0 matches a customer with frequency 0.
//
// This is SQL's three-valued logic: the SQL path emits NULL where Go has
// unknown (integer overflow and division by zero become NULL through TRY),
// and CASE WHEN treats NULL as not matched. In Go a null feature is left out
// of the activation; CEL's logical operators absorb the resulting error value
// exactly as SQL's AND and OR absorb NULL.
//
// Doubles follow IEEE-754 on both paths (x / 0.0 is an infinity, not an
// error) and keep CEL's meaning for NaN: it equals nothing, not even NaN, and
// every ordering with it (<, <=, >, >=) is false. percentile(feature, p) is
// DuckDB's quantile_cont over the evaluation's customers, ignoring nulls and
// NaN; days_since(ts) is date_diff('day', CAST(ts AS DATE), as_of).
//
// # SQL translation
//
// The translator walks the checked AST and emits only text it generates:
// feature names from the schema, double-quoted and cast to their type;
// constants quoted by Go. It supports comparisons, &&, ||, !, ?:, int and
// double arithmetic with CEL's semantics, in over constant lists, string
// size, contains, startsWith, endsWith, matches with a constant pattern,
// +, int/double conversions, timestamp constants, percentile and days_since.
// Anything else (macros over lists, durations, timestamp accessors, ...)
// makes SQL return an error wrapping ErrNotTranslatable, and the engine
// evaluates in Go.
package rules
