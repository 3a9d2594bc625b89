package ingest

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
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"custkpi/fault"
	"custkpi/progress"
	"custkpi/store"
)

// stagedColumn is a canonical or extra column of the staged file.
type stagedColumn struct {
	name    string // in the dataset
	source  string // in the file; "" when absent (an optional column)
	srcType string
	col     Column // zero for extra columns
	extra   bool
}

// fileImport is one file on its way in: the request, its kind, the staged
// columns, and the warnings gathered on the way. Its steps run on the
// write's connection, inside the write's transaction.
type fileImport struct {
	req  Request
	kind *Kind
	conn *sql.Conn
	cols []stagedColumn
	rows int64 // in the file
	// target is where the rows went: the dataset's table being replaced,
	// or the stage of an append (stageTable).
	target     string
	stageTable bool
	warnings   []string
}

// bad is a refusal of the file, naming it and its kind.
func (f *fileImport) bad(details map[string]any, format string, a ...any) error {
	if details == nil {
		details = map[string]any{}
	}
	details["file"] = f.req.Source
	details["kind"] = f.kind.Name
	return &fault.Error{Code: fault.CodeInvalidDataset, Message: f.req.Source + ": " + fmt.Sprintf(format, a...), Details: details}
}

// File imports one file inside a write's transaction, on its connection:
// read it once, load it where it goes (a replace writes the dataset's table
// itself, an append a typed stage), validate it, and record it with the
// generation. prev is the dataset's columns as loaded before (for append).
// A refused file is a fault.CodeInvalidDataset naming the file, the column
// and the first offending rows; the caller's rollback undoes what was
// written.
func File(ctx context.Context, conn *sql.Conn, gen int64, req Request, prev []string) (*Result, error) {
	f, err := newFileImport(conn, req)
	if err != nil {
		return nil, err
	}
	// Only a regular file has an end: a device (/dev/zero), a FIFO or a
	// socket would be read forever, holding the write lock. Checked before
	// anything opens it (opening a FIFO blocks until a writer comes), and
	// again on what was opened.
	if err := regularFile(req.Path); err != nil {
		return nil, f.bad(nil, "%v", err)
	}
	// The checksum reads the whole file too: it runs beside the load, and
	// stops when an early return closes the file.
	file, err := os.Open(req.Path)
	if err != nil {
		return nil, f.bad(nil, "cannot read the file: %v", unwrapPathError(err))
	}
	defer file.Close()
	before, err := file.Stat()
	if err != nil {
		return nil, f.bad(nil, "cannot read the file: %v", unwrapPathError(err))
	}
	if !before.Mode().IsRegular() {
		return nil, f.bad(nil, "not a regular file (%s): only regular files can be imported", fileType(before.Mode()))
	}
	sum := make(chan checksumResult, 1)
	go func() {
		c, err := readerChecksum(file)
		sum <- checksumResult{c, err}
	}()
	defer func() {
		drop := "DROP VIEW IF EXISTS temp.stage; DROP VIEW IF EXISTS temp.stage_src; RESET VARIABLE " + pathVariable
		if f.stageTable {
			drop = "DROP TABLE IF EXISTS temp.stage; DROP VIEW IF EXISTS temp.stage_src; RESET VARIABLE " + pathVariable
		}
		conn.ExecContext(context.WithoutCancel(ctx), drop)
	}()
	progress := progress.Of(ctx)
	progress.Phase("reading " + f.kind.Name)
	if err := f.openSource(ctx); err != nil {
		return nil, err
	}
	if f.rows == 0 && !req.AllowEmpty {
		return nil, f.bad(map[string]any{"rows": 0},
			"the file has no data rows; importing it would leave %s empty. If that is what you want, pass allow_empty (--allow-empty)", f.kind.Name)
	}
	// The file is read once, cast and written where it goes: a replace
	// writes the dataset's table itself (the write's transaction hides it
	// until the commit, and a refusal rolls it back), an append a typed
	// temporary stage. The checks then read that.
	progress.Phase("writing " + f.kind.Name)
	progress.Total(f.rows, "rows")
	if err := f.load(ctx); err != nil {
		return nil, err
	}
	progress.Add(f.rows)
	progress.Phase("validating " + f.kind.Name)
	progress.Total(f.rows, "rows")
	if err := f.validate(ctx); err != nil {
		return nil, err
	}
	progress.Add(f.rows)
	checksum := <-sum
	if checksum.err != nil {
		return nil, f.bad(nil, "cannot read the file: %v", unwrapPathError(checksum.err))
	}
	if err := unchanged(req.Path, before); err != nil {
		return nil, f.bad(nil, "%v", err)
	}
	return f.swapIn(ctx, gen, checksum.sum, prev)
}

