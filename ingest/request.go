package ingest

import "time"

// Request imports one file as a dataset of a kind.
type Request struct {
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
	// AllowEmpty accepts a file with no data rows. Without it such a file
	// is refused: replacing a dataset with nothing is more often a wrong
	// file than an intent.
	AllowEmpty bool
	// MinTime and MaxTime bound the dates and timestamps of the file
	// (MinTime inclusive, MaxTime exclusive); zero: DefaultMinTime and
	// DefaultMaxTime. Values outside, infinity and -infinity among them,
	// are refused. The server's operator sets them, not the caller.
	MinTime, MaxTime time.Time
}

// The default range of the dates and timestamps a file may hold: wide
// enough for any customer record, narrow enough to refuse typos (year
// 20024) and the infinite timestamps DuckDB can store, which break every
// window and feature computed from them.
var (
	DefaultMinTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	DefaultMaxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// timeRange is the request's range with the defaults filled in.
func (r Request) timeRange() (lo, hi time.Time) {
	lo, hi = r.MinTime, r.MaxTime
	if lo.IsZero() {
		lo = DefaultMinTime
	}
	if hi.IsZero() {
		hi = DefaultMaxTime
	}
	return lo, hi
}

// Result reports a successful import.
type Result struct {
	Kind       string    `json:"kind"`
	Mode       string    `json:"mode"`
	Rows       int64     `json:"rows"`
	TotalRows  int64     `json:"total_rows"`
	Source     string    `json:"source"`
	Checksum   string    `json:"checksum"`
	ImportedAt time.Time `json:"imported_at" format:"date-time"`
	Columns    []string  `json:"columns"`
	Warnings   []string  `json:"warnings"`
}

// maxShownRows is how many offending rows an import error lists.
const maxShownRows = 5
