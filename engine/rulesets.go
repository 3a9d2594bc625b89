package engine

import (
	"context"
	"custkpi/kpi"
	"custkpi/store"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"custkpi/rules"
)

// RuleSetInfo describes a stored rule set version.
type RuleSetInfo struct {
	Name          string    `json:"name"`
	Version       int       `json:"version"`
	LatestVersion int       `json:"latest_version"`
	Versions      []int     `json:"versions"`
	Description   string    `json:"description"`
	Builtin       bool      `json:"builtin"`
	CreatedAt     time.Time `json:"created_at" format:"date-time"`
	Document      string    `json:"document,omitempty"`
	// Tiers are the version's tiers in rule order, the default last (one
	// rule set's, not the list's): what a tier table lists, assigned or not.
	Tiers []string `json:"tiers,omitempty"`
}

// invalidRuleset wraps the rules package's positioned errors into the
// engine's caller-fault error (400 invalid_ruleset).
func invalidRuleset(err error) error {
	var inv *rules.InvalidError
	if errors.As(err, &inv) {
		return &Error{Code: CodeInvalidRuleset, Message: inv.Error(), Details: map[string]any{"errors": inv.Errors}, Err: err}
	}
	return err
}

// featureSchema is the CEL schema of the features of the current
// generation, built once when the generation was published.
func (e *Engine) featureSchema(ctx context.Context) (*rules.Schema, error) {
	return e.snap().schema, nil
}

// buildSchema makes the CEL schema of the features relation: every column
// of customer_features with its type (extra customers columns and model
// scores included).
func buildSchema(names, types []string) (*rules.Schema, error) {
	var feats []rules.Feature
	for i, n := range names {
		t, ok := rules.TypeForSQL(types[i])
		if !ok || !rules.ValidFeatureName(n) {
			continue // a column CEL cannot type (a list, a struct) is not a feature
		}
		feats = append(feats, rules.Feature{Name: n, Type: t})
	}
	s, err := rules.NewSchema(feats)
	if err != nil {
		return nil, fmt.Errorf("feature schema: %w", err)
	}
	return s, nil
}

// CheckRuleSet parses and compiles a rule set document against the feature
// schema of the loaded data, without saving it.
func (e *Engine) CheckRuleSet(ctx context.Context, doc []byte) (*rules.Compiled, error) {
	rs, err := rules.Parse(doc)
	if err != nil {
		return nil, invalidRuleset(err)
	}
	schema, err := e.featureSchema(ctx)
	if err != nil {
		return nil, err
	}
	c, err := rules.Compile(rs, schema)
	if err != nil {
		return nil, invalidRuleset(err)
	}
	return c, nil
}

// SaveRuleSet checks a document and stores it as the next version of its
// rule set. name, when not empty, must agree with the document's name.
func (e *Engine) SaveRuleSet(ctx context.Context, name string, doc []byte) (*RuleSetInfo, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	c, err := e.CheckRuleSet(ctx, doc)
	if err != nil {
		return nil, err
	}
	rs := c.RuleSet()
	if name != "" && rs.Name != "" && rs.Name != name {
		return nil, &Error{Code: CodeInvalidRuleset,
			Message: fmt.Sprintf("the document names rule set %q but it is saved as %q", rs.Name, name),
			Details: map[string]any{"errors": []rules.RuleError{{Message: "name does not match the path"}}}}
	}
	if name == "" {
		name = rs.Name
	}
	if !rules.ValidName(name) {
		return nil, invalidParam("name", "%q is not a rule set name (lower case letters, digits, _)", name)
	}
	var info *RuleSetInfo
	_, err = e.write(ctx, "save rule set", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		info, err = insertRuleSet(ctx, conn, name, rs.Description, string(doc), false)
		return err
	})
	return info, err
}

func insertRuleSet(ctx context.Context, q querier, name, description, doc string, builtin bool) (*RuleSetInfo, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	var version int
	err := q.QueryRowContext(ctx, `INSERT INTO meta_rulesets (name, version, description, document, builtin, created_at)
		SELECT ?, coalesce(max(version), 0) + 1, ?, ?, ?, ? FROM meta_rulesets WHERE name = ? RETURNING version`,
		name, description, doc, builtin, now, name).Scan(&version)
	if err != nil {
		return nil, fmt.Errorf("save rule set %s: %w", name, err)
	}
	return &RuleSetInfo{Name: name, Version: version, LatestVersion: version, Description: description, Builtin: builtin, CreatedAt: now}, nil
}

