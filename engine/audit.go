package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuditRecord is one change made through the API: who (key id and name),
// when, what (action and target), and how it ended.
type AuditRecord struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at" format:"date-time"`
	KeyID   string    `json:"key_id,omitempty"`
	KeyName string    `json:"key_name,omitempty"`
	Action  string    `json:"action" example:"POST /v1/datasets/orders"`
	Target  string    `json:"target,omitempty"`
	Status  int       `json:"status"`
	Outcome string    `json:"outcome" enums:"ok,refused,failed"`
	Message string    `json:"message,omitempty"`
	// RequestID is the X-Request-ID of the request, to find its log line.
	RequestID string `json:"request_id,omitempty"`
}

// Audit records a change. It is not a generation: no data changed with it,
// and a failed change is recorded too.
func (e *Engine) Audit(ctx context.Context, r AuditRecord) error {
	if r.At.IsZero() {
		r.At = time.Now().UTC()
	}
	_, err := e.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO meta_audit (at_time, key_id, key_name, action, target, status, outcome, message, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.At, nullString(r.KeyID), nullString(r.KeyName), r.Action, nullString(r.Target), r.Status, r.Outcome,
		nullString(r.Message), nullString(r.RequestID))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditLog lists the changes, newest first.
func (e *Engine) AuditLog(ctx context.Context, limit int) ([]AuditRecord, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT id, at_time, key_id, key_name, action, target, status, outcome, message, request_id
		FROM meta_audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditRecord{}
	for rows.Next() {
		var r AuditRecord
		var key, name, target, msg, reqID sql.NullString
		var status sql.NullInt64
		if err := rows.Scan(&r.ID, &r.At, &key, &name, &r.Action, &target, &status, &r.Outcome, &msg, &reqID); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		r.KeyID, r.KeyName, r.Target, r.Message, r.Status = key.String, name.String, target.String, msg.String, int(status.Int64)
		r.RequestID = reqID.String
		out = append(out, r)
	}
	return out, rows.Err()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
