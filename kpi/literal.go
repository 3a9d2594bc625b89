package kpi

import (
	"strconv"
	"strings"
	"time"
)

// withLiterals writes the statement's times and integers into its
// text as typed literals, and keeps every other value bound.
//
// Why: duckdb-go runs a statement with values by preparing it and then
// executing the prepared statement. DuckDB 1.4.3 plans it when prepared,
// with the values unknown, and plans it again when executed, with them
// known (the values are constants of the second plan, so its scans skip
// the row groups outside the window). The first plan is thrown away: on
// a request of a few milliseconds it was 1.2–1.5 ms of them. A statement
// with no value left is planned once.
//
// The planner computes these values (period bounds, window starts and
// ends, the months of a calendar row, the key ranges of a tier or wide
// dimension, evaluation ids), and their literals are made from their
// fields, so no request text can reach the SQL through them. Strings,
// which may be request text, and floats stay bound. A value is written
// only where its placeholder is cast (?::TIMESTAMP, ?::DATE, ?::TINYINT,
// ?::BIGINT), so its type is the cast's as before, never one DuckDB
// infers from the literal.
//
// The placeholders are found as DuckDB finds them: outside string
// literals, quoted identifiers and comments. When their count does not
// match the values, the statement is returned as it came.
func withLiterals(sql string, args []any) (string, []any) {
	var out strings.Builder
	out.Grow(len(sql) + 16*len(args))
	kept := make([]any, 0, len(args))
	n := 0
	for i := 0; i < len(sql); i++ {
		// Copy up to the next character that may start a quote, a
		// comment or a placeholder at once.
		if next := strings.IndexAny(sql[i:], `'"-/?`); next < 0 {
			out.WriteString(sql[i:])
			break
		} else if next > 0 {
			out.WriteString(sql[i : i+next])
			i += next
		}
		if j := skipText(sql, i); j > i {
			out.WriteString(sql[i:j])
			i = j - 1
			continue
		}
		if sql[i] != '?' {
			out.WriteByte(sql[i])
			continue
		}
		if n == len(args) {
			return sql, args
		}
		lit, skip, ok := literal(args[n], sql[i+1:])
		if ok {
			out.WriteString(lit)
			i += skip
		} else {
			out.WriteByte('?')
			kept = append(kept, args[n])
		}
		n++
	}
	if n != len(args) {
		return sql, args
	}
	return out.String(), kept
}

// skipText is the end of the string literal, quoted identifier or
// comment starting at i, or i when none starts there.
func skipText(sql string, i int) int {
	switch {
	case sql[i] == '\'' || sql[i] == '"':
		// A doubled quote inside is the quote itself: scanning on from
		// the next quote reads it as the end and a new start.
		if end := strings.IndexByte(sql[i+1:], sql[i]); end >= 0 {
			return i + 1 + end + 1
		}
		return len(sql)
	case strings.HasPrefix(sql[i:], "--"):
		if end := strings.IndexByte(sql[i:], '\n'); end >= 0 {
			return i + end
		}
		return len(sql)
	case strings.HasPrefix(sql[i:], "/*"):
		if end := strings.Index(sql[i+2:], "*/"); end >= 0 {
			return i + 2 + end + 2
		}
		return len(sql)
	}
	return i
}

// literal is the SQL of value v at a placeholder followed by rest, and
// how much of rest it replaces (a cast to DATE or TIMESTAMP: the literal
// has that type); ok is false when v stays bound: it is no time or
// integer, or its placeholder is not cast.
func literal(v any, rest string) (sql string, skip int, ok bool) {
	cast := castAfter(rest)
	if cast == "" {
		return "", 0, false
	}
	switch v := v.(type) {
	case int:
		return intLiteral(int64(v)), 0, true
	case int64:
		return intLiteral(v), 0, true
	case time.Time:
		t := v.UTC().Truncate(time.Microsecond)
		if t.Year() < 1 || t.Year() > 9999 {
			return "", 0, false
		}
		if cast == "DATE" {
			return "DATE '" + t.Format(time.DateOnly) + "'", len("::DATE"), true
		}
		ts := "TIMESTAMP '" + t.Format("2006-01-02 15:04:05.999999") + "'"
		if cast == "TIMESTAMP" {
			return ts, len("::TIMESTAMP"), true
		}
		return ts, 0, true
	}
	return "", 0, false
}

// intLiteral is v's literal, a negative one in brackets: after a minus
// sign, "-" and the literal's own would start a comment.
func intLiteral(v int64) string {
	if v < 0 {
		return "(" + strconv.FormatInt(v, 10) + ")"
	}
	return strconv.FormatInt(v, 10)
}

// castAfter is the type of the cast rest starts with (::DATE), or "".
func castAfter(rest string) string {
	if !strings.HasPrefix(rest, "::") {
		return ""
	}
	end := 2
	for end < len(rest) && (rest[end] == '_' || rest[end] >= 'A' && rest[end] <= 'Z' || rest[end] >= 'a' && rest[end] <= 'z' || rest[end] >= '0' && rest[end] <= '9') {
		end++
	}
	if end < len(rest) && (rest[end] == '(' || rest[end] == '[') || strings.HasPrefix(strings.TrimLeft(rest[end:], " \n\t"), "WITH") {
		// A type with arguments, a list or a time zone: the literal
		// stays out of it.
		return ""
	}
	return strings.ToUpper(rest[2:end])
}