// regularFile refuses what is not a regular file (symlinks followed).
func regularFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot read the file: %v", unwrapPathError(err))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s): only regular files can be imported", fileType(fi.Mode()))
	}
	return nil
}

// fileType names a file mode's type for a message.
func fileType(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "an irregular file"
}

// unchanged makes sure the file is the one read at the start: the load,
// the checks and the checksum each read it.
func unchanged(path string, before os.FileInfo) error {
	after, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot read the file: %v", unwrapPathError(err))
	}
	if !os.SameFile(before, after) || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return errors.New("the file changed while it was imported; import it again")
	}
	return nil
}

type checksumResult struct {
	sum string
	err error
}

// newFileImport checks the request's options and fills in the defaults.
func newFileImport(conn *sql.Conn, req Request) (*fileImport, error) {
	kind, err := LookupKind(req.Kind)
	if err != nil {
		return nil, err
	}
	if req.Mode == "" {
		req.Mode = "replace"
	}
	if req.Mode != "replace" && req.Mode != "append" {
		return nil, fault.InvalidParam("mode", "%q is not replace or append", req.Mode)
	}
	if req.Orphans == "" {
		req.Orphans = "reject"
	}
	if req.Orphans != "reject" && req.Orphans != "drop" {
		return nil, fault.InvalidParam("orphans", "%q is not reject or drop", req.Orphans)
	}
	if req.Source == "" {
		req.Source = req.Path
	}
	if req.Format == "" {
		switch strings.ToLower(filepath.Ext(req.Path)) {
		case ".csv", ".tsv", ".txt":
			req.Format = "csv"
		default:
			req.Format = "parquet"
		}
	}
	if req.Format != "parquet" && req.Format != "csv" {
		return nil, fault.InvalidParam("format", "%q is not parquet or csv", req.Format)
	}
	if lo, hi := req.timeRange(); !lo.Before(hi) {
		return nil, fmt.Errorf("import %s: the date range %s..%s is empty", kind.Name, lo.Format(time.DateOnly), hi.Format(time.DateOnly))
	}
	return &fileImport{req: req, kind: kind, conn: conn}, nil
}

// pathVariable is the session variable holding the path of the file being
// imported.
const pathVariable = "custkpi_import_path"

