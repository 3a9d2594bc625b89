package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"custkpi/kpi"
)

// AlertOptions configure alert evaluation and webhook delivery.
type AlertOptions struct {
	// AfterImport evaluates every alert after each import, in the
	// background (serve sets it; a one-shot CLI import does not).
	AfterImport bool
	// AllowLoopback lets webhooks reach loopback addresses and the
	// server's own (serve --webhook-allow-loopback): refused by default,
	// so an alert cannot be turned on the server or its neighbours.
	AllowLoopback bool
	// BaseURL starts the link in each webhook body ("http://host:port").
	BaseURL string
	// Attempts per delivery (default 4) and the wait before the second,
	// doubling after each failure (default 1s).
	Attempts int
	Backoff  time.Duration
	// AttemptTimeout bounds one POST (default 10s); Deadline bounds the
	// whole evaluation after an import (default 2 minutes).
	AttemptTimeout time.Duration
	Deadline       time.Duration
}

// alerting is the engine's alert state: options, the lock that makes a
// state change and its decision to send one step, and the background
// evaluations (Close cancels and waits for them).
type alerting struct {
	mu      sync.Mutex // guards opts
	opts    AlertOptions
	decide  sync.Mutex
	bg      sync.WaitGroup
	stop    context.Context
	stopNow context.CancelFunc
}

func (a *alerting) options() AlertOptions {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.opts
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 10 * time.Second
	}
	if o.Deadline <= 0 {
		o.Deadline = 2 * time.Minute
	}
	return o
}

// ConfigureAlerts sets how alerts are evaluated and delivered.
func (e *Engine) ConfigureAlerts(o AlertOptions) {
	e.alerts.mu.Lock()
	defer e.alerts.mu.Unlock()
	e.alerts.opts = o
}

// AlertStates are the statuses an alert can fire on.
var AlertStates = []string{"ok", "warn", "alert"}

// AlertSpec is the body of PUT /v1/alerts/{name}.
type AlertSpec struct {
	KPI     string            `json:"kpi" example:"churn_rate"`
	By      map[string]string `json:"by,omitempty"`
	On      []string          `json:"on" example:"warn,alert"`
	Webhook string            `json:"webhook" example:"https://hooks.example.com/kpi"`
	Secret  string            `json:"secret,omitempty"`
}

// Alert is a stored alert; its secret is never shown, only whether it has
// one.
type Alert struct {
	Name      string            `json:"name" example:"churn_red"`
	KPI       string            `json:"kpi" example:"churn_rate"`
	By        map[string]string `json:"by,omitempty"`
	On        []string          `json:"on"`
	Webhook   string            `json:"webhook"`
	Signed    bool              `json:"signed"`
	Status    *string           `json:"last_status" extensions:"x-nullable"`
	CheckedAt *time.Time        `json:"checked_at" format:"date-time" extensions:"x-nullable"`
	CreatedAt time.Time         `json:"created_at" format:"date-time"`
	UpdatedAt time.Time         `json:"updated_at" format:"date-time"`
	secret    string
	// Created tells PutAlert's caller a new alert from a replaced one.
	Created bool `json:"-"`
}

