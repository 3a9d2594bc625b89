package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"custkpi/kpi"
	"custkpi/store"
)

// CustomerQuery lists customers with their features.
type CustomerQuery struct {
	Where   string // CEL condition on features
	OrderBy string // a feature column; default customer_id
	Desc    bool
	Limit   int // default 100, at most 10,000
	Offset  int
}

// CustomerPage is one page of customers and the total matching.
type CustomerPage struct {
	Total   int64            `json:"total"`
	Columns []string         `json:"-"`
	Types   []string         `json:"-"` // DuckDB's type of each column
	Rows    []map[string]any `json:"rows"`
	// Limit and Offset are the page's, defaults applied (for Link headers).
	Limit  int `json:"-"`
	Offset int `json:"-"`
}

// moneyFeatures are the features that are amounts of money: a customer
// view (a page, the export, one customer) shows them rounded to cents, as
// currency KPIs are, so no format carries float noise. Rules and where=
// read the exact values of customer_features.
var moneyFeatures = map[string]bool{"monetary": true, "avg_order_value": true, "profit": true, "avg_monthly_spend": true, "clv_12m": true}

// featureSelect is the select list of a customer view: every feature, the
// money ones rounded to cents under their own names.
func featureSelect(names []string) string {
	if len(names) == 0 {
		return "*" // no features table yet: its absence is the error
	}
	cols := make([]string, len(names))
	for i, n := range names {
		cols[i] = quoteIdent(n)
		if moneyFeatures[n] {
			cols[i] = fmt.Sprintf("round(%s, 2) AS %s", cols[i], cols[i])
		}
	}
	return strings.Join(cols, ", ")
}

const maxCustomerPage = 10000

// FeatureColumns lists the customer_features columns with their DuckDB types.
func (e *Engine) FeatureColumns(ctx context.Context) ([]string, []string, error) {
	s := e.snap()
	return s.featureNames, s.featureTypes, nil
}

// featureColumns reads the columns of customer_features and their types.
func featureColumns(ctx context.Context, q querier) ([]string, []string, error) {
	names, types, err := store.ColumnTypes(ctx, q, "customer_features")
	if err != nil {
		return nil, nil, fmt.Errorf("feature columns: %w", err)
	}
	return names, types, nil
}

// Customers lists customers with their features (as of the end of the data).
func (e *Engine) Customers(ctx context.Context, q CustomerQuery) (*CustomerPage, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	cols, _, err := e.FeatureColumns(ctx)
	if err != nil {
		return nil, err
	}
	if q.OrderBy == "" {
		q.OrderBy = "customer_id"
	}
	if !slices.Contains(cols, q.OrderBy) {
		return nil, &Error{Code: CodeInvalidParameter,
			Message: fmt.Sprintf("invalid parameter \"order_by\": %q is not a feature; one of %s", q.OrderBy, strings.Join(cols, ", ")),
			Details: map[string]any{"parameter": "order_by", "features": cols}}
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Limit < 0 || q.Limit > maxCustomerPage {
		return nil, invalidParam("limit", "must be between 1 and %d", maxCustomerPage)
	}
	if q.Offset < 0 {
		return nil, invalidParam("offset", "must not be negative")
	}
	cond, args, err := e.customerFilter(ctx, e.snap(), q.Where)
	if err != nil {
		return nil, err
	}
	dir := "ASC"
	if q.Desc {
		dir = "DESC"
	}
	page := &CustomerPage{Limit: q.Limit, Offset: q.Offset}
	if err := e.db.QueryRowContext(ctx, "SELECT count(*) FROM customer_features WHERE "+cond, args...).Scan(&page.Total); err != nil {
		return nil, contextErr(ctx, err, "customers")
	}
	rows, err := e.db.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM customer_features WHERE %s ORDER BY %s %s NULLS LAST, customer_id LIMIT %d OFFSET %d",
		featureSelect(cols), cond, quoteIdent(q.OrderBy), dir, q.Limit, q.Offset), args...)
	if err != nil {
		return nil, contextErr(ctx, err, "customers")
	}
	t, err := scanTable(rows)
	if err != nil {
		return nil, contextErr(ctx, err, "customers")
	}
	page.Columns, page.Types, page.Rows = t.Columns, t.Types, t.Objects()
	return page, nil
}