// openSource makes the file readable as the temporary view stage_src: its
// columns as they are, and __row numbering its rows from 1 (header
// excluded) so errors can name them. It counts the rows (Parquet answers
// from its metadata) and resolves the mapping against the columns. Nothing
// is copied: the load reads the file once, and only a refused file is read
// again, to name its offending rows.
//
// A view takes no bound parameters, so the path is bound into a session
// variable that the view reads: the caller's path never becomes SQL text.
func (f *fileImport) openSource(ctx context.Context) error {
	if _, err := f.conn.ExecContext(ctx, "SET VARIABLE "+pathVariable+" = ?", f.req.Path); err != nil {
		return fault.FromContext(ctx, err, "import "+f.kind.Name)
	}
	read := "SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS __row FROM read_parquet(getvariable('" + pathVariable + "'), file_row_number = true)"
	if f.req.Format == "csv" {
		read = "SELECT *, row_number() OVER () AS __row FROM read_csv(getvariable('" + pathVariable + "'), header = true)"
	}
	if _, err := f.conn.ExecContext(ctx, "CREATE OR REPLACE TEMP VIEW stage_src AS "+read); err != nil {
		if ctx.Err() != nil {
			return fault.FromContext(ctx, err, "import")
		}
		return f.bad(nil, "cannot read it as %s: %s", f.req.Format, firstLine(err.Error()))
	}
	if err := f.conn.QueryRowContext(ctx, "SELECT count(*) FROM stage_src").Scan(&f.rows); err != nil {
		if ctx.Err() != nil {
			return fault.FromContext(ctx, err, "import "+f.kind.Name)
		}
		return f.bad(nil, "cannot read it as %s: %s", f.req.Format, firstLine(err.Error()))
	}
	srcTypes, srcOrder, err := stageColumns(ctx, f.conn, "stage_src")
	if err != nil {
		return fmt.Errorf("import %s: %w", f.kind.Name, err)
	}
	if f.cols, err = resolveColumns(f.kind, f.req.Mapping, srcTypes, srcOrder, f.bad); err != nil {
		return err
	}
	return f.checkFeatureNames(ctx)
}

// checkFeatureNames refuses a customers column named like a feature that
// customer_features computes (recency_days, monetary, age_band, ...): the
// features' table would hold the column in the feature's place, and every
// rule and customer view would read the wrong value. The computed names
// are derived from the features macro itself (engine/sql/features.sql),
// as it binds against the loaded customers, so there is one list.
func (f *fileImport) checkFeatureNames(ctx context.Context) error {
	if f.kind.Name != "customers" {
		return nil
	}
	computed, err := ComputedFeatures(ctx, f.conn)
	if err != nil {
		return fmt.Errorf("import customers: %w", err)
	}
	for _, c := range f.cols {
		if c.extra && slices.Contains(computed, c.name) {
			return f.bad(map[string]any{"column": c.name, "source_column": c.source, "computed_features": computed},
				"column %s has the name of a feature computed for every customer (customer_features.%s); rename it in the file, "+
					"or map a canonical column onto it (e.g. region=%s), so the computed feature keeps its meaning", c.source, c.name, c.source)
		}
	}
	return nil
}

// ComputedFeatures lists the columns customer_features computes, in the
// order of its macro: every column of customer_features_at after the
// customers columns it starts with. A column of an older import that took
// a feature's name pushed the feature's own column to name_1 (DuckDB's
// renaming); that is read back as name.
func ComputedFeatures(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]string, error) {
	customerCols, err := columnNames(ctx, q, "DESCRIBE customers")
	if err != nil {
		return nil, fmt.Errorf("customers columns: %w", err)
	}
	all, err := columnNames(ctx, q, "DESCRIBE SELECT * FROM customer_features_at(TIMESTAMP '2000-01-01')")
	if err != nil {
		return nil, fmt.Errorf("feature columns: %w", err)
	}
	if len(all) < len(customerCols) {
		return nil, fmt.Errorf("feature columns: %d, fewer than the %d customers columns", len(all), len(customerCols))
	}
	out := make([]string, 0, len(all)-len(customerCols))
	for _, name := range all[len(customerCols):] {
		if i := strings.LastIndexByte(name, '_'); i > 0 && slices.Contains(customerCols, name[:i]) && strings.Trim(name[i+1:], "0123456789") == "" {
			name = name[:i]
		}
		out = append(out, name)
	}
	return out, nil
}

func columnNames(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, describe string) ([]string, error) {
	rows, err := q.QueryContext(ctx, describe)
	if err != nil {
		return nil, err
	}
	t, err := store.ScanTable(rows)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(t.Rows))
	for i, r := range t.Rows {
		names[i], _ = r[0].(string)
	}
	return names, nil
}