// PutAlert stores (or replaces) an alert. A replaced alert starts fresh:
// its next evaluation counts as entering its state.
func (e *Engine) PutAlert(ctx context.Context, name string, spec AlertSpec) (*Alert, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	if scopeOf(ctx) != nil {
		return nil, &Error{Code: CodeForbidden, Message: "a key with a row scope cannot set alerts: they are evaluated over every customer and sent outside"}
	}
	if err := e.checkAlertSpec(name, &spec); err != nil {
		return nil, err
	}
	by, err := json.Marshal(spec.By)
	if err != nil {
		return nil, fmt.Errorf("put alert: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	a := &Alert{Name: name, KPI: spec.KPI, By: spec.By, On: spec.On, Webhook: spec.Webhook, Signed: spec.Secret != "", CreatedAt: now, UpdatedAt: now}
	var secret any
	if spec.Secret != "" {
		secret = spec.Secret
	}
	_, err = e.write(ctx, "put alert", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		var created sql.NullTime
		err := conn.QueryRowContext(ctx, "SELECT created_at FROM meta_alerts WHERE name = ?", name).Scan(&created)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("put alert: %w", err)
		}
		a.Created = !created.Valid
		if created.Valid {
			a.CreatedAt = created.Time
		}
		if _, err := conn.ExecContext(ctx, "DELETE FROM meta_alerts WHERE name = ?", name); err != nil {
			return fmt.Errorf("put alert: %w", err)
		}
		_, err = conn.ExecContext(ctx, `INSERT INTO meta_alerts (name, kpi, by_values, on_states, webhook, secret, created_at, updated_at)
			VALUES (?, ?, ?, ?::VARCHAR[], ?, ?, ?, ?)`, name, spec.KPI, string(by), spec.On, spec.Webhook, secret, a.CreatedAt, now)
		if err != nil {
			return fmt.Errorf("put alert: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// checkAlertSpec validates an alert: a known single-valued KPI, known
// dimensions, states from AlertStates, a webhook the server may call.
func (e *Engine) checkAlertSpec(name string, spec *AlertSpec) error {
	if !alertName.MatchString(name) {
		return invalidParam("name", "%q: an alert name is 1 to 64 letters, digits, '_' or '-'", name)
	}
	k, err := e.catalog.Lookup(spec.KPI)
	if err != nil {
		return &Error{Code: CodeInvalidParameter, Message: "invalid alert: " + err.Error(), Details: map[string]any{"parameter": "kpi", "kpi": spec.KPI}}
	}
	if len(k.Default.Group) > 0 {
		return invalidParam("kpi", "%s is a matrix, which has no single value to alert on", k.Name)
	}
	if len(spec.By) > 0 {
		if err := kpi.CheckDimensions(e.snap().data, k.Default, slices.Sorted(maps.Keys(spec.By))); err != nil {
			return err
		}
	}
	if len(spec.On) == 0 {
		return invalidParam("on", "name the statuses to send on: some of %s", strings.Join(AlertStates, ", "))
	}
	for _, s := range spec.On {
		if !slices.Contains(AlertStates, s) {
			return invalidParam("on", "%q is not a status; one of %s", s, strings.Join(AlertStates, ", "))
		}
	}
	spec.On = slices.Compact(slices.Sorted(slices.Values(spec.On)))
	return checkWebhook(spec.Webhook, e.alerts.options().AllowLoopback)
}

// Alerts lists the alerts.
func (e *Engine) Alerts(ctx context.Context) ([]Alert, error) {
	return e.loadAlerts(ctx, "")
}

// AlertByName finds one alert.
func (e *Engine) AlertByName(ctx context.Context, name string) (*Alert, error) {
	as, err := e.loadAlerts(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("no alert %q", name), Details: map[string]any{"alert": name}}
	}
	return &as[0], nil
}

func (e *Engine) loadAlerts(ctx context.Context, name string) ([]Alert, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT name, kpi, CAST(by_values AS VARCHAR), on_states, webhook, coalesce(secret, ''), last_status, checked_at, created_at, updated_at
		FROM meta_alerts WHERE ? = '' OR name = ? ORDER BY name`, name, name)
	if err != nil {
		return nil, contextErr(ctx, err, "alerts")
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		var by string
		var on []any
		var status sql.NullString
		var checked sql.NullTime
		if err := rows.Scan(&a.Name, &a.KPI, &by, &on, &a.Webhook, &a.secret, &status, &checked, &a.CreatedAt, &a.UpdatedAt); err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		if err := json.Unmarshal([]byte(by), &a.By); err != nil {
			return nil, fmt.Errorf("alerts: by of %s: %w", a.Name, err)
		}
		for _, s := range on {
			a.On = append(a.On, fmt.Sprint(s))
		}
		a.Signed = a.secret != ""
		if status.Valid {
			a.Status = &status.String
		}
		if checked.Valid {
			a.CheckedAt = &checked.Time
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeleteAlert removes an alert; its delivery log stays.
func (e *Engine) DeleteAlert(ctx context.Context, name string) error {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	if _, err := e.AlertByName(ctx, name); err != nil {
		return err
	}
	_, err := e.write(ctx, "delete alert", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		_, err := conn.ExecContext(ctx, "DELETE FROM meta_alerts WHERE name = ?", name)
		return err
	})
	return err
}

// AlertCheck is the outcome of evaluating one alert.
type AlertCheck struct {
	Alert          string    `json:"alert"`
	KPI            string    `json:"kpi"`
	From           string    `json:"from"`
	To             string    `json:"to"`
	Value          *float64  `json:"value" extensions:"x-nullable"`
	Target         *float64  `json:"target" extensions:"x-nullable"`
	Status         string    `json:"status" enums:"ok,warn,alert,none"`
	PreviousStatus *string   `json:"previous_status" extensions:"x-nullable"`
	Changed        bool      `json:"changed"`
	Sent           bool      `json:"sent"`
	Delivery       *Delivery `json:"delivery,omitempty"`
}

// CheckAlert evaluates one alert now (POST /v1/alerts/{name}/check) and
// sends its webhook when its status entered one of its states.
func (e *Engine) CheckAlert(ctx context.Context, name string) (*AlertCheck, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	a, err := e.AlertByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.evaluateAlert(ctx, a)
}

// CheckAlerts evaluates every alert, one after another.
func (e *Engine) CheckAlerts(ctx context.Context) ([]AlertCheck, error) {
	as, err := e.Alerts(ctx)
	if err != nil {
		return nil, err
	}
	out := []AlertCheck{}
	for i := range as {
		c, err := e.evaluateAlert(ctx, &as[i])
		if err != nil {
			e.log.Warn("alert evaluation failed", "alert", as[i].Name, "err", err)
			continue
		}
		out = append(out, *c)
	}
	return out, nil
}

// afterImport evaluates every alert in the background, bounded by the
// alert deadline, when the engine is configured to: the import has
// committed and answers at once.
func (e *Engine) afterImport() {
	o := e.alerts.options()
	if !o.AfterImport {
		return
	}
	e.alerts.bg.Add(1)
	go func() {
		defer e.alerts.bg.Done()
		ctx, cancel := context.WithTimeout(e.alerts.stop, o.Deadline)
		defer cancel()
		if _, err := e.CheckAlerts(ctx); err != nil {
			e.log.Warn("alerts after import", "err", err)
		}
	}()
}

// WaitAlerts waits for the background evaluations started so far (tests,
// shutdown).
func (e *Engine) WaitAlerts() { e.alerts.bg.Wait() }

// evaluateAlert computes the alert's status, records a change and, when
// the new status is one of the alert's states, delivers it. Deciding is
// serialised, and the new status is stored before the webhook is called,
// so two evaluations of one change send once.
func (e *Engine) evaluateAlert(ctx context.Context, a *Alert) (*AlertCheck, error) {
	row, from, to, err := e.alertRow(ctx, a)
	if err != nil {
		return nil, err
	}
	c := &AlertCheck{Alert: a.Name, KPI: a.KPI, From: from, To: to, Value: row.Value, Target: row.Target, Status: "none"}
	if row.Status != nil {
		c.Status = *row.Status
	}
	e.alerts.decide.Lock()
	prev, err := e.alertStatus(ctx, a.Name)
	if err == nil {
		c.PreviousStatus = prev
		c.Changed = prev == nil || *prev != c.Status
		if c.Changed {
			err = e.setAlertStatus(ctx, a.Name, c.Status)
		}
	}
	e.alerts.decide.Unlock()
	if err != nil {
		return nil, err
	}
	if !c.Changed || !slices.Contains(a.On, c.Status) {
		return c, nil
	}
	d, err := e.deliver(ctx, a, c, row)
	if err != nil {
		return nil, err
	}
	c.Sent, c.Delivery = d.Outcome == "delivered", d
	return c, nil
}

// alertRow is the scorecard row the alert watches over the default window
// (the scorecard's without from and to): its KPI, scoped to the alert's
// dimension values with the target of that scope or else the KPI's own.
func (e *Engine) alertRow(ctx context.Context, a *Alert) (ScorecardRow, string, string, error) {
	k, err := e.catalog.Lookup(a.KPI)
	if err != nil {
		return ScorecardRow{}, "", "", err
	}
	s := e.snap()
	if err := kpi.RequireData(s.data, k.Default); err != nil || s.dataEnd.IsZero() {
		return ScorecardRow{KPI: a.KPI}, "", "", nil // no data: status none
	}
	from, to, err := kpi.Window(s.dataEnd, time.Time{}, time.Time{})
	if err != nil {
		return ScorecardRow{}, "", "", err
	}
	targets, err := e.Targets(ctx, a.KPI)
	if err != nil {
		return ScorecardRow{}, "", "", err
	}
	var scoped *Target
	if len(a.By) > 0 {
		for i := range targets {
			if scopeKey(targets[i].By) == scopeKey(a.By) && targetApplies(&targets[i], from, to) {
				scoped = &targets[i]
			}
		}
		if scoped == nil {
			b := bestTarget(targets, a.KPI, from, to)
			if b == nil {
				return ScorecardRow{KPI: a.KPI, By: a.By}, kpi.Date(from), kpi.Date(to), nil
			}
			c := *b
			c.By = a.By
			scoped = &c
		}
	}
	target := scoped
	if len(a.By) == 0 {
		target = bestTarget(targets, a.KPI, from, to)
	}
	row, err := e.scorecardRow(ctx, k, a.By, target, from, to, nil)
	return row, kpi.Date(from), kpi.Date(to), err
}

func (e *Engine) alertStatus(ctx context.Context, name string) (*string, error) {
	var s sql.NullString
	err := e.db.QueryRowContext(ctx, "SELECT last_status FROM meta_alerts WHERE name = ?", name).Scan(&s)
	if err == sql.ErrNoRows {
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("no alert %q (deleted while it was evaluated)", name)}
	}
	if err != nil || !s.Valid {
		return nil, contextErr(ctx, err, "alert status")
	}
	return &s.String, nil
}

func (e *Engine) setAlertStatus(ctx context.Context, name, status string) error {
	_, err := e.write(ctx, "alert status", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		_, err := conn.ExecContext(ctx, "UPDATE meta_alerts SET last_status = ?, checked_at = ? WHERE name = ?", status, time.Now().UTC(), name)
		return err
	})
	return err
}

// Delivery is one webhook delivery of the log.
type Delivery struct {
	ID             int64     `json:"id"`
	Alert          string    `json:"alert"`
	KPI            string    `json:"kpi"`
	Status         string    `json:"status"`
	PreviousStatus *string   `json:"previous_status" extensions:"x-nullable"`
	Webhook        string    `json:"webhook"`
	Attempts       int       `json:"attempts"`
	HTTPStatus     *int      `json:"http_status" extensions:"x-nullable"`
	Outcome        string    `json:"outcome" enums:"delivered,failed"`
	Error          string    `json:"error,omitempty"`
	Payload        string    `json:"payload"`
	SentAt         time.Time `json:"sent_at" format:"date-time"`
}

// AlertDeliveries lists an alert's deliveries, newest first.
func (e *Engine) AlertDeliveries(ctx context.Context, name string, limit int) ([]Delivery, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT id, alert, kpi, status, previous_status, webhook, attempts, http_status, outcome, coalesce(error, ''), payload, sent_at
		FROM meta_alert_deliveries WHERE alert = ? ORDER BY id DESC LIMIT ?`, name, limit)
	if err != nil {
		return nil, contextErr(ctx, err, "deliveries")
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var prev sql.NullString
		var code sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Alert, &d.KPI, &d.Status, &prev, &d.Webhook, &d.Attempts, &code, &d.Outcome, &d.Error, &d.Payload, &d.SentAt); err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
		if prev.Valid {
			d.PreviousStatus = &prev.String
		}
		if code.Valid {
			n := int(code.Int64)
			d.HTTPStatus = &n
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if _, err := e.AlertByName(ctx, name); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}
