package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ImportRequest imports one file as a dataset of a kind.
type ImportRequest struct {
	Kind string
	// Path of a Parquet or CSV file readable by the server.
	Path string
	// Format is parquet or csv; empty: from the file extension.
	Format string
	// Mapping renames source columns to canonical ones: canonical → source
	// (order_date=created_at).
	Mapping map[string]string
	// Mode is replace (default) or append.
	Mode string
	// Orphans is what to do with rows whose customer_id is not in customers:
	// reject (default: the import fails naming them) or drop (they are
	// excluded and reported as a warning, as DATA.md allows).
	Orphans string
	// Source is the name recorded in the import history (an upload's file
	// name); default: Path.
	Source string
}

// ImportResult reports a successful import.
type ImportResult struct {
	Kind       string    `json:"kind"`
	Mode       string    `json:"mode"`
	Rows       int64     `json:"rows"`
	TotalRows  int64     `json:"total_rows"`
	Source     string    `json:"source"`
	Checksum   string    `json:"checksum"`
	ImportedAt time.Time `json:"imported_at"`
	Columns    []string  `json:"columns"`
	Warnings   []string  `json:"warnings"`
}

// maxShownRows is how many offending rows an import error lists.
const maxShownRows = 5

// Import validates a file and swaps it in as the dataset of its kind, all or
// nothing: a file that fails leaves the data imported before untouched.
func (e *Engine) Import(ctx context.Context, req ImportRequest) (*ImportResult, error) {
	res, err := e.ImportBatch(ctx, []ImportRequest{req})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// ImportBatch imports several files in order (customers first where orders
// reference them) and rebuilds the features once at the end. Each file is
// its own all-or-nothing import; the first failure stops the batch.
func (e *Engine) ImportBatch(ctx context.Context, reqs []ImportRequest) ([]*ImportResult, error) {
	e.importMu.Lock()
	defer e.importMu.Unlock()
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer conn.Close()
	var out []*ImportResult
	var firstErr error
	for _, req := range reqs {
		res, err := e.importOne(ctx, conn, req)
		if err != nil {
			e.recordFailure(ctx, conn, req, err)
			firstErr = err
			break
		}
		out = append(out, res)
	}
	if len(out) > 0 {
		// Data changed: refresh what derives from it, even when a later
		// file of the batch failed.
		if err := e.refreshDerived(ctx, conn); err != nil && firstErr == nil {
			firstErr = err
		}
		e.cache.purge()
	}
	if err := e.loadState(ctx); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return out, firstErr
	}
	for _, r := range out {
		if d := e.dataset(r.Kind); d != nil {
			r.TotalRows = d.Rows
		}
	}
	return out, nil
}

// stagedColumn is a canonical or extra column of the staged file.
type stagedColumn struct {
	name    string // in the dataset
	source  string // in the file; "" when absent (an optional column)
	srcType string
	col     Column // zero for extra columns
	extra   bool
}