// needsCast tells whether a column's values must be cast to its canonical
// type (and so checked for values that do not cast).
func (c stagedColumn) needsCast() bool {
	return c.source != "" && !c.extra && !strings.EqualFold(c.srcType, c.col.Type)
}

// checkTypes demands that every value casts to its canonical type, before
// anything is written (a failed cast would abort the write's transaction).
// One scan of the file counts the failures of all the columns that need a
// cast, none when the file has the canonical types; only a failing column
// is read again for its first rows.
func (f *fileImport) checkTypes(ctx context.Context) error {
	var casts []string
	var cast []stagedColumn
	for _, c := range f.cols {
		if c.needsCast() {
			casts = append(casts, "count_if("+castFails(c)+")")
			cast = append(cast, c)
		}
	}
	if len(casts) == 0 {
		return nil
	}
	counts, err := store.CountRow(ctx, f.conn, "SELECT "+strings.Join(casts, ", ")+" FROM stage_src")
	if err != nil {
		return fault.FromContext(ctx, err, "import "+f.kind.Name+": check types")
	}
	for i, c := range cast {
		if n := counts[i]; n > 0 {
			rows, err := offendingRows(ctx, f.conn, "stage_src", c.source, castFails(c))
			if err != nil {
				return err
			}
			return f.bad(map[string]any{"column": c.name, "source_column": c.source, "expected_type": c.col.Type, "rows": rows, "count": n},
				"column %s: %d value(s) are not %s (first rows: %s)", c.source, n, c.col.Type, describeRows(rows, c.source))
		}
	}
	return nil
}

func castFails(c stagedColumn) string {
	return fmt.Sprintf("%s IS NOT NULL AND TRY_CAST(%s AS %s) IS NULL", store.QuoteIdent(c.source), store.QuoteIdent(c.source), c.col.Type)
}

// typedColumns is the select list that makes stage_src's columns the
// dataset's, in canonical order: absent optional columns as typed nulls so
// KPI macros bind, extra columns as they came.
func (f *fileImport) typedColumns() string {
	var sel []string
	for _, c := range f.cols {
		switch {
		case c.extra:
			sel = append(sel, store.QuoteIdent(c.source)+" AS "+store.QuoteIdent(c.name))
		case c.source == "":
			sel = append(sel, fmt.Sprintf("NULL::%s AS %s", c.col.Type, store.QuoteIdent(c.name)))
		default:
			sel = append(sel, fmt.Sprintf("TRY_CAST(%s AS %s) AS %s", store.QuoteIdent(c.source), c.col.Type, store.QuoteIdent(c.name)))
		}
	}
	return strings.Join(sel, ", ")
}

// columnList is the dataset's columns, quoted.
func (f *fileImport) columnList() string {
	names := make([]string, len(f.cols))
	for i, c := range f.cols {
		names[i] = store.QuoteIdent(c.name)
	}
	return strings.Join(names, ", ")
}

// load checks the types and reads the file once, cast, into where it goes:
// a replace writes the dataset's table, in the file's row order, and
// defines stage as a view
// of the typed file (read only to name a refused file's rows); an append
// copies it into the temporary table stage, which the append inserts from
// once it is checked. f.target is where the rows went.
func (f *fileImport) load(ctx context.Context) error {
	if err := f.checkTypes(ctx); err != nil {
		return err
	}
	typed := "SELECT __row, " + f.typedColumns() + " FROM stage_src"
	var stmts []string
	if f.req.Mode == "replace" {
		// No ORDER BY: DuckDB keeps the source's order (insertion order is
		// preserved). Sorting 10M orders by time cost 3 s (a third of the
		// import) and made the customer-grouped KPIs, most of the catalog,
		// slower on customer-clustered files (churn 2.4x, revenue by region
		// 1.7x at 1M customers); what it bought, pruning of short time
		// windows (a month's revenue: 5 ms against 136 ms), is left to
		// precomputed per-generation structures.
		f.target = store.QuoteIdent(f.kind.Name)
		stmts = []string{
			fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT %s FROM (%s)", f.target, f.columnList(), typed),
			"CREATE OR REPLACE TEMP VIEW stage AS " + typed,
		}
	} else {
		f.target = "stage"
		f.stageTable = true
		stmts = []string{"CREATE OR REPLACE TEMP TABLE stage AS " + typed}
	}
	for _, q := range stmts {
		if _, err := f.conn.ExecContext(ctx, q); err != nil {
			return fault.FromContext(ctx, err, "import "+f.kind.Name+": load")
		}
	}
	return nil
}

