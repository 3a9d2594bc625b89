package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"golang.org/x/sync/singleflight"

	"custkpi/kpi"
	"custkpi/queries"
	"custkpi/store"
)

// Target is the standard value of a KPI: the scorecard compares the actual
// value with it. A target may be scoped to dimension values (region=north)
// and to a period (the scorecard window must lie within it).
type Target struct {
	KPI        string            `json:"kpi"`
	Target     float64           `json:"target"`
	Direction  string            `json:"direction" enums:"higher_is_better,lower_is_better"`
	WarnWithin float64           `json:"warn_within"`
	By         map[string]string `json:"by,omitempty"`
	From       string            `json:"from,omitempty"`
	To         string            `json:"to,omitempty"`
	UpdatedAt  time.Time         `json:"updated_at" format:"date-time"`
	// Created tells, in SetTarget's answer, that no target of this scope
	// and period existed before (the API answers 201 rather than 200).
	Created bool `json:"-"`
}

// scopeEscaper escapes the separators of the canonical scope key, so a value
// holding ';' or '=' (region "north;south") cannot read as two pairs and two
// different scopes never share a key. Keys without them are unchanged, so
// targets stored before still match.
var scopeEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, "=", `\=`)

// scopeKey is the canonical key of a target's dimension values
// ("dim=value;..." sorted by dimension): it identifies the scope when a
// target is replaced or deleted. The values themselves are read back from
// the by_values map, never parsed out of the key.
func scopeKey(by map[string]string) string {
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = scopeEscaper.Replace(k) + "=" + scopeEscaper.Replace(by[k])
	}
	return strings.Join(parts, ";")
}

// scopeValues reads a target's by_values MAP (nil for an unscoped target).
func scopeValues(v any) (map[string]string, error) {
	m, ok := v.(duckdb.Map)
	if v == nil || (ok && len(m) == 0) {
		return nil, nil
	}
	if !ok {
		return nil, fmt.Errorf("by_values: unexpected %T", v)
	}
	by := make(map[string]string, len(m))
	for k, val := range m {
		ks, kok := k.(string)
		vs, vok := val.(string)
		if !kok || !vok {
			return nil, fmt.Errorf("by_values: unexpected entry %T=%T", k, val)
		}
		by[ks] = vs
	}
	return by, nil
}