func (e *Engine) importOne(ctx context.Context, conn *sql.Conn, req ImportRequest) (*ImportResult, error) {
	kind, err := LookupKind(req.Kind)
	if err != nil {
		return nil, err
	}
	if req.Mode == "" {
		req.Mode = "replace"
	}
	if req.Mode != "replace" && req.Mode != "append" {
		return nil, invalidParam("mode", "%q is not replace or append", req.Mode)
	}
	if req.Orphans == "" {
		req.Orphans = "reject"
	}
	if req.Orphans != "reject" && req.Orphans != "drop" {
		return nil, invalidParam("orphans", "%q is not reject or drop", req.Orphans)
	}
	if req.Source == "" {
		req.Source = req.Path
	}
	file := req.Source
	bad := func(details map[string]any, format string, a ...any) error {
		if details == nil {
			details = map[string]any{}
		}
		details["file"] = file
		details["kind"] = kind.Name
		return &Error{Code: CodeInvalidDataset, Message: file + ": " + fmt.Sprintf(format, a...), Details: details}
	}

	checksum, err := fileChecksum(req.Path)
	if err != nil {
		return nil, bad(nil, "cannot read the file: %v", unwrapPathError(err))
	}
	format := req.Format
	if format == "" {
		switch strings.ToLower(filepath.Ext(req.Path)) {
		case ".csv", ".tsv", ".txt":
			format = "csv"
		default:
			format = "parquet"
		}
	}
	var read string
	switch format {
	case "parquet":
		read = "SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS __row FROM read_parquet(?, file_row_number = true)"
	case "csv":
		read = "SELECT *, row_number() OVER () AS __row FROM read_csv(?, header = true)"
	default:
		return nil, invalidParam("format", "%q is not parquet or csv", format)
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE stage_raw AS "+read, req.Path); err != nil {
		if ctx.Err() != nil {
			return nil, contextErr(ctx, err, "import")
		}
		return nil, bad(nil, "cannot read it as %s: %s", format, firstLine(err.Error()))
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.stage_raw; DROP TABLE IF EXISTS temp.stage")

	srcTypes, srcOrder, err := stageColumns(ctx, conn, "stage_raw")
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", kind.Name, err)
	}

	// Resolve the mapping: canonical name → source column.
	cols, err := resolveColumns(kind, req.Mapping, srcTypes, srcOrder, bad)
	if err != nil {
		return nil, err
	}
	var warnings []string

	// Types: every value must cast to the canonical type. One scan counts
	// the failures of all columns; only failing columns are read again for
	// their first rows.
	var casts []string
	for _, c := range cols {
		if c.source == "" || c.extra || strings.EqualFold(c.srcType, c.col.Type) {
			continue
		}
		casts = append(casts, fmt.Sprintf("count_if(%s IS NOT NULL AND TRY_CAST(%s AS %s) IS NULL)",
			quoteIdent(c.source), quoteIdent(c.source), c.col.Type))
	}
	if len(casts) > 0 {
		counts, err := countRow(ctx, conn, "SELECT "+strings.Join(casts, ", ")+" FROM stage_raw")
		if err != nil {
			return nil, fmt.Errorf("import %s: check types: %w", kind.Name, err)
		}
		i := 0
		for _, c := range cols {
			if c.source == "" || c.extra || strings.EqualFold(c.srcType, c.col.Type) {
				continue
			}
			if n := counts[i]; n > 0 {
				rows, err := offendingRows(ctx, conn, "stage_raw", c.source, fmt.Sprintf("%s IS NOT NULL AND TRY_CAST(%s AS %s) IS NULL",
					quoteIdent(c.source), quoteIdent(c.source), c.col.Type))
				if err != nil {
					return nil, err
				}
				return nil, bad(map[string]any{"column": c.name, "source_column": c.source, "expected_type": c.col.Type, "rows": rows, "count": n},
					"column %s: %d value(s) are not %s (first rows: %s)", c.source, n, c.col.Type, describeRows(rows, c.source))
			}
			i++
		}
	}

	// The typed stage, in canonical order, absent optional columns as
	// typed nulls so KPI macros bind, extra columns as they came.
	var sel []string
	for _, c := range cols {
		switch {
		case c.extra:
			sel = append(sel, quoteIdent(c.source)+" AS "+quoteIdent(c.name))
		case c.source == "":
			sel = append(sel, fmt.Sprintf("NULL::%s AS %s", c.col.Type, quoteIdent(c.name)))
		default:
			sel = append(sel, fmt.Sprintf("TRY_CAST(%s AS %s) AS %s", quoteIdent(c.source), c.col.Type, quoteIdent(c.name)))
		}
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE stage AS SELECT __row, "+strings.Join(sel, ", ")+" FROM stage_raw"); err != nil {
		return nil, contextErr(ctx, err, "import "+kind.Name+": stage")
	}

	// Value checks, all in one scan.
	type check struct {
		column, what, cond string
	}
	var checks []check
	for _, c := range cols {
		if c.extra {
			continue
		}
		q := quoteIdent(c.name)
		if c.col.Required {
			checks = append(checks, check{c.name, "is empty (required)", q + " IS NULL"})
		}
		if c.col.Min != nil && c.col.Max != nil {
			checks = append(checks, check{c.name, fmt.Sprintf("is outside %g..%g", *c.col.Min, *c.col.Max),
				fmt.Sprintf("%s < %g OR %s > %g", q, *c.col.Min, q, *c.col.Max)})
		} else if c.col.Min != nil {
			checks = append(checks, check{c.name, fmt.Sprintf("is below %g", *c.col.Min), fmt.Sprintf("%s < %g", q, *c.col.Min)})
		}
		if len(c.col.OneOf) > 0 {
			vals := make([]string, len(c.col.OneOf))
			for i, v := range c.col.OneOf {
				vals[i] = quoteString(v)
			}
			checks = append(checks, check{c.name, "is not one of " + strings.Join(c.col.OneOf, ", "),
				fmt.Sprintf("%s NOT IN (%s)", q, strings.Join(vals, ", "))})
		}
	}
	if len(checks) > 0 {
		exprs := make([]string, len(checks))
		for i, ch := range checks {
			exprs[i] = "count_if(" + ch.cond + ")"
		}
		counts, err := countRow(ctx, conn, "SELECT "+strings.Join(exprs, ", ")+" FROM stage")
		if err != nil {
			return nil, contextErr(ctx, err, "import "+kind.Name+": check values")
		}
		for i, ch := range checks {
			if counts[i] == 0 {
				continue
			}
			rows, err := offendingRows(ctx, conn, "stage", ch.column, ch.cond)
			if err != nil {
				return nil, err
			}
			src := sourceName(cols, ch.column)
			return nil, bad(map[string]any{"column": ch.column, "source_column": src, "rows": rows, "count": counts[i]},
				"column %s: %d value(s) %s (first rows: %s)", src, counts[i], ch.what, describeRows(rows, ch.column))
		}
	}

	// Unique ids, within the file and, when appending, against the data.
	for _, c := range cols {
		if !c.col.Unique {
			continue
		}
		q := quoteIdent(c.name)
		dupSQL := fmt.Sprintf(`SELECT %s, list(__row ORDER BY __row)[:5], count(*) FROM stage GROUP BY 1 HAVING count(*) > 1 ORDER BY min(__row) LIMIT %d`, q, maxShownRows)
		if req.Mode == "append" {
			dupSQL = fmt.Sprintf(`SELECT %s, list(__row ORDER BY __row)[:5], count(*) FROM (
				SELECT %s, __row FROM stage UNION ALL SELECT %s, NULL FROM %s WHERE %s IN (SELECT %s FROM stage))
				GROUP BY 1 HAVING count(*) > 1 ORDER BY min(__row) LIMIT %d`, q, q, q, quoteIdent(kind.Name), q, q, maxShownRows)
		}
		dups, err := duplicateRows(ctx, conn, dupSQL)
		if err != nil {
			return nil, contextErr(ctx, err, "import "+kind.Name+": check unique "+c.name)
		}
		if len(dups) > 0 {
			var parts []string
			for _, d := range dups {
				parts = append(parts, fmt.Sprintf("%v at rows %v", d["value"], d["rows"]))
			}
			return nil, bad(map[string]any{"column": c.name, "source_column": sourceName(cols, c.name), "duplicates": dups},
				"column %s must be unique: duplicate %s", sourceName(cols, c.name), strings.Join(parts, "; "))
		}
	}

	// Orphans: rows whose customer is not in customers.
	for _, c := range cols {
		if c.col.References == "" {
			continue
		}
		cond := fmt.Sprintf("%s NOT IN (SELECT customer_id FROM customers)", quoteIdent(c.name))
		counts, err := countRow(ctx, conn, "SELECT count_if("+cond+") FROM stage")
		if err != nil {
			return nil, contextErr(ctx, err, "import "+kind.Name+": check orphans")
		}
		if counts[0] == 0 {
			continue
		}
		rows, err := offendingRows(ctx, conn, "stage", c.name, cond)
		if err != nil {
			return nil, err
		}
		if req.Orphans == "reject" {
			return nil, bad(map[string]any{"column": c.name, "source_column": sourceName(cols, c.name), "rows": rows, "count": counts[0]},
				"%d row(s) reference a customer_id that is not in customers (first rows: %s); import customers first, or pass orphans=drop to exclude them",
				counts[0], describeRows(rows, c.name))
		}
		if _, err := conn.ExecContext(ctx, "DELETE FROM stage WHERE "+cond); err != nil {
			return nil, contextErr(ctx, err, "import "+kind.Name+": drop orphans")
		}
		warnings = append(warnings, fmt.Sprintf("%d row(s) dropped: customer_id not in customers (first rows: %s)", counts[0], describeRows(rows, c.name)))
	}

	// Swap in, in one transaction with the history row.
	now := time.Now().UTC().Truncate(time.Microsecond)
	colNames := make([]string, 0, len(cols))
	present := make([]string, 0, len(cols))
	for _, c := range cols {
		colNames = append(colNames, quoteIdent(c.name))
		if c.source != "" {
			present = append(present, c.name)
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", kind.Name, err)
	}
	defer tx.Rollback()
	table := quoteIdent(kind.Name)
	order := "__row"
	if kind.SortBy != "" {
		order = quoteIdent(kind.SortBy) + ", __row"
	}
	if req.Mode == "replace" {
		_, err = tx.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT %s FROM stage ORDER BY %s", table, strings.Join(colNames, ", "), order))
	} else {
		existing, cerr := e.tableColumns(ctx, tx, kind.Name)
		if cerr != nil {
			return nil, cerr
		}
		for _, c := range cols {
			if c.extra && !slices.Contains(existing, c.name) {
				return nil, bad(map[string]any{"column": c.name}, "column %s is not in the loaded %s data; append needs the same extra columns (or replace)", c.source, kind.Name)
			}
		}
		_, err = tx.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s BY NAME SELECT %s FROM stage ORDER BY %s", table, strings.Join(colNames, ", "), order))
	}
	if err != nil {
		return nil, contextErr(ctx, err, "import "+kind.Name+": swap")
	}
	var rows int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM stage").Scan(&rows); err != nil {
		return nil, fmt.Errorf("import %s: %w", kind.Name, err)
	}
	if req.Mode == "append" {
		// The dataset's columns are those of every file appended so far.
		if prev := e.dataset(kind.Name); prev != nil {
			for _, c := range prev.Columns {
				if !slices.Contains(present, c) {
					present = append(present, c)
				}
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta_imports (kind, source, mode, status, rows, checksum, columns, imported_at)
		VALUES (?, ?, ?, 'ok', ?, ?, ?::VARCHAR[], ?)`, kind.Name, req.Source, req.Mode, rows, checksum, present, now); err != nil {
		return nil, fmt.Errorf("import %s: record: %w", kind.Name, err)
	}
	if kind.Name == "customers" {
		var orphans int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT customer_id FROM customers)").Scan(&orphans); err == nil && orphans > 0 {
			warnings = append(warnings, fmt.Sprintf("%d loaded order(s) now reference a customer_id that is not in customers; they count in KPIs without dimensions", orphans))
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("import %s: commit: %w", kind.Name, err)
	}
	if warnings == nil {
		warnings = []string{}
	}
	return &ImportResult{Kind: kind.Name, Mode: req.Mode, Rows: rows, Source: req.Source, Checksum: checksum,
		ImportedAt: now, Columns: present, Warnings: warnings}, nil
}

// resolveColumns pairs the kind's canonical columns with the file's columns
// through the mapping, and keeps the file's other columns as extras.
func resolveColumns(kind *Kind, mapping map[string]string, srcTypes map[string]string, srcOrder []string,
	bad func(map[string]any, string, ...any) error) ([]stagedColumn, error) {
	used := map[string]bool{}
	for canon, src := range mapping {
		if _, ok := kind.column(canon); !ok {
			return nil, bad(map[string]any{"mapping": canon}, "mapping %s=%s: %s is not a column of %s (columns: %s)",
				canon, src, canon, kind.Name, strings.Join(kind.columnNames(), ", "))
		}
		if _, ok := srcTypes[src]; !ok {
			return nil, bad(map[string]any{"mapping": canon, "column": src, "found": srcOrder},
				"mapping %s=%s: the file has no column %s (columns found: %s)", canon, src, src, strings.Join(srcOrder, ", "))
		}
	}
	var cols []stagedColumn
	for _, c := range kind.Columns {
		src := c.Name
		if m, ok := mapping[c.Name]; ok {
			src = m
		}
		if _, ok := srcTypes[src]; !ok {
			if c.Required {
				return nil, bad(map[string]any{"column": c.Name, "found": srcOrder},
					"missing required column %s (columns found: %s; map another column with %s=<column>)", c.Name, strings.Join(srcOrder, ", "), c.Name)
			}
			cols = append(cols, stagedColumn{name: c.Name, col: c})
			continue
		}
		used[src] = true
		cols = append(cols, stagedColumn{name: c.Name, source: src, srcType: srcTypes[src], col: c})
	}
	// Pattern columns (score_*), mapped or by name, then the extras.
	for _, src := range srcOrder {
		if used[src] || src == "__row" {
			continue
		}
		name := src
		for canon, m := range mapping {
			if m == src {
				name = canon
			}
		}
		if c, ok := kind.column(name); ok && len(kind.Patterns) > 0 && !slices.ContainsFunc(kind.Columns, func(k Column) bool { return k.Name == name }) {
			cols = append(cols, stagedColumn{name: name, source: src, srcType: srcTypes[src], col: c})
			continue
		}
		if _, ok := kind.column(name); ok {
			// A canonical name that another column was mapped onto: the
			// mapped column wins; this one is dropped.
			continue
		}
		cols = append(cols, stagedColumn{name: name, source: src, srcType: srcTypes[src], extra: true})
	}
	return cols, nil
}

func (k *Kind) columnNames() []string {
	out := make([]string, 0, len(k.Columns)+len(k.Patterns))
	for _, c := range k.Columns {
		out = append(out, c.Name)
	}
	for _, p := range k.Patterns {
		out = append(out, p.Name+"*")
	}
	return out
}

func sourceName(cols []stagedColumn, name string) string {
	for _, c := range cols {
		if c.name == name && c.source != "" {
			return c.source
		}
	}
	return name
}

func stageColumns(ctx context.Context, conn *sql.Conn, table string) (map[string]string, []string, error) {
	rows, err := conn.QueryContext(ctx, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' AND table_catalog = 'temp' ORDER BY ordinal_position", table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	types := map[string]string{}
	var order []string
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, nil, err
		}
		if n == "__row" {
			continue
		}
		types[n] = t
		order = append(order, n)
	}
	return types, order, rows.Err()
}

func countRow(ctx context.Context, conn *sql.Conn, query string) ([]int64, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	t, err := scanTable(rows)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(t.columns))
	for i, v := range t.rows[0] {
		if n, ok := v.(int64); ok {
			out[i] = n
		}
	}
	return out, nil
}

// offendingRows returns the first rows (1-based row number and value) of
// table where cond holds.
func offendingRows(ctx context.Context, conn *sql.Conn, table, column, cond string) ([]map[string]any, error) {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT __row, CAST(%s AS VARCHAR) FROM %s WHERE %s ORDER BY __row LIMIT %d",
		quoteIdent(column), table, cond, maxShownRows))
	if err != nil {
		return nil, fmt.Errorf("offending rows: %w", err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var row int64
		var v sql.NullString
		if err := rows.Scan(&row, &v); err != nil {
			return nil, err
		}
		var val any
		if v.Valid {
			val = v.String
		}
		out = append(out, map[string]any{"row": row, "value": val})
	}
	return out, rows.Err()
}

func duplicateRows(ctx context.Context, conn *sql.Conn, query string) ([]map[string]any, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	t, err := scanTable(rows)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, r := range t.rows {
		var at []int64
		if list, ok := r[1].([]any); ok {
			for _, x := range list {
				if n, ok := normalise(x, "").(int64); ok {
					at = append(at, n)
				}
			}
		}
		out = append(out, map[string]any{"value": r[0], "rows": at, "count": r[2]})
	}
	return out, nil
}

func describeRows(rows []map[string]any, column string) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		v := r["value"]
		if v == nil {
			v = "null"
		} else {
			v = fmt.Sprintf("%q", v)
		}
		parts[i] = fmt.Sprintf("row %d %s=%v", r["row"], column, v)
	}
	return strings.Join(parts, ", ")
}

func fileChecksum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// recordFailure keeps a failed import in the history, so GET /v1/datasets
// shows what was tried and why it was refused.
func (e *Engine) recordFailure(ctx context.Context, conn *sql.Conn, req ImportRequest, cause error) {
	src := req.Source
	if src == "" {
		src = req.Path
	}
	mode := req.Mode
	if mode == "" {
		mode = "replace"
	}
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), `INSERT INTO meta_imports (kind, source, mode, status, message, imported_at)
		VALUES (?, ?, ?, 'failed', ?, ?)`, req.Kind, src, mode, cause.Error(), time.Now().UTC()); err != nil {
		e.log.Warn("record failed import", "kind", req.Kind, "err", err)
	}
}

// ImportHistory lists every import, newest first.
type ImportRecord struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Source     string    `json:"source"`
	Mode       string    `json:"mode"`
	Status     string    `json:"status"`
	Rows       *int64    `json:"rows"`
	Checksum   *string   `json:"checksum"`
	Message    *string   `json:"message,omitempty"`
	ImportedAt time.Time `json:"imported_at"`
}

// ImportHistory returns the import history, newest first.
func (e *Engine) ImportHistory(ctx context.Context, limit int) ([]ImportRecord, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT id, kind, source, mode, status, rows, checksum, message, imported_at
		FROM meta_imports ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("import history: %w", err)
	}
	defer rows.Close()
	out := []ImportRecord{}
	for rows.Next() {
		var r ImportRecord
		var n sql.NullInt64
		var c, m sql.NullString
		if err := rows.Scan(&r.ID, &r.Kind, &r.Source, &r.Mode, &r.Status, &n, &c, &m, &r.ImportedAt); err != nil {
			return nil, fmt.Errorf("import history: %w", err)
		}
		if n.Valid {
			r.Rows = &n.Int64
		}
		if c.Valid {
			r.Checksum = &c.String
		}
		if m.Valid {
			r.Message = &m.String
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Datasets lists the loaded datasets by kind, in the data contract's order.
func (e *Engine) Datasets() []*DatasetInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []*DatasetInfo
	for _, k := range Kinds {
		if d := e.datasets[k.Name]; d != nil {
			c := *d
			out = append(out, &c)
		}
	}
	return out
}