// valueCheck is a condition no row of a column may meet.
type valueCheck struct {
	column, what, cond string
}

// valueChecks lists the required, finiteness, date range, range and
// allowed-value checks. Numbers must be finite and dates and timestamps
// inside the request's range in extra columns too: they become dimensions
// and rule features.
func (f *fileImport) valueChecks() []valueCheck {
	var checks []valueCheck
	lo, hi := f.req.timeRange()
	for _, c := range f.cols {
		q := store.QuoteIdent(c.name)
		typ := c.col.Type
		if c.extra {
			typ = c.srcType
		}
		if c.source != "" {
			checks = append(checks, finiteChecks(c.name, q, typ, lo, hi)...)
		}
		if c.extra {
			continue
		}
		if c.col.Required {
			checks = append(checks, valueCheck{c.name, "is empty (required)", q + " IS NULL"})
		}
		if c.col.Min != nil && c.col.Max != nil {
			checks = append(checks, valueCheck{c.name, fmt.Sprintf("is outside %g..%g", *c.col.Min, *c.col.Max),
				fmt.Sprintf("%s < %g OR %s > %g", q, *c.col.Min, q, *c.col.Max)})
		} else if c.col.Min != nil {
			checks = append(checks, valueCheck{c.name, fmt.Sprintf("is below %g", *c.col.Min), fmt.Sprintf("%s < %g", q, *c.col.Min)})
		}
		if len(c.col.OneOf) > 0 {
			vals := make([]string, len(c.col.OneOf))
			for i, v := range c.col.OneOf {
				vals[i] = store.QuoteString(v)
			}
			checks = append(checks, valueCheck{c.name, "is not one of " + strings.Join(c.col.OneOf, ", "),
				fmt.Sprintf("%s NOT IN (%s)", q, strings.Join(vals, ", "))})
		}
	}
	return checks
}

// finiteChecks refuse NaN and ±Inf in a floating-point column (sums and
// averages over them are NaN, which no answer can carry) and dates and
// timestamps outside [lo, hi), infinity and -infinity among them (every
// window and feature computed over them fails).
func finiteChecks(name, q, typ string, lo, hi time.Time) []valueCheck {
	typ = strings.ToUpper(typ)
	switch {
	case typ == "DOUBLE" || typ == "FLOAT" || typ == "REAL":
		return []valueCheck{{name, "are NaN or infinite (numbers must be finite)", fmt.Sprintf("isnan(%s) OR isinf(%s)", q, q)}}
	case typ == "DATE":
		return []valueCheck{{name, rangeWhat(lo, hi),
			fmt.Sprintf("%s < DATE '%s' OR %s >= DATE '%s'", q, lo.Format(time.DateOnly), q, hi.Format(time.DateOnly))}}
	case strings.HasPrefix(typ, "TIMESTAMP"):
		// TIMESTAMP_NS, _MS, _S and WITH TIME ZONE compare as TIMESTAMP.
		v := "CAST(" + q + " AS TIMESTAMP)"
		return []valueCheck{{name, rangeWhat(lo, hi),
			fmt.Sprintf("%s < TIMESTAMP '%s' OR %s >= TIMESTAMP '%s'", v, lo.Format(time.DateTime), v, hi.Format(time.DateTime))}}
	}
	return nil
}

