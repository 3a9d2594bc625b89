package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"custkpi/queries"
)

// Pack is a named set of KPIs for a business goal or customer type.
type (
	Pack    = queries.Pack
	PackKPI = queries.PackKPI
)

// Packs lists the built-in packs and those added through the API, by name.
func (e *Engine) Packs(ctx context.Context) ([]*Pack, error) {
	out, err := queries.BuiltinPacks()
	if err != nil {
		return nil, err
	}
	rows, err := e.db.QueryContext(ctx, "SELECT CAST(document AS VARCHAR) FROM meta_packs ORDER BY name")
	if err != nil {
		return nil, contextErr(ctx, err, "packs")
	}
	defer rows.Close()
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("packs: %w", err)
		}
		var p Pack
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			return nil, fmt.Errorf("packs: stored document: %w", err)
		}
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("packs: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PackByName finds a pack.
func (e *Engine) PackByName(ctx context.Context, name string) (*Pack, error) {
	packs, err := e.Packs(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range packs {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(packs))
	for i, p := range packs {
		names[i] = p.Name
	}
	return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("no KPI pack %q; packs: %v", name, names),
		Details: map[string]any{"pack": name, "packs": names}}
}

// SavePack stores (or replaces) a pack added through the API, as one
// write. The document's name, when given, must be the path's; its KPIs
// must be in the catalog; a KPI without a direction takes the KPI's. A
// built-in pack cannot be replaced. created tells a new pack from a
// replaced one.
func (e *Engine) SavePack(ctx context.Context, name string, doc []byte) (p *Pack, created bool, err error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	p, err = queries.ParsePack(doc)
	if p != nil && p.Name == "" {
		p.Name = name
		err = p.Check()
	}
	if err != nil {
		return nil, false, &Error{Code: CodeInvalidParameter, Message: "invalid pack: " + err.Error(), Details: map[string]any{"parameter": "body"}}
	}
	if p.Name != name {
		return nil, false, invalidParam("name", "the document names pack %q, the path %q", p.Name, name)
	}
	builtins, err := queries.BuiltinPacks()
	if err != nil {
		return nil, false, err
	}
	if slices.ContainsFunc(builtins, func(b *Pack) bool { return b.Name == name }) {
		return nil, false, invalidParam("name", "%s is a built-in pack (a file beside the KPIs); save yours under another name", name)
	}
	for i := range p.KPIs {
		k, err := e.catalog.Lookup(p.KPIs[i].KPI)
		if err != nil {
			return nil, false, &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("invalid pack: KPI %d: %s", i+1, err.Error()),
				Details: map[string]any{"parameter": "kpis", "kpi": p.KPIs[i].KPI}}
		}
		if len(k.Default.Group) > 0 {
			return nil, false, invalidParam("kpis", "%s is a matrix, which has no single value for a scorecard", k.Name)
		}
		if p.KPIs[i].Direction == "" {
			p.KPIs[i].Direction = k.Default.Direction
		}
	}
	p.Builtin = false
	body, err := json.Marshal(p)
	if err != nil {
		return nil, false, fmt.Errorf("save pack: %w", err)
	}
	_, err = e.write(ctx, "save pack", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		res, err := conn.ExecContext(ctx, "DELETE FROM meta_packs WHERE name = ?", name)
		if err != nil {
			return fmt.Errorf("save pack: %w", err)
		}
		n, _ := res.RowsAffected()
		created = n == 0
		if _, err := conn.ExecContext(ctx, "INSERT INTO meta_packs VALUES (?, ?, ?)", name, string(body), time.Now().UTC()); err != nil {
			return fmt.Errorf("save pack: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return p, created, nil
}

// DeletePack removes a pack added through the API.
func (e *Engine) DeletePack(ctx context.Context, name string) error {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	p, err := e.PackByName(ctx, name)
	if err != nil {
		return err
	}
	if p.Builtin {
		return invalidParam("name", "%s is a built-in pack (a file beside the KPIs) and cannot be deleted", name)
	}
	_, err = e.write(ctx, "delete pack", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		_, err := conn.ExecContext(ctx, "DELETE FROM meta_packs WHERE name = ?", name)
		return err
	})
	return err
}
