package kpi

import (
	"slices"
	"testing"
	"time"
)

func TestWithLiterals(t *testing.T) {
	jan := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	noon := time.Date(2024, 2, 1, 12, 30, 5, 123456789, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		name, sql string
		args      []any
		want      string
		bound     []any
	}{
		{"casts", "SELECT ?::DATE, ?::TIMESTAMP, ?::TINYINT, ?::DATE", []any{jan, noon, 3, noon},
			"SELECT DATE '2024-01-31', TIMESTAMP '2024-02-01 11:30:05.123456', 3::TINYINT, DATE '2024-02-01'", nil},
		{"strings, floats and uncast values stay bound", "SELECT ?::VARCHAR, ?, ?::DOUBLE, ?", []any{"x", jan, 1.5, int64(4)},
			"SELECT ?::VARCHAR, ?, ?::DOUBLE, ?", []any{"x", jan, 1.5, int64(4)}},
		{"a type with arguments or a time zone", "SELECT ?::DECIMAL(4, 1), ?::TIMESTAMP WITH TIME ZONE, ?::DATETIME", []any{5, jan, jan},
			"SELECT ?::DECIMAL(4, 1), ?::TIMESTAMP WITH TIME ZONE, TIMESTAMP '2024-01-31 00:00:00'::DATETIME", []any{5, jan}},
		{"quotes and comments hold no placeholder", "SELECT 'a?''?', \"b?\" -- c?\n/* d? */ FROM t WHERE x >= ?::DATE", []any{jan},
			"SELECT 'a?''?', \"b?\" -- c?\n/* d? */ FROM t WHERE x >= DATE '2024-01-31'", nil},
		{"more values than placeholders: as it came", "SELECT ?::DATE", []any{jan, jan}, "SELECT ?::DATE", []any{jan, jan}},
		{"fewer values than placeholders: as it came", "SELECT ?::DATE, ?::DATE", []any{jan}, "SELECT ?::DATE, ?::DATE", []any{jan}},
		{"a negative integer after a minus sign", "SELECT 1 -?::BIGINT", []any{int64(-5)}, "SELECT 1 -(-5)::BIGINT", nil},
		{"a year a literal cannot hold", "SELECT ?::DATE", []any{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "SELECT ?::DATE", []any{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	} {
		sql, bound := withLiterals(c.sql, c.args)
		if sql != c.want || !slices.Equal(bound, c.bound) {
			t.Errorf("%s: %q %v, want %q %v", c.name, sql, bound, c.want, c.bound)
		}
	}
}