func rangeWhat(lo, hi time.Time) string {
	return fmt.Sprintf("are outside %s..%s (before the first or on or after the second; infinity is refused too)",
		lo.Format(time.DateOnly), hi.Format(time.DateOnly))
}

// validate runs the value, uniqueness and orphan checks in one scan, and
// reports the first failing one in that order, its first offending rows
// read from stage. With orphans=drop the orphans are deleted from the
// loaded rows and reported as a warning.
//
// The scan reads the loaded rows, except that a Parquet file replacing a
// dataset is read again through stage instead: DuckDB scans a table written
// in the open transaction on one thread, and the file in parallel, about
// twice as fast. What was read is what was loaded: the file must not change
// in between (unchanged checks its size and modification time).
func (f *fileImport) validate(ctx context.Context) error {
	checks := f.valueChecks()
	var exprs []string
	for _, ch := range checks {
		exprs = append(exprs, "count_if("+ch.cond+")")
	}
	var unique, refs []stagedColumn
	for _, c := range f.cols {
		if c.col.Unique {
			unique = append(unique, c)
			// Nulls are the required check's, and left out here. The
			// hashes are counted, not the values (8.85M order_ids: 0.8 s
			// against 1.0 s): equal values hash alike, so no duplicate
			// goes unseen, and a collision only sends checkUnique
			// looking for duplicates it does not find.
			q := store.QuoteIdent(c.name)
			exprs = append(exprs, fmt.Sprintf("count(%s) - count(DISTINCT hash(%s)) FILTER (WHERE %s IS NOT NULL)", q, q, q))
		}
		if c.col.References != "" {
			refs = append(refs, c)
			exprs = append(exprs, "count_if("+orphanCond(c)+")")
		}
	}
	if len(exprs) == 0 {
		return nil
	}
	scanned := f.target
	if f.req.Format == "parquet" {
		scanned = "stage"
	}
	counts, err := store.CountRow(ctx, f.conn, "SELECT "+strings.Join(exprs, ", ")+" FROM "+scanned)
	if err != nil {
		return fault.FromContext(ctx, err, "import "+f.kind.Name+": check values")
	}
	if err := f.valueFailure(ctx, checks, counts[:len(checks)]); err != nil {
		return err
	}
	counts = counts[len(checks):]
	if err := f.checkUnique(ctx, unique, counts[:len(unique)]); err != nil {
		return err
	}
	return f.checkOrphans(ctx, refs, counts[len(unique):])
}

// valueFailure reports the first value check that counted rows.
func (f *fileImport) valueFailure(ctx context.Context, checks []valueCheck, counts []int64) error {
	for i, ch := range checks {
		if counts[i] == 0 {
			continue
		}
		rows, err := offendingRows(ctx, f.conn, "stage", ch.column, ch.cond)
		if err != nil {
			return err
		}
		src := sourceName(f.cols, ch.column)
		return f.bad(map[string]any{"column": ch.column, "source_column": src, "rows": rows, "count": counts[i]},
			"column %s: %d value(s) %s (first rows: %s)", src, counts[i], ch.what, describeRows(rows, ch.column))
	}
	return nil
}

