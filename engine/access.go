package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"custkpi/kpi"
	"custkpi/store"
)

// Roles, each including the one before (API.md, "Access").
const (
	RoleReader  = "reader"
	RoleAnalyst = "analyst"
	RoleAdmin   = "admin"
)

var roleRank = map[string]int{RoleReader: 1, RoleAnalyst: 2, RoleAdmin: 3}

// RoleAllows tells whether role may do what needs at least min.
func RoleAllows(role, min string) bool { return roleRank[role] >= roleRank[min] && roleRank[min] > 0 }

// Scope restricts the customers a key sees: customers column → allowed
// values. Empty: every customer.
type Scope map[string][]string

// Principal is who a request acts as: a key, or the local admin of a
// server without keys (protected mode).
type Principal struct {
	KeyID string `json:"key_id,omitempty"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Scope Scope  `json:"scope,omitempty"`
}

// LocalAdmin is the principal of a loopback client while the database holds
// no key.
var LocalAdmin = &Principal{Name: "local", Role: RoleAdmin}

// Key describes an API key (never its secret).
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role" enums:"reader,analyst,admin"`
	Scope     Scope      `json:"scope,omitempty"`
	CreatedAt time.Time  `json:"created_at" format:"date-time"`
	RevokedAt *time.Time `json:"revoked_at,omitempty" format:"date-time"`
}

// NewKey is a created key with its secret, shown once.
type NewKey struct {
	Key
	Secret string `json:"key"`
}

// storedKey is a key as the snapshot holds it for authentication.
type storedKey struct {
	Key
	hash []byte
}

// keyPrefix starts every key, so a leaked one is recognisable in logs and
// secret scanners.
const keyPrefix = "ck_"

// CreateKey makes a key with a random 256-bit secret; only its SHA-256 is
// stored (the secret is random, so a slow hash adds nothing). The scope's
// columns must be customers columns.
func (e *Engine) CreateKey(ctx context.Context, name, role string, scope Scope) (*NewKey, error) {
	if strings.TrimSpace(name) == "" || len(name) > 100 {
		return nil, invalidParam("name", "a key needs a name of 1 to 100 characters")
	}
	if roleRank[role] == 0 {
		return nil, invalidParam("role", "%q is not reader, analyst or admin", role)
	}
	if err := e.checkScope(scope); err != nil {
		return nil, err
	}
	id, secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	k := &NewKey{Key: Key{ID: id, Name: name, Role: role, Scope: scope, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)},
		Secret: keyPrefix + id + "_" + secret}
	doc, _ := json.Marshal(scope)
	sum := sha256.Sum256([]byte(secret))
	_, err = e.write(ctx, "create key", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		_, err := conn.ExecContext(ctx, `INSERT INTO meta_keys (id, name, role, scope, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, name, role, string(doc), hex.EncodeToString(sum[:]), k.CreatedAt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

func newSecret() (id, secret string, err error) {
	b := make([]byte, 8+32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("create key: %w", err)
	}
	return hex.EncodeToString(b[:8]), base64.RawURLEncoding.EncodeToString(b[8:]), nil
}

// checkScope demands customers columns (not identifiers) and values.
func (e *Engine) checkScope(scope Scope) error {
	cols := kpi.CustomerDimensions(e.snap().data)
	for col, vals := range scope {
		if col == "age_band" || !slices.Contains(cols, col) {
			return invalidParam("scope", "%q is not a customers column (%s)", col, strings.Join(slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return c == "age_band" }), ", "))
		}
		if len(vals) == 0 {
			return invalidParam("scope", "column %q lists no values", col)
		}
	}
	return nil
}

// RevokeKey revokes a key; its requests answer 401 from then on.
func (e *Engine) RevokeKey(ctx context.Context, id string) error {
	var n int64
	_, err := e.write(ctx, "revoke key", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		res, err := conn.ExecContext(ctx, "UPDATE meta_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", time.Now().UTC(), id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n == 0 {
		return &Error{Code: CodeNotFound, Message: fmt.Sprintf("no active key %q", id), Details: map[string]any{"key": id}}
	}
	return err
}

// Keys lists the keys, revoked ones too, without secrets.
func (e *Engine) Keys(ctx context.Context) ([]Key, error) {
	out := []Key{}
	for _, k := range e.snap().keys {
		out = append(out, k.Key)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// HasKeys tells whether any key is active: without one, the server is in
// protected mode.
func (e *Engine) HasKeys() bool {
	for _, k := range e.snap().keys {
		if k.RevokedAt == nil {
			return true
		}
	}
	return false
}

// Authenticate finds the active key a presented secret belongs to. The
// comparison of hashes is constant-time; an unknown, malformed or revoked
// key is the same "no".
func (e *Engine) Authenticate(presented string) (*Principal, bool) {
	rest, ok := strings.CutPrefix(presented, keyPrefix)
	if !ok {
		return nil, false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok {
		return nil, false
	}
	k, found := e.snap().keys[id]
	sum := sha256.Sum256([]byte(secret))
	if !found {
		subtle.ConstantTimeCompare(sum[:], sum[:]) // same work either way
		return nil, false
	}
	if subtle.ConstantTimeCompare(sum[:], k.hash) != 1 || k.RevokedAt != nil {
		return nil, false
	}
	return &Principal{KeyID: k.ID, Name: k.Name, Role: k.Role, Scope: k.Scope}, true
}

// loadKeys reads the keys for the snapshot.
func loadKeys(ctx context.Context, q store.Querier) (map[string]*storedKey, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, name, role, CAST(scope AS VARCHAR), hash, created_at, revoked_at FROM meta_keys")
	if err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	defer rows.Close()
	out := map[string]*storedKey{}
	for rows.Next() {
		k := &storedKey{}
		var scope, hash sql.NullString
		var revoked sql.NullTime
		if err := rows.Scan(&k.ID, &k.Name, &k.Role, &scope, &hash, &k.CreatedAt, &revoked); err != nil {
			return nil, fmt.Errorf("load keys: %w", err)
		}
		if scope.Valid && scope.String != "null" {
			if err := json.Unmarshal([]byte(scope.String), &k.Scope); err != nil {
				return nil, fmt.Errorf("load keys: scope of %s: %w", k.ID, err)
			}
		}
		if revoked.Valid {
			k.RevokedAt = &revoked.Time
		}
		k.hash, _ = hex.DecodeString(hash.String)
		out[k.ID] = k
	}
	return out, rows.Err()
}

type principalKey struct{}

// WithPrincipal makes what runs with ctx act as p: its scope restricts
// every answer (the planner and every customer query read it from here).
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalOf is the context's principal, or nil (the CLI on its own file:
// no restriction).
func PrincipalOf(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// scopeOf is the customer scope of the request, or nil.
func scopeOf(ctx context.Context) Scope {
	if p := PrincipalOf(ctx); p != nil && len(p.Scope) > 0 {
		return p.Scope
	}
	return nil
}

// unscoped refuses a write that reads every customer (an import, an
// evaluation, a fit) to a key with a row scope: its answer would count
// customers the key may not see.
func unscoped(ctx context.Context) error {
	if scopeOf(ctx) == nil {
		return nil
	}
	return &Error{Code: CodeForbidden, Message: "a key with a row scope cannot run imports, evaluations or fits: they read every customer"}
}