// SetTarget stores (or replaces) the target of a KPI for a scope and period.
func (e *Engine) SetTarget(ctx context.Context, t Target) (*Target, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	k, err := e.catalog.Lookup(t.KPI)
	if err != nil {
		return nil, err
	}
	if t.Direction == "" {
		t.Direction = k.Default.Direction
	}
	if t.Direction != "higher_is_better" && t.Direction != "lower_is_better" {
		return nil, invalidParam("direction", "%q is not higher_is_better or lower_is_better", t.Direction)
	}
	if t.WarnWithin < 0 || math.IsNaN(t.WarnWithin) || math.IsInf(t.WarnWithin, 0) {
		return nil, invalidParam("warn_within", "must be a non-negative number")
	}
	if math.IsNaN(t.Target) || math.IsInf(t.Target, 0) {
		return nil, invalidParam("target", "must be a finite number")
	}
	if len(k.Default.Group) > 0 {
		return nil, invalidParam("kpi", "%s is a matrix; targets apply to single-valued KPIs", k.Name)
	}
	if len(t.By) > 0 {
		names := make([]string, 0, len(t.By))
		for d := range t.By {
			names = append(names, d)
		}
		if err := kpi.CheckDimensions(e.snap().data, k.Default, names); err != nil {
			return nil, err
		}
	}
	var from, to any
	if t.From != "" || t.To != "" {
		f, err := ParseDate("from", t.From)
		if err != nil {
			return nil, err
		}
		tt, err := ParseDate("to", t.To)
		if err != nil {
			return nil, err
		}
		if !f.Before(tt) {
			return nil, invalidParam("from", "from must be before to")
		}
		from, to = f, tt
	}
	t.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	scope := scopeKey(t.By)
	keys, vals := []string{}, []string{}
	for k, v := range t.By {
		keys, vals = append(keys, k), append(vals, v)
	}
	_, err = e.write(ctx, "set target", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		res, err := conn.ExecContext(ctx, `DELETE FROM meta_targets WHERE kpi = ? AND scope = ?
		AND period_from IS NOT DISTINCT FROM ?::DATE AND period_to IS NOT DISTINCT FROM ?::DATE`, t.KPI, scope, from, to)
		if err != nil {
			return fmt.Errorf("set target: %w", err)
		}
		replaced, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("set target: %w", err)
		}
		t.Created = replaced == 0
		if _, err := conn.ExecContext(ctx, `INSERT INTO meta_targets VALUES (?, ?, map(?::VARCHAR[], ?::VARCHAR[]), ?::DATE, ?::DATE, ?, ?, ?, ?)`,
			t.KPI, scope, keys, vals, from, to, t.Target, t.Direction, t.WarnWithin, t.UpdatedAt); err != nil {
			return fmt.Errorf("set target: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Targets lists the targets, of one KPI when kpi is not empty.
func (e *Engine) Targets(ctx context.Context, name string) ([]Target, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	rows, err := e.db.QueryContext(ctx, `SELECT kpi, by_values, period_from, period_to, target, direction, warn_within, updated_at
		FROM meta_targets WHERE ? = '' OR kpi = ? ORDER BY kpi, scope, period_from NULLS FIRST`, name, name)
	if err != nil {
		return nil, contextErr(ctx, err, "targets")
	}
	defer rows.Close()
	out := []Target{}
	for rows.Next() {
		var t Target
		var by any
		var from, to sql.NullTime
		if err := rows.Scan(&t.KPI, &by, &from, &to, &t.Target, &t.Direction, &t.WarnWithin, &t.UpdatedAt); err != nil {
			return nil, fmt.Errorf("targets: %w", err)
		}
		if t.By, err = scopeValues(by); err != nil {
			return nil, fmt.Errorf("targets of %s: %w", t.KPI, err)
		}
		if from.Valid {
			t.From, t.To = kpi.Date(from.Time), kpi.Date(to.Time)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteTargets removes a KPI's targets: all of them, or only the scope
// given. It reports how many were removed.
func (e *Engine) DeleteTargets(ctx context.Context, kpi string, by map[string]string, onlyScope bool) (int64, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	if _, err := e.catalog.Lookup(kpi); err != nil {
		return 0, err
	}
	q, args := "DELETE FROM meta_targets WHERE kpi = ?", []any{kpi}
	if onlyScope {
		q += " AND scope = ?"
		args = append(args, scopeKey(by))
	}
	var n int64
	_, err := e.write(ctx, "delete targets", false, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		res, err := conn.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("delete targets: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// ScorecardRow is one KPI (or one scoped target) on the scorecard.
type ScorecardRow struct {
	KPI        string            `json:"kpi"`
	Title      string            `json:"title"`
	Unit       string            `json:"unit"`
	Category   string            `json:"category"`
	Version    int               `json:"version"`
	By         map[string]string `json:"by,omitempty"`
	Value      *float64          `json:"value" extensions:"x-nullable"`
	Previous   *float64          `json:"previous" extensions:"x-nullable"`
	Change     *float64          `json:"change" extensions:"x-nullable"`
	ChangePct  *float64          `json:"change_pct" extensions:"x-nullable"`
	Target     *float64          `json:"target" extensions:"x-nullable"`
	WarnWithin *float64          `json:"warn_within,omitempty"`
	Status     *string           `json:"status" enums:"ok,warn,alert" extensions:"x-nullable"`
	Direction  string            `json:"direction"`
}

// Scorecard is every KPI whose data is present, against its target.
type Scorecard struct {
	From         string         `json:"from"`
	To           string         `json:"to"`
	PreviousFrom string         `json:"previous_from"`
	Rows         []ScorecardRow `json:"rows"`
	Skipped      []SkippedKPI   `json:"skipped"`
	Elapsed      float64        `json:"elapsed_ms"`
	// Pack is the pack asked for (scorecard?pack=), with its goal.
	Pack *Pack `json:"pack,omitempty"`
	// Path says how the KPIs were computed: fast when any row came from
	// the shared per-customer tables, else plain (or cache).
	Path string `json:"-"`
}

// packOrder puts a pack's scorecard in the pack's order and gives a row
// without a target the pack's direction (a target's direction is the one
// its status was judged by).
func packOrder(sc *Scorecard, pack *Pack) {
	pos := map[string]int{}
	for i, k := range pack.KPIs {
		pos[k.KPI] = i
	}
	sort.SliceStable(sc.Rows, func(i, j int) bool { return pos[sc.Rows[i].KPI] < pos[sc.Rows[j].KPI] })
	for i := range sc.Rows {
		if r := &sc.Rows[i]; r.Target == nil {
			if d := pack.KPIs[pos[r.KPI]].Direction; d != "" {
				r.Direction = d
			}
		}
	}
}

// SkippedKPI is a KPI left off the scorecard, and why.
type SkippedKPI struct {
	KPI    string `json:"kpi"`
	Reason string `json:"reason"`
}

// scorecardParallel is how many KPIs the scorecard computes at once. DuckDB
// parallelises each statement too; a few at once keep both cores busy while
// short statements wait on their results.
const scorecardParallel = 4

// Scorecard computes every KPI (default version) with its data present over
// the window and the previous window, one statement each, a few at once,
// and compares each with its target.
func (e *Engine) Scorecard(ctx context.Context, from, to time.Time) (*Scorecard, error) {
	return e.ScorecardOf(ctx, ScorecardQuery{From: from, To: to})
}

// ScorecardQuery asks for the scorecard of a window, of every KPI, of a
// pack's KPIs (in the pack's order, with its directions where no target
// sets one) or of the KPIs named.
//
// Filter, when set, restricts it to the customers with those dimension
// values (dimension → value, as a scoped target's by; tier:RULESET for a
// rule set's tier): a KPI without one of the dimensions is skipped, scoped
// targets add no rows, and each KPI is compared with its target scoped to
// exactly the filter, else with its unscoped target.
type ScorecardQuery struct {
	From, To time.Time
	Pack     string
	KPIs     []string
	Filter   map[string]string
}

// ScorecardOf is Scorecard for the KPIs the query chooses. Its rows are
// separate statements (and a shared fast one), each pinned to a
// generation: so that the whole answer is of one generation, it is
// computed again when a write landed meanwhile, and after
// store.MaxReplans such races answers busy.
func (e *Engine) ScorecardOf(ctx context.Context, q ScorecardQuery) (*Scorecard, error) {
	ctx, cancel := e.withTimeout(ctx)
	defer cancel()
	for range store.MaxReplans {
		before := e.snap()
		sc, err := e.scorecardOnce(ctx, q, before)
		if err != nil {
			return nil, err
		}
		if scorecardRaceHook != nil {
			scorecardRaceHook()
		}
		if e.snap() == before {
			return sc, nil
		}
	}
	return nil, errBusy("scorecard")
}

// scorecardRaceHook, set by tests only, runs after a scorecard was
// computed and before it is checked against the generation: a write there
// is the race ScorecardOf guards against.
var scorecardRaceHook func()

// scorecardComputeHook, set by tests only, runs as a scorecard's
// computation starts.
var scorecardComputeHook func(ctx context.Context) error

// scorecardOnce computes the scorecard from snapshot s.
func (e *Engine) scorecardOnce(ctx context.Context, q ScorecardQuery, s *snapshot) (*Scorecard, error) {
	start := time.Now()
	from, to, err := kpi.Window(s.dataEnd, q.From, q.To)
	if err != nil {
		return nil, err
	}
	filter := q.Filter
	var pack *Pack
	only := q.KPIs
	if q.Pack != "" {
		if pack, err = e.PackByName(ctx, q.Pack); err != nil {
			return nil, err
		}
		only = nil
		for _, k := range pack.KPIs {
			only = append(only, k.KPI)
		}
	}
	targets, err := e.Targets(ctx, "")
	if err != nil {
		return nil, err
	}
	// A scorecard reads every dataset, the targets and the packs: any write
	// changes the generation, so the generation keys a stored one.
	key := fmt.Sprintf("%d|%s|%s|%s|%v|%s|%s|%s", s.generation, kpi.Date(from), kpi.Date(to), kpi.ScopeKey(scopeOf(ctx)),
		plainOnly(ctx), q.Pack, scopeKey(filter), strings.Join(q.KPIs, ","))
	if sc, ok := e.scorecards.get(key); ok {
		out := *sc
		out.Path = PathCache
		out.Elapsed = float64(time.Since(start).Microseconds()) / 1000
		return &out, nil
	}
	// One computation per key at a time: a request arriving while the
	// same scorecard is computed (the warm-up after an import, or another
	// request) waits for that one instead of competing with it for the
	// same cores. A wait its own deadline ends, or a computation another
	// caller's cancellation ended, leaves it to compute its own.
	ch := e.scorecardFlight.DoChan(key, func() (any, error) {
		return e.computeScorecard(ctx, q, s, key, start, from, to, pack, only, filter, targets)
	})
	var r singleflight.Result
	select {
	case r = <-ch:
	case <-ctx.Done():
		return nil, contextErr(ctx, ctx.Err(), "scorecard")
	}
	leaderGaveUp := r.Shared && ctx.Err() == nil &&
		(errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded))
	switch {
	case leaderGaveUp:
		return e.computeScorecard(ctx, q, s, key, start, from, to, pack, only, filter, targets)
	case r.Err != nil:
		return nil, r.Err
	}
	out := *r.Val.(*Scorecard)
	out.Elapsed = float64(time.Since(start).Microseconds()) / 1000
	return &out, nil
}

// computeScorecard computes and stores the scorecard of key.
func (e *Engine) computeScorecard(ctx context.Context, q ScorecardQuery, s *snapshot, key string, start time.Time, from, to time.Time,
	pack *Pack, only []string, filter map[string]string, targets []Target) (*Scorecard, error) {
	if scorecardComputeHook != nil {
		if err := scorecardComputeHook(ctx); err != nil {
			return nil, err
		}
	}
	sc := &Scorecard{From: kpi.Date(from), To: kpi.Date(to), PreviousFrom: kpi.Date(kpi.PreviousStart(from, to)), Rows: []ScorecardRow{}, Skipped: []SkippedKPI{}, Pack: pack}

	type job = scorecardJob
	var jobs []job
	used := map[string]bool{} // filter dimensions some KPI has
	for _, k := range e.catalog.List() {
		d := k.Default
		if only != nil && !slices.Contains(only, k.Name) {
			continue
		}
		if len(d.Group) > 0 {
			continue // matrices have no single value
		}
		if _, err := kpi.ScopeFilter(s.data, d, scopeOf(ctx)); err != nil {
			sc.Skipped = append(sc.Skipped, SkippedKPI{KPI: k.Name, Reason: err.Error()})
			continue
		}
		if err := kpi.RequireData(s.data, d); err != nil {
			sc.Skipped = append(sc.Skipped, SkippedKPI{KPI: k.Name, Reason: err.Error()})
			continue
		}
		if len(filter) > 0 {
			if missing := missingDimension(s.data, d, filter, used); missing != "" {
				sc.Skipped = append(sc.Skipped, SkippedKPI{KPI: k.Name, Reason: fmt.Sprintf("KPI %s has no dimension %s", k.Name, missing)})
				continue
			}
			jobs = append(jobs, job{kpi: k, by: filter, target: filterTarget(targets, k.Name, filter, from, to)})
			continue
		}
		jobs = append(jobs, job{kpi: k, target: bestTarget(targets, k.Name, from, to)})
		for i := range targets {
			t := &targets[i]
			if t.KPI == k.Name && len(t.By) > 0 && targetApplies(t, from, to) {
				jobs = append(jobs, job{kpi: k, by: t.By, target: t})
			}
		}
	}
	for dim := range filter {
		if !used[dim] {
			return nil, &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf("invalid parameter \"filter\": no KPI has the dimension %q", dim),
				Details: map[string]any{"parameter": "filter", "dimension": dim}}
		}
	}
	rows, path, err := e.scorecardRows(ctx, s, jobs, from, to)
	if err != nil {
		return nil, err
	}
	sc.Path = path
	sc.Rows = rows
	if pack != nil {
		packOrder(sc, pack)
	}
	sc.Elapsed = float64(time.Since(start).Microseconds()) / 1000
	e.scorecards.put(key, sc)
	out := *sc
	return &out, nil
}

// scorecardJob is one row to compute: a KPI, unscoped (by nil) or for a
// scoped target or a filter, with the target it is compared with.
type scorecardJob struct {
	kpi    *KPI
	by     map[string]string
	target *Target
}

// scorecardRows computes the rows: the unscoped rows of the KPIs with a
// fast form in one statement (fastScorecard), meanwhile the others each on
// its own, a few at once. When the fast statement finds the generation
// moved on, its KPIs are computed on their own too.
func (e *Engine) scorecardRows(ctx context.Context, s *snapshot, jobs []scorecardJob, from, to time.Time) ([]ScorecardRow, string, error) {
	var unscoped []*KPI
	for _, j := range jobs {
		if j.by == nil {
			unscoped = append(unscoped, j.kpi)
		}
	}
	st, err := e.planFastScorecard(ctx, s, unscoped, from, to)
	if err != nil {
		return nil, "", err
	}
	inFast := map[string]bool{}
	if st != nil {
		for _, d := range st.Defs {
			inFast[d.Name] = true
		}
	}
	var fast fastValues
	var fastOK bool
	var fastErr error
	fastDone := make(chan struct{})
	go func() {
		defer close(fastDone)
		fast, fastOK, fastErr = e.fastScorecard(ctx, s, st, from)
	}()
	rows := make([]ScorecardRow, len(jobs))
	errs := make([]error, len(jobs))
	run := func(pick func(scorecardJob) bool, values func(scorecardJob) *[2]*float64) {
		sem := make(chan struct{}, scorecardParallel)
		var wg sync.WaitGroup
		for i, j := range jobs {
			if !pick(j) {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				rows[i], errs[i] = e.scorecardRow(ctx, j.kpi, j.by, j.target, from, to, values(j))
			}()
		}
		wg.Wait()
	}
	fastRow := func(j scorecardJob) bool { return j.by == nil && inFast[j.kpi.Name] }
	none := func(scorecardJob) *[2]*float64 { return nil }
	run(func(j scorecardJob) bool { return !fastRow(j) }, none)
	<-fastDone
	if fastErr != nil {
		return nil, "", fastErr
	}
	path := PathPlain
	if fastOK && st != nil {
		path = PathFast
		run(fastRow, func(j scorecardJob) *[2]*float64 { v := fast[j.kpi.Name]; return &v })
	} else {
		run(fastRow, none) // the data changed meanwhile: each KPI plans again
	}
	for i, err := range errs {
		if err != nil {
			return nil, "", fmt.Errorf("scorecard %s: %w", jobs[i].kpi.Name, err)
		}
	}
	return rows, path, nil
}

// ScorecardKPIs lists the KPIs the default scorecard would show now.
func (e *Engine) ScorecardKPIs(ctx context.Context) []*KPI {
	s := e.snap()
	var out []*KPI
	for _, k := range e.catalog.List() {
		d := k.Default
		if len(d.Group) > 0 || kpi.RequireData(s.data, d) != nil {
			continue
		}
		if _, err := kpi.ScopeFilter(s.data, d, scopeOf(ctx)); err != nil {
			continue
		}
		out = append(out, k)
	}
	return out
}

// missingDimension is a dimension of filter the KPI cannot be grouped by
// ("" when it has them all); the ones it has are marked in used.
func missingDimension(data *kpi.Data, d *queries.Definition, filter map[string]string, used map[string]bool) string {
	allowed, err := kpi.Dimensions(data, d)
	if err != nil {
		return "(none)"
	}
	missing := ""
	for _, dim := range slices.Sorted(maps.Keys(filter)) {
		ok := slices.Contains(allowed, dim)
		if strings.HasPrefix(dim, "tier:") {
			ok = d.Dimensions == nil // per-customer KPIs group by any tier
		}
		if !ok {
			if missing == "" {
				missing = dim
			}
			continue
		}
		used[dim] = true
	}
	return missing
}

// filterTarget is the target a filtered scorecard compares a KPI with: one
// scoped to exactly the filter's values, else the unscoped one.
func filterTarget(targets []Target, kpiName string, filter map[string]string, from, to time.Time) *Target {
	for i := range targets {
		t := &targets[i]
		if t.KPI == kpiName && maps.Equal(t.By, filter) && targetApplies(t, from, to) {
			return t
		}
	}
	return bestTarget(targets, kpiName, from, to)
}

// scorecardRow computes one KPI over the customers with the dimension
// values by (all of them when by is empty) and compares it with t (none:
// no status).
func (e *Engine) scorecardRow(ctx context.Context, k *KPI, by map[string]string, t *Target, from, to time.Time, fast *[2]*float64) (ScorecardRow, error) {
	d := k.Default
	row := ScorecardRow{KPI: k.Name, Title: d.Title, Unit: d.Unit, Category: d.Category, Version: d.Version, Direction: d.Direction}
	q := Query{KPI: k.Name, From: from, To: to}
	if len(by) > 0 {
		row.By = by
		q.By = slices.Sorted(maps.Keys(by))
	}
	if fast != nil {
		row.Previous, row.Value = fast[0], fast[1]
	} else {
		c, err := e.compare(ctx, q)
		if err != nil {
			return row, err
		}
		parts := make([]string, len(q.By))
		for i, dim := range q.By {
			parts[i] = by[dim]
		}
		key := strings.Join(parts, "\x00")
		row.Value, row.Previous = c.num(c.cur[key], "value"), c.num(c.prev[key], "value")
	}
	if d.Kind == queries.Additive && len(q.By) > 0 {
		// A group without rows in a window is a count of zero there.
		if row.Value == nil {
			row.Value = new(float64)
		}
		if row.Previous == nil {
			row.Previous = new(float64)
		}
	}
	if row.Value != nil && row.Previous != nil {
		row.Change = finite(d.RoundMoney(*row.Value - *row.Previous))
		if row.Change != nil && *row.Previous != 0 {
			row.ChangePct = finite(*row.Change / math.Abs(*row.Previous))
		}
	}
	if t != nil {
		row.Target, row.WarnWithin, row.Direction = &t.Target, &t.WarnWithin, t.Direction
		if row.Value != nil {
			s := targetStatus(*row.Value, t)
			row.Status = &s
		}
	}
	return row, nil
}

// targetApplies: a target without a period applies to every window; one
// with a period applies to windows inside it.
func targetApplies(t *Target, from, to time.Time) bool {
	if t.From == "" {
		return true
	}
	f, _ := time.Parse(time.DateOnly, t.From)
	tt, _ := time.Parse(time.DateOnly, t.To)
	return !from.Before(f) && !to.After(tt)
}

// bestTarget is the unscoped target of a KPI for the window: one set for a
// period holding the window wins over one without a period.
func bestTarget(targets []Target, kpi string, from, to time.Time) *Target {
	var best *Target
	for i := range targets {
		t := &targets[i]
		if t.KPI != kpi || len(t.By) > 0 || !targetApplies(t, from, to) {
			continue
		}
		if best == nil || (best.From == "" && t.From != "") {
			best = t
		}
	}
	return best
}

// targetStatus: ok on the right side of the target (or on it); warn on the
// wrong side by at most warn_within (in the KPI's unit); alert beyond.
func targetStatus(value float64, t *Target) string {
	gap := t.Target - value // how far below the target
	if t.Direction == "lower_is_better" {
		gap = value - t.Target // how far above it
	}
	switch {
	case gap <= 0:
		return "ok"
	case gap <= t.WarnWithin+1e-12*math.Max(1, math.Abs(t.Target)): // float noise is not a miss
		return "warn"
	}
	return "alert"
}