// seedBuiltins stores the built-in rule sets as version 1 of their names
// when the database has none of that name: editable documents, like any.
// A database that has them all is not written to.
func (e *Engine) seedBuiltins(ctx context.Context) error {
	var missing []string
	for _, name := range rules.BuiltinNames() {
		var n int
		if err := e.db.QueryRowContext(ctx, "SELECT count(*) FROM meta_rulesets WHERE name = ?", name).Scan(&n); err != nil {
			return fmt.Errorf("seed rule sets: %w", err)
		}
		if n == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err := e.write(ctx, "seed rule sets", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		for _, name := range missing {
			doc, _ := rules.BuiltinDocument(name)
			rs, err := rules.Parse(doc)
			if err != nil {
				return fmt.Errorf("seed rule set %s: %w", name, err)
			}
			if _, err := insertRuleSet(ctx, conn, name, rs.Description, string(doc), true); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// RuleSets lists every rule set at its latest version.
func (e *Engine) RuleSets(ctx context.Context) ([]RuleSetInfo, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT name, max(version), arg_max(description, version), list(version ORDER BY version),
		bool_and(builtin) FILTER (WHERE version = 1), max(created_at) FROM meta_rulesets GROUP BY name ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("rule sets: %w", err)
	}
	defer rows.Close()
	out := []RuleSetInfo{}
	for rows.Next() {
		var r RuleSetInfo
		var desc sql.NullString
		var versions []any
		var builtin sql.NullBool
		if err := rows.Scan(&r.Name, &r.LatestVersion, &desc, &versions, &builtin, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("rule sets: %w", err)
		}
		r.Version, r.Description, r.Builtin = r.LatestVersion, desc.String, builtin.Bool
		for _, v := range versions {
			if n, ok := normalise(v, "").(int64); ok {
				r.Versions = append(r.Versions, int(n))
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RuleSet returns one version of a rule set (0: the latest) with its
// document.
func (e *Engine) RuleSet(ctx context.Context, name string, version int) (*RuleSetInfo, error) {
	all, err := e.RuleSets(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(r RuleSetInfo) bool { return r.Name == name })
	if i < 0 {
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("no rule set %q; the rule set list names them", name),
			Details: map[string]any{"ruleset": name}}
	}
	info := all[i]
	if version == 0 {
		version = info.LatestVersion
	}
	if !slices.Contains(info.Versions, version) {
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("rule set %q has no version %d (versions: %s)", name, version, kpi.JoinInts(info.Versions)),
			Details: map[string]any{"ruleset": name, "parameter": "version", "versions": info.Versions}}
	}
	var desc sql.NullString
	if err := e.db.QueryRowContext(ctx, `SELECT description, document, builtin, created_at FROM meta_rulesets WHERE name = ? AND version = ?`,
		name, version).Scan(&desc, &info.Document, &info.Builtin, &info.CreatedAt); err != nil {
		return nil, fmt.Errorf("rule set %s v%d: %w", name, version, err)
	}
	info.Version, info.Description = version, desc.String
	if rs, err := rules.Parse([]byte(info.Document)); err == nil { // stored documents parsed when saved
		info.Tiers = tierNames(rs)
	}
	return &info, nil
}

// tierNames lists a rule set's tiers once each, in rule order, the default
// last.
func tierNames(rs *rules.RuleSet) []string {
	var names []string
	for _, r := range rs.Rules {
		if !slices.Contains(names, r.Tier) {
			names = append(names, r.Tier)
		}
	}
	if !slices.Contains(names, rs.Default) {
		names = append(names, rs.Default)
	}
	return names
}

// TierCount is one tier of an evaluation's distribution.
type TierCount struct {
	Tier         string   `json:"tier"`
	Rule         int      `json:"rule"`
	Customers    int64    `json:"customers"`
	Share        float64  `json:"share"`
	RevenueShare *float64 `json:"revenue_share" extensions:"x-nullable"`
}

// NullSkip counts customers who reached a rule whose condition was null.
type NullSkip struct {
	Rule      int    `json:"rule"`
	Tier      string `json:"tier"`
	Customers int64  `json:"customers"`
}

// Evaluation is the outcome of evaluating a rule set version.
type Evaluation struct {
	ID        int64       `json:"evaluation"`
	Name      string      `json:"name"`
	Version   int         `json:"version"`
	AsOf      string      `json:"as_of"`
	Path      string      `json:"path" enums:"sql,go"`
	Fallback  string      `json:"fallback_reason,omitempty"`
	Customers int64       `json:"customers"`
	Tiers     []TierCount `json:"tiers"`
	NullSkips []NullSkip  `json:"null_skips"`
	ElapsedMS float64     `json:"elapsed_ms"`
}

// EvaluateRuleSet assigns every customer a tier as of a date (zero: the day
// after the latest order), stores the assignments, and answers the
// distribution. The rule set runs inside DuckDB as one CASE expression when
// it translates; otherwise (or when forceGo) in Go, in batches. The
// assignments and their evaluation commit as one generation.
func (e *Engine) EvaluateRuleSet(ctx context.Context, name string, version int, asOf time.Time, forceGo bool) (*Evaluation, error) {
	if err := unscoped(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	ctx, cancel := e.withJobTimeout(ctx)
	defer cancel()
	var ev *Evaluation
	_, err := e.write(ctx, "evaluate rule set", false, func(ctx context.Context, conn *sql.Conn, gen int64) error {
		run, err := e.prepareEvaluation(ctx, conn, name, version, asOf, forceGo, "")
		if err != nil {
			return err
		}
		defer run.cleanup(ctx)
		progressOf(ctx).Phase("evaluating")
		if ev, err = run.assign(ctx); err != nil {
			return err
		}
		progressOf(ctx).Phase("writing")
		return run.store(ctx, gen, ev)
	})
	if err != nil {
		return nil, err
	}
	ev.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	return ev, nil
}

// evaluationRun is one rule set version evaluated as of a date on one
// connection: the features relation it reads and the compiled rules.
type evaluationRun struct {
	e        *Engine
	conn     *sql.Conn
	info     *RuleSetInfo
	rs       *rules.RuleSet
	compiled *rules.Compiled
	asOf     time.Time
	rel      string // the features as of asOf
	assigned string // name of the temp table of (customer_id, tier, rule)
	forceGo  bool
}

// prepareEvaluation reads the rule set version, compiles it against the
// feature schema, and puts the features as of the date in reach: the
// materialised table when it is the default date, else a temporary table.
//
// tag tells apart the temp tables of two runs on one connection.
func (e *Engine) prepareEvaluation(ctx context.Context, conn *sql.Conn, name string, version int, asOf time.Time, forceGo bool, tag string) (*evaluationRun, error) {
	info, err := e.RuleSet(ctx, name, version)
	if err != nil {
		return nil, err
	}
	defaultAsOf, err := featuresAsOf(ctx, conn)
	if err != nil {
		return nil, err
	}
	if asOf.IsZero() {
		asOf = defaultAsOf
	}
	rs, err := rules.Parse([]byte(info.Document))
	if err != nil {
		return nil, invalidRuleset(err)
	}
	schema, err := e.featureSchema(ctx)
	if err != nil {
		return nil, err
	}
	compiled, err := rules.Compile(rs, schema)
	if err != nil {
		// A stored version that no longer compiles: the data changed under
		// it (a column it reads is gone).
		return nil, invalidRuleset(err)
	}
	run := &evaluationRun{e: e, conn: conn, info: info, rs: rs, compiled: compiled, asOf: asOf,
		rel: "customer_features", assigned: "eval_assigned" + tag, forceGo: forceGo}
	if !asOf.Equal(defaultAsOf) {
		run.rel = "temp.eval_features" + tag
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE eval_features"+tag+" AS SELECT * FROM customer_features_at(?::TIMESTAMP)", asOf); err != nil {
			return nil, contextErr(ctx, err, "evaluate "+name+": features")
		}
	}
	return run, nil
}

func (r *evaluationRun) cleanup(ctx context.Context) {
	if r.rel != "customer_features" {
		r.conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+r.rel)
	}
	r.conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp."+r.assigned)
}

// assign computes every customer's tier into the run's temp table, on the
// SQL path when the rules translate, and answers the distribution.
func (r *evaluationRun) assign(ctx context.Context) (*Evaluation, error) {
	name := r.info.Name
	ev := &Evaluation{Name: name, Version: r.info.Version, AsOf: kpi.Date(r.asOf), Path: "sql", Tiers: []TierCount{}, NullSkips: []NullSkip{}}
	if _, err := r.conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+r.assigned+" (customer_id VARCHAR, tier VARCHAR, rule INTEGER)"); err != nil {
		return nil, contextErr(ctx, err, "evaluate "+name)
	}
	var sqlRS rules.SQLRuleSet
	var err error
	if r.forceGo {
		ev.Path, ev.Fallback = "go", "asked for"
	} else if sqlRS, err = r.compiled.SQL(rules.SQLOptions{Alias: "f", Relation: r.rel, AsOf: r.asOf}); err != nil {
		if !errors.Is(err, rules.ErrNotTranslatable) {
			return nil, fmt.Errorf("evaluate %s: %w", name, err)
		}
		ev.Path, ev.Fallback = "go", err.Error()
	}
	skips := make([]int64, len(r.rs.Rules))
	if ev.Path == "sql" {
		err = r.assignInSQL(ctx, sqlRS, skips)
	} else {
		err = evaluateInGo(ctx, r.conn, r.compiled, r.rel, r.assigned, r.asOf, skips)
	}
	if err != nil {
		return nil, err
	}
	if err := r.distribution(ctx, ev); err != nil {
		return nil, err
	}
	for i, n := range skips {
		ev.NullSkips = append(ev.NullSkips, NullSkip{Rule: i + 1, Tier: r.rs.Rules[i].Tier, Customers: n})
	}
	return ev, nil
}

// assignInSQL runs the rule set as one CASE expression inside DuckDB and
// counts each rule's null skips in one more scan.
func (r *evaluationRun) assignInSQL(ctx context.Context, sqlRS rules.SQLRuleSet, skips []int64) error {
	name := r.info.Name
	if _, err := r.conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO temp.%s SELECT f.customer_id, %s, %s FROM %s f`,
		r.assigned, sqlRS.Tier, sqlRS.RuleIndex, r.rel)); err != nil {
		return contextErr(ctx, err, "evaluate "+name)
	}
	counts := make([]string, len(sqlRS.NullSkips))
	for i, s := range sqlRS.NullSkips {
		counts[i] = "count_if(" + s + ")"
	}
	if len(counts) == 0 {
		return nil
	}
	got, err := countRow(ctx, r.conn, "SELECT "+strings.Join(counts, ", ")+" FROM "+r.rel+" f")
	if err != nil {
		return contextErr(ctx, err, "evaluate "+name+": null skips")
	}
	copy(skips, got)
	return nil
}

// distribution counts the assigned tiers, in rule order, with each tier's
// share of revenue.
func (r *evaluationRun) distribution(ctx context.Context, ev *Evaluation) error {
	rows, err := r.conn.QueryContext(ctx, fmt.Sprintf(`SELECT a.tier, min(a.rule), count(*), sum(f.monetary) / nullif((SELECT sum(monetary) FROM %s), 0)
		FROM temp.%s a JOIN %s f USING (customer_id) GROUP BY a.tier`, r.rel, r.assigned, r.rel))
	if err != nil {
		return contextErr(ctx, err, "evaluate "+ev.Name+": distribution")
	}
	t, err := scanTable(rows)
	if err != nil {
		return contextErr(ctx, err, "evaluate "+ev.Name+": distribution")
	}
	byTier := map[string]TierCount{}
	for _, row := range t.Rows {
		tc := TierCount{Tier: row[0].(string), Rule: int(row[1].(int64)), Customers: row[2].(int64)}
		if f, ok := row[3].(float64); ok {
			tc.RevenueShare = &f
		}
		ev.Customers += tc.Customers
		byTier[tc.Tier] = tc
	}
	for i, tier := range r.compiled.Tiers() {
		tc, ok := byTier[tier]
		if !ok {
			tc = TierCount{Tier: tier, Rule: i + 1}
			if tier == r.rs.Default {
				tc.Rule = 0
			}
		}
		if ev.Customers > 0 {
			tc.Share = float64(tc.Customers) / float64(ev.Customers)
		}
		ev.Tiers = append(ev.Tiers, tc)
	}
	return nil
}

// store records the evaluation with its generation and its assignments,
// replacing an earlier evaluation of the same version and date.
func (r *evaluationRun) store(ctx context.Context, gen int64, ev *Evaluation) error {
	name, version := r.info.Name, r.info.Version
	// fast_tier_lists is built with the fast path's tables: until then
	// there is nothing to keep whole.
	keyed, err := store.TableExists(ctx, r.conn, "fast_tier_lists")
	if err != nil {
		return contextErr(ctx, err, "evaluate "+name)
	}
	dels := []string{
		"DELETE FROM tier_assignments WHERE evaluation IN (SELECT id FROM meta_evaluations WHERE ruleset = ? AND version = ? AND as_of = ?::DATE)",
		"DELETE FROM meta_evaluations WHERE ruleset = ? AND version = ? AND as_of = ?::DATE",
	}
	if keyed {
		dels = append([]string{"DELETE FROM fast_tier_lists WHERE evaluation IN (SELECT id FROM meta_evaluations WHERE ruleset = ? AND version = ? AND as_of = ?::DATE)"}, dels...)
	}
	for _, del := range dels {
		if _, err := r.conn.ExecContext(ctx, del, name, version, r.asOf); err != nil {
			return contextErr(ctx, err, "evaluate "+name)
		}
	}
	if err := r.conn.QueryRowContext(ctx, `INSERT INTO meta_evaluations (ruleset, version, as_of, path, customers, evaluated_at, generation)
		VALUES (?, ?, ?::DATE, ?, ?, ?, ?) RETURNING id`, name, version, r.asOf, ev.Path, ev.Customers, time.Now().UTC(), gen).Scan(&ev.ID); err != nil {
		return contextErr(ctx, err, "evaluate "+name)
	}
	if _, err := r.conn.ExecContext(ctx, `INSERT INTO tier_assignments
		SELECT ?, ?, ?, ?::DATE, customer_id, tier, rule FROM temp.`+r.assigned, ev.ID, name, version, r.asOf); err != nil {
		return contextErr(ctx, err, "evaluate "+name)
	}
	if keyed {
		if err := addKeyedTiers(ctx, r.conn, ev.ID, "temp."+r.assigned); err != nil {
			return contextErr(ctx, err, "evaluate "+name)
		}
	}
	// The sums per tier are built with the fast tables too (tables of an
	// earlier layout have none: they are rebuilt at open).
	sums, err := store.TableExists(ctx, r.conn, "fast_tier_sums")
	if err == nil && sums {
		err = addTierSums(ctx, r.conn, ev.ID)
	}
	if err != nil {
		return contextErr(ctx, err, "evaluate "+name)
	}
	store.CrashPoint("staged")
	return nil
}

// evaluateInGo is the fallback path: the features a rule set reads are
// scanned, each customer evaluated by the compiled programs (under the
// context's deadline), and the assignments appended to the run's temp table.
// Percentiles are computed in SQL first, over the same population.
func evaluateInGo(ctx context.Context, conn *sql.Conn, c *rules.Compiled, rel, table string, asOf time.Time, skips []int64) error {
	pct, err := sqlPercentiles(ctx, conn, c.Percentiles(), rel)
	if err != nil {
		return err
	}
	evaluator, err := c.NewEvaluator(rules.EvalEnv{AsOf: asOf, Percentiles: pct})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	cols := append([]string{"customer_id"}, c.Inputs()...)
	rows, err := conn.QueryContext(ctx, "SELECT "+quoteIdents(cols)+" FROM "+rel)
	if err != nil {
		return contextErr(ctx, err, "evaluate: scan features")
	}
	type assigned struct {
		id   string
		tier string
		rule int32
	}
	// Evaluated as they are read; appended once the scan has released the
	// connection (the appender needs it).
	var batch []assigned
	for rows.Next() {
		vals, err := scanValues(rows, len(cols))
		if err != nil {
			rows.Close()
			return fmt.Errorf("evaluate: scan: %w", err)
		}
		a, err := evaluator.EvalValues(ctx, vals[1:])
		if err != nil {
			rows.Close()
			return contextErr(ctx, err, "evaluate in Go")
		}
		for _, r := range a.NullSkips {
			skips[r-1]++
		}
		id, _ := vals[0].(string)
		batch = append(batch, assigned{id, a.Tier, int32(a.Rule)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return contextErr(ctx, err, "evaluate: scan features")
	}
	// Append through DuckDB's appender: the fast way in from Go.
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", table)
		if err != nil {
			return fmt.Errorf("evaluate: appender: %w", err)
		}
		for _, a := range batch {
			if err := app.AppendRow(a.id, a.tier, a.rule); err != nil {
				app.Close()
				return fmt.Errorf("evaluate: append: %w", err)
			}
		}
		return app.Close()
	})
}

// Assignments lists the customers of an evaluation (the latest of the rule
// set, or of one version), optionally of one tier.
func (e *Engine) Assignments(ctx context.Context, ruleset string, version int, tier string, limit, offset int) (*CustomerPage, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	if limit == 0 {
		limit = 100
	}
	if limit < 0 || limit > maxCustomerPage {
		return nil, invalidParam("limit", "must be between 1 and %d", maxCustomerPage)
	}
	if offset < 0 {
		return nil, invalidParam("offset", "must not be negative")
	}
	var id sql.NullInt64
	if err := e.db.QueryRowContext(ctx, "SELECT max(id) FROM meta_evaluations WHERE ruleset = ? AND (? = 0 OR version = ?)", ruleset, version, version).Scan(&id); err != nil {
		return nil, contextErr(ctx, err, "assignments")
	}
	if !id.Valid {
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("rule set %q has not been evaluated; evaluate it first", ruleset),
			Details: map[string]any{"ruleset": ruleset}}
	}
	cond, scopeArgs, err := e.customerFilter(ctx, e.snap(), "")
	if err != nil {
		return nil, err
	}
	args := append([]any{id.Int64, tier, tier}, scopeArgs...)
	page := &CustomerPage{Limit: limit, Offset: offset}
	if err := e.db.QueryRowContext(ctx, "SELECT count(*) FROM tier_assignments WHERE evaluation = ? AND (? = '' OR tier = ?) AND "+cond, args...).Scan(&page.Total); err != nil {
		return nil, contextErr(ctx, err, "assignments")
	}
	rows, err := e.db.QueryContext(ctx, fmt.Sprintf(`SELECT customer_id, tier, rule, ruleset, version, as_of FROM tier_assignments
		WHERE evaluation = ? AND (? = '' OR tier = ?) AND %s ORDER BY customer_id LIMIT %d OFFSET %d`, cond, limit, offset), args...)
	if err != nil {
		return nil, contextErr(ctx, err, "assignments")
	}
	t, err := scanTable(rows)
	if err != nil {
		return nil, contextErr(ctx, err, "assignments")
	}
	page.Columns, page.Types, page.Rows = t.Columns, t.Types, t.Objects()
	return page, nil
}

// Transition counts customers moving from each tier to each other tier
// between two evaluations.
type Transition struct {
	From      *string `json:"from_tier" extensions:"x-nullable"`
	To        *string `json:"to_tier" extensions:"x-nullable"`
	Customers int64   `json:"customers"`
}

// Transitions is the tier migration matrix of a rule set between two
// versions or two as-of dates.
type Transitions struct {
	Name        string       `json:"name"`
	FromVersion int          `json:"from_version"`
	ToVersion   int          `json:"to_version"`
	FromAsOf    string       `json:"from_as_of"`
	ToAsOf      string       `json:"to_as_of"`
	Moved       int64        `json:"moved"`
	Stayed      int64        `json:"stayed"`
	Matrix      []Transition `json:"matrix"`
}

// RuleSetTransitions evaluates both sides into temporary tables, without
// storing anything (it answers a GET), and counts the moves in SQL. A
// customer present on one side only has a null tier on the other. Both
// sides read one generation.
func (e *Engine) RuleSetTransitions(ctx context.Context, name string, fromVersion, toVersion int, fromAsOf, toAsOf time.Time) (*Transitions, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	var out *Transitions
	err := e.read(ctx, func(ctx context.Context, conn *sql.Conn) error {
		a, err := e.evaluateUnstored(ctx, conn, name, fromVersion, fromAsOf, "_from")
		if err != nil {
			return err
		}
		defer a.cleanup(ctx)
		b, err := e.evaluateUnstored(ctx, conn, name, toVersion, toAsOf, "_to")
		if err != nil {
			return err
		}
		defer b.cleanup(ctx)
		cond, args, err := e.customerFilter(ctx, e.snap(), "")
		if err != nil {
			return err
		}
		out, err = transitionMatrix(ctx, conn, a, b, cond, args)
		return err
	})
	return out, err
}

// evaluateUnstored assigns the tiers of one side of a transition.
func (e *Engine) evaluateUnstored(ctx context.Context, conn *sql.Conn, name string, version int, asOf time.Time, tag string) (*evaluationRun, error) {
	run, err := e.prepareEvaluation(ctx, conn, name, version, asOf, false, tag)
	if err != nil {
		return nil, err
	}
	if _, err := run.assign(ctx); err != nil {
		run.cleanup(ctx)
		return nil, err
	}
	return run, nil
}

// transitionMatrix counts the customers of each (from tier, to tier).
// cond (with args) restricts the customers counted (a key's scope).
func transitionMatrix(ctx context.Context, conn *sql.Conn, a, b *evaluationRun, cond string, args []any) (*Transitions, error) {
	out := &Transitions{Name: a.info.Name, FromVersion: a.info.Version, ToVersion: b.info.Version,
		FromAsOf: kpi.Date(a.asOf), ToAsOf: kpi.Date(b.asOf), Matrix: []Transition{}}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT x.tier, y.tier, count(*) FROM temp.%s x
		FULL JOIN temp.%s y USING (customer_id) WHERE %s GROUP BY ALL ORDER BY 1 NULLS FIRST, 2 NULLS FIRST`, a.assigned, b.assigned, cond), args...)
	if err != nil {
		return nil, contextErr(ctx, err, "transitions")
	}
	defer rows.Close()
	for rows.Next() {
		var tr Transition
		var f, t sql.NullString
		if err := rows.Scan(&f, &t, &tr.Customers); err != nil {
			return nil, fmt.Errorf("transitions: %w", err)
		}
		if f.Valid {
			tr.From = &f.String
		}
		if t.Valid {
			tr.To = &t.String
		}
		if f.Valid && t.Valid && f.String == t.String {
			out.Stayed += tr.Customers
		} else {
			out.Moved += tr.Customers
		}
		out.Matrix = append(out.Matrix, tr)
	}
	return out, rows.Err()
}

// RuleSetCheck is what validating a document tells: it compiles, its tiers,
// and the path it would run on.
type RuleSetCheck struct {
	Name     string   `json:"name"`
	Tiers    []string `json:"tiers"`
	Path     string   `json:"path"`
	Fallback string   `json:"fallback_reason,omitempty"`
}

// ValidateRuleSet checks a document as SaveRuleSet would, and says whether
// it would run inside DuckDB.
func (e *Engine) ValidateRuleSet(ctx context.Context, doc []byte) (*RuleSetCheck, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	c, err := e.CheckRuleSet(ctx, doc)
	if err != nil {
		return nil, err
	}
	asOf := e.snap().featuresAsOf
	out := &RuleSetCheck{Name: c.RuleSet().Name, Tiers: c.Tiers(), Path: "sql"}
	if _, err := c.SQL(rules.SQLOptions{Alias: "f", Relation: "customer_features", AsOf: asOf}); err != nil {
		out.Path, out.Fallback = "go", err.Error()
	}
	return out, nil
}

// sqlPercentiles computes each percentile(feature, p) a condition reads over
// rel in DuckDB (NaN left out, as the rules package's Quantile does), for
// the Go path. A percentile over no values is absent: null.
func sqlPercentiles(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, refs []rules.PercentileRef, rel string) (map[rules.PercentileRef]float64, error) {
	out := map[rules.PercentileRef]float64{}
	for _, p := range refs {
		col := "CAST(" + quoteIdent(p.Feature) + " AS DOUBLE)"
		var v sql.NullFloat64
		if err := q.QueryRowContext(ctx, fmt.Sprintf("SELECT quantile_cont(%s, ?) FILTER (WHERE NOT isnan(%s)) FROM %s", col, col, rel), p.P).Scan(&v); err != nil {
			return nil, contextErr(ctx, err, "percentile of "+p.Feature)
		}
		if v.Valid {
			out[p] = v.Float64
		}
	}
	return out, nil
}

// quoteIdents quotes and joins column names for a SELECT list.
func quoteIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}