// checkUnique demands unique ids within the file (counts: the duplicates
// each unique column has in it) and, when appending, against the loaded
// data; it lists the first duplicates.
func (f *fileImport) checkUnique(ctx context.Context, unique []stagedColumn, counts []int64) error {
	for i, c := range unique {
		if counts[i] == 0 && f.req.Mode != "append" {
			continue
		}
		q := store.QuoteIdent(c.name)
		dupSQL := fmt.Sprintf(`SELECT %s, list(__row ORDER BY __row)[:5], count(*) FROM stage GROUP BY 1 HAVING count(*) > 1 ORDER BY min(__row) LIMIT %d`, q, maxShownRows)
		if f.req.Mode == "append" {
			dupSQL = fmt.Sprintf(`SELECT %s, list(__row ORDER BY __row)[:5], count(*) FROM (
				SELECT %s, __row FROM stage UNION ALL SELECT %s, NULL FROM %s WHERE %s IN (SELECT %s FROM stage))
				GROUP BY 1 HAVING count(*) > 1 ORDER BY min(__row) LIMIT %d`, q, q, q, store.QuoteIdent(f.kind.Name), q, q, maxShownRows)
		}
		dups, err := duplicateRows(ctx, f.conn, dupSQL)
		if err != nil {
			return fault.FromContext(ctx, err, "import "+f.kind.Name+": check unique "+c.name)
		}
		if len(dups) > 0 {
			var parts []string
			for _, d := range dups {
				parts = append(parts, fmt.Sprintf("%v at rows %v", d["value"], d["rows"]))
			}
			src := sourceName(f.cols, c.name)
			return f.bad(map[string]any{"column": c.name, "source_column": src, "duplicates": dups},
				"column %s must be unique: duplicate %s", src, strings.Join(parts, "; "))
		}
	}
	return nil
}

// orphanCond holds for a row whose customer is not in customers: the
// customers of this write, since a batch imports customers first in the
// same transaction.
func orphanCond(c stagedColumn) string {
	return fmt.Sprintf("%s NOT IN (SELECT customer_id FROM customers)", store.QuoteIdent(c.name))
}

// checkOrphans refuses (or, with orphans=drop, deletes from the loaded rows
// and reports) rows whose customer is not in customers; counts: how many
// each referencing column has.
func (f *fileImport) checkOrphans(ctx context.Context, refs []stagedColumn, counts []int64) error {
	for i, c := range refs {
		if counts[i] == 0 {
			continue
		}
		cond := orphanCond(c)
		rows, err := offendingRows(ctx, f.conn, "stage", c.name, cond)
		if err != nil {
			return err
		}
		if f.req.Orphans == "reject" {
			return f.bad(map[string]any{"column": c.name, "source_column": sourceName(f.cols, c.name), "rows": rows, "count": counts[i]},
				"%d row(s) reference a customer_id that is not in customers (first rows: %s); import customers first, or pass orphans=drop to exclude them",
				counts[i], describeRows(rows, c.name))
		}
		if _, err := f.conn.ExecContext(ctx, "DELETE FROM "+f.target+" WHERE "+cond); err != nil {
			return fault.FromContext(ctx, err, "import "+f.kind.Name+": drop orphans")
		}
		f.warnings = append(f.warnings, fmt.Sprintf("%d row(s) dropped: customer_id not in customers (first rows: %s)", counts[i], describeRows(rows, c.name)))
	}
	return nil
}