// CustomerDetail is one customer: features, tiers, and recent activity.
type CustomerDetail struct {
	Features     map[string]any   `json:"features" extensions:"x-cells"`
	Tiers        []map[string]any `json:"tiers" extensions:"x-cells"`
	RecentOrders []map[string]any `json:"recent_orders" extensions:"x-cells"`
	Surveys      []map[string]any `json:"surveys" extensions:"x-cells"`
	Tickets      []map[string]any `json:"tickets" extensions:"x-cells"`
}

// recentLimit is how many orders, surveys and tickets a customer view shows.
const recentLimit = 20

// Customer returns one customer's features and recent activity.
func (e *Engine) Customer(ctx context.Context, id string) (*CustomerDetail, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	one := func(query string, args ...any) ([]map[string]any, error) {
		rows, err := e.db.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, contextErr(ctx, err, "customer "+id)
		}
		t, err := scanTable(rows)
		if err != nil {
			return nil, contextErr(ctx, err, "customer "+id)
		}
		return t.Objects(), nil
	}
	cond, args, err := e.customerFilter(ctx, e.snap(), "")
	if err != nil {
		return nil, err
	}
	// Outside the key's scope a customer does not exist: the same 404.
	names, _, err := e.FeatureColumns(ctx)
	if err != nil {
		return nil, err
	}
	feats, err := one("SELECT "+featureSelect(names)+" FROM customer_features WHERE customer_id = ? AND "+cond, append([]any{id}, args...)...)
	if err != nil {
		return nil, err
	}
	if len(feats) == 0 {
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("no customer %q", id), Details: map[string]any{"customer_id": id}}
	}
	d := &CustomerDetail{Features: feats[0], Tiers: []map[string]any{}}
	if d.RecentOrders, err = one(fmt.Sprintf("SELECT * EXCLUDE (customer_id) FROM orders WHERE customer_id = ? ORDER BY order_date DESC, order_id LIMIT %d", recentLimit), id); err != nil {
		return nil, err
	}
	if d.Surveys, err = one(fmt.Sprintf("SELECT * EXCLUDE (customer_id) FROM surveys WHERE customer_id = ? ORDER BY survey_date DESC LIMIT %d", recentLimit), id); err != nil {
		return nil, err
	}
	if d.Tickets, err = one(fmt.Sprintf("SELECT * EXCLUDE (customer_id) FROM tickets WHERE customer_id = ? ORDER BY opened_at DESC LIMIT %d", recentLimit), id); err != nil {
		return nil, err
	}
	if d.Tiers, err = e.customerTiers(ctx, id); err != nil {
		return nil, err
	}
	return d, nil
}

// customerFilter is the SQL condition on customer_id (and its arguments)
// that a request's where= condition and its key's scope make: "true" when
// neither restricts.
func (e *Engine) customerFilter(ctx context.Context, s *snapshot, where string) (string, []any, error) {
	var conds []string
	var args []any
	if where != "" {
		f, err := e.whereFilter(ctx, s, where)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, "customer_id IN ("+f.SQL+")"), append(args, f.Args...)
	}
	scope, err := kpi.ScopeFilter(s.data, nil, scopeOf(ctx))
	if err != nil {
		return "", nil, err
	}
	if scope != nil {
		conds, args = append(conds, "customer_id IN ("+scope.SQL+")"), append(args, scope.Args...)
	}
	if len(conds) == 0 {
		return "true", nil, nil
	}
	return strings.Join(conds, " AND "), args, nil
}
