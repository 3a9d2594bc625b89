package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RecordFailure keeps a failed import in the history, so the history
// shows what was tried and why it was refused. It is a write of its own,
// after the failed one rolled back, and makes no generation: no data changed.
func RecordFailure(ctx context.Context, db *sql.DB, req Request, cause error) error {
	src := req.Source
	if src == "" {
		src = req.Path
	}
	mode := req.Mode
	if mode == "" {
		mode = "replace"
	}
	_, err := db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO meta_imports (kind, source, mode, status, message, imported_at)
		VALUES (?, ?, ?, 'failed', ?, ?)`, req.Kind, src, mode, cause.Error(), time.Now().UTC())
	return err
}

// Record is one import of the history.
type Record struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Source     string    `json:"source"`
	Mode       string    `json:"mode"`
	Status     string    `json:"status"`
	Rows       *int64    `json:"rows"`
	Checksum   *string   `json:"checksum"`
	Message    *string   `json:"message,omitempty"`
	ImportedAt time.Time `json:"imported_at" format:"date-time"`
}

// History returns the import history, newest first.
func History(ctx context.Context, db *sql.DB, limit int) ([]Record, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, kind, source, mode, status, rows, checksum, message, imported_at
		FROM meta_imports ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("import history: %w", err)
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		var r Record
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