// swapIn appends the stage to the dataset's table, in time order (a
// replace wrote the table in load), and records the import with its
// generation. It runs in the
// write's transaction: nothing of it is seen before the commit.
func (f *fileImport) swapIn(ctx context.Context, gen int64, checksum string, prev []string) (*Result, error) {
	kind, req := f.kind, f.req
	present := make([]string, 0, len(f.cols))
	for _, c := range f.cols {
		if c.source != "" {
			present = append(present, c.name)
		}
	}
	if req.Mode == "append" {
		if err := f.checkAppendColumns(ctx); err != nil {
			return nil, err
		}
		present = appendedColumns(present, prev)
		if _, err := f.conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s BY NAME SELECT %s FROM stage",
			store.QuoteIdent(kind.Name), f.columnList())); err != nil {
			return nil, fault.FromContext(ctx, err, "import "+kind.Name+": swap")
		}
	}
	// The rows of the file that were written: all of them, less dropped
	// orphans.
	var rows int64
	if err := f.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+f.target).Scan(&rows); err != nil {
		return nil, fmt.Errorf("import %s: %w", kind.Name, err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := f.conn.ExecContext(ctx, `INSERT INTO meta_imports (kind, source, mode, status, rows, checksum, columns, imported_at, generation)
		VALUES (?, ?, ?, 'ok', ?, ?, ?::VARCHAR[], ?, ?)`, kind.Name, req.Source, req.Mode, rows, checksum, present, now, gen); err != nil {
		return nil, fmt.Errorf("import %s: record: %w", kind.Name, err)
	}
	if err := f.warnOrphanedOrders(ctx); err != nil {
		return nil, err
	}
	warnings := f.warnings
	if warnings == nil {
		warnings = []string{}
	}
	return &Result{Kind: kind.Name, Mode: req.Mode, Rows: rows, Source: req.Source, Checksum: checksum,
		ImportedAt: now, Columns: present, Warnings: warnings}, nil
}

// checkAppendColumns refuses an append that brings extra columns the loaded
// table does not have.
func (f *fileImport) checkAppendColumns(ctx context.Context) error {
	existing, err := store.TableColumns(ctx, f.conn, f.kind.Name)
	if err != nil {
		return err
	}
	for _, c := range f.cols {
		if c.extra && !slices.Contains(existing, c.name) {
			return f.bad(map[string]any{"column": c.name}, "column %s is not in the loaded %s data; append needs the same extra columns (or replace)", c.source, f.kind.Name)
		}
	}
	return nil
}

// appendedColumns: the dataset's columns are those of every file appended.
func appendedColumns(present []string, prev []string) []string {
	for _, c := range prev {
		if !slices.Contains(present, c) {
			present = append(present, c)
		}
	}
	return present
}

// warnOrphanedOrders warns when new customers leave loaded orders without a
// customer.
func (f *fileImport) warnOrphanedOrders(ctx context.Context) error {
	if f.kind.Name != "customers" {
		return nil
	}
	var orphans int64
	if err := f.conn.QueryRowContext(ctx, "SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT customer_id FROM customers)").Scan(&orphans); err != nil {
		return fault.FromContext(ctx, err, "import customers: orphaned orders")
	}
	if orphans > 0 {
		f.warnings = append(f.warnings, fmt.Sprintf("%d loaded order(s) now reference a customer_id that is not in customers; they count in KPIs without dimensions", orphans))
	}
	return nil
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
			found := shownColumns(srcOrder)
			return nil, bad(map[string]any{"mapping": canon, "column": src, "found": found},
				"mapping %s=%s: the file has no column %s (columns found: %s)", canon, src, src, strings.Join(found, ", "))
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
				found := shownColumns(srcOrder)
				return nil, bad(map[string]any{"column": c.Name, "found": found},
					"missing required column %s (columns found: %s; map another column with %s=<column>)", c.Name, strings.Join(found, ", "), c.Name)
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

// offendingRows returns the first rows (1-based row number and value) of
// table where cond holds.
func offendingRows(ctx context.Context, conn *sql.Conn, table, column, cond string) ([]map[string]any, error) {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT __row, CAST(%s AS VARCHAR) FROM %s WHERE %s ORDER BY __row LIMIT %d",
		store.QuoteIdent(column), table, cond, maxShownRows))
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
	t, err := store.ScanTable(rows)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, r := range t.Rows {
		var at []int64
		if list, ok := r[1].([]any); ok {
			for _, x := range list {
				if n, ok := store.Normalise(x, "").(int64); ok {
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

func readerChecksum(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
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

// columnName is what a column name looks like; a header that does not (a
// line of a file that is no table) is not echoed back. Compiled when
// first needed: its Unicode classes took 4–7 ms of every process's start.
var columnName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[\p{L}\p{N}_][\p{L}\p{N}_ .\-]{0,63}$`)
})

// shownColumns are the file's column names as an error may show them: the
// first 50, and none at all when they do not look like column names, so a
// refusal never echoes a file's contents.
func shownColumns(cols []string) []string {
	for _, c := range cols {
		if !columnName().MatchString(c) {
			return []string{"(the first line does not look like column names)"}
		}
	}
	if len(cols) > 50 {
		return append(cols[:50:50], fmt.Sprintf("(and %d more)", len(cols)-50))
	}
	return cols
}
