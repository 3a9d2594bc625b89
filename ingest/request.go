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
}

// Result reports a successful import.
type Result struct {
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
