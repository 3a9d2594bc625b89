package rules

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/common/functions"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// EvalEnv is what an evaluation depends on besides the customer's features.
type EvalEnv struct {
	// AsOf is the evaluation's as-of date; days_since counts whole days
	// from a timestamp's date to AsOf's date (UTC). Required when the rule
	// set calls days_since.
	AsOf time.Time
	// Percentiles holds the value of each percentile(feature, p) over the
	// evaluated customers. A missing entry is a null percentile (as SQL's
	// quantile_cont over no values); EvalGo computes missing entries from
	// the rows it is given.
	Percentiles map[PercentileRef]float64
}

// Assignment is the outcome of a rule set for one customer.
type Assignment struct {
	Tier string `json:"tier"`
	// Rule is the 1-based index of the matching rule, 0 for the default.
	Rule int `json:"rule"`
	// NullSkips lists the rules the customer reached whose condition was
	// unknown (a null feature or a runtime error): not matched, skipped.
	NullSkips []int `json:"null_skips,omitempty"`
}

// Outcome is the three-valued result of one condition for one customer.
type Outcome int8

// A condition matches, does not match, or is unknown (null). Unknown does
// not match.
const (
	NoMatch Outcome = iota
	Match
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case NoMatch:
		return "false"
	case Match:
		return "true"
	}
	return "unknown"
}

// rowActivation feeds one customer's features to CEL programs. A null
// feature is absent: CEL then yields an error value for it, which its && and
// || absorb exactly as SQL's AND and OR absorb NULL (see the package doc).
// It also supplies the late-bound helpers for this evaluation.
type rowActivation struct {
	slots map[string]int
	vals  []ref.Val
	pct   functions.LateBoundOp
	days  functions.LateBoundOp
}

func (a *rowActivation) ResolveName(name string) (any, bool) {
	i, ok := a.slots[name]
	if !ok || a.vals[i] == nil {
		return nil, false
	}
	return a.vals[i], true
}

func (a *rowActivation) Parent() interpreter.Activation { return nil }

func (a *rowActivation) ResolveFunction(name string) (functions.LateBoundOp, bool) {
	switch name {
	case fnPercentile:
		return a.pct, true
	case fnDaysSince:
		return a.days, true
	}
	return nil, false
}

// binder converts rows into activations for a fixed list of inputs.
type binder struct {
	features []Feature
	act      rowActivation
}

func newBinder(s *Schema, inputs []int, env EvalEnv, needsAsOf bool) (*binder, error) {
	if needsAsOf && env.AsOf.IsZero() {
		return nil, errors.New("days_since needs the evaluation's as-of date (EvalEnv.AsOf)")
	}
	b := &binder{features: make([]Feature, len(inputs))}
	b.act.slots = make(map[string]int, len(inputs))
	b.act.vals = make([]ref.Val, len(inputs))
	for i, in := range inputs {
		b.features[i] = s.features[in]
		b.act.slots[s.features[in].Name] = i
	}
	pcts := env.Percentiles
	b.act.pct = func(_ string, args ...ref.Val) ref.Val {
		name, _ := args[0].(types.String)
		p, _ := args[1].(types.Double)
		v, ok := pcts[PercentileRef{Feature: string(name), P: float64(p)}]
		if !ok {
			return types.NewErr("percentile(%q, %g) is null: no values", string(name), float64(p))
		}
		return types.Double(v)
	}
	asOfDay := unixDay(env.AsOf)
	b.act.days = func(_ string, args ...ref.Val) ref.Val {
		ts, ok := args[0].(types.Timestamp)
		if !ok {
			return types.NewErr("days_since: not a timestamp")
		}
		return types.Int(asOfDay - unixDay(ts.Time))
	}
	return b, nil
}

// unixDay is the day number of t's UTC date, as DuckDB's CAST(t AS DATE).
func unixDay(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

func (b *binder) bindMap(row map[string]any) error {
	for i, f := range b.features {
		raw, ok := row[f.Name]
		if !ok {
			return fmt.Errorf("row has no feature %q", f.Name)
		}
		v, err := toVal(f, raw)
		if err != nil {
			return err
		}
		b.act.vals[i] = v
	}
	return nil
}

func (b *binder) bindValues(values []any) error {
	if len(values) != len(b.features) {
		return fmt.Errorf("row has %d values for %d inputs", len(values), len(b.features))
	}
	for i, f := range b.features {
		v, err := toVal(f, values[i])
		if err != nil {
			return err
		}
		b.act.vals[i] = v
	}
	return nil
}

// toVal converts a scanned value to the CEL value of the feature's type;
// nil (SQL NULL) stays nil.
func toVal(f Feature, v any) (ref.Val, error) {
	if v == nil {
		return nil, nil
	}
	switch f.Type {
	case Int:
		switch x := v.(type) {
		case int64:
			return types.Int(x), nil
		case int:
			return types.Int(x), nil
		case int32:
			return types.Int(x), nil
		case int16:
			return types.Int(x), nil
		case int8:
			return types.Int(x), nil
		case uint8:
			return types.Int(x), nil
		case uint16:
			return types.Int(x), nil
		case uint32:
			return types.Int(x), nil
		case uint64:
			if x <= math.MaxInt64 {
				return types.Int(x), nil
			}
		}
	case Double:
		switch x := v.(type) {
		case float64:
			return types.Double(x), nil
		case float32:
			return types.Double(x), nil
		case int64:
			return types.Double(x), nil
		case int32:
			return types.Double(x), nil
		case int:
			return types.Double(x), nil
		case interface{ Float64() float64 }:
			// e.g. a DECIMAL scanned by the DuckDB driver.
			return types.Double(x.Float64()), nil
		}
	case String:
		switch x := v.(type) {
		case string:
			return types.String(x), nil
		case []byte:
			return types.String(x), nil
		}
	case Bool:
		if x, ok := v.(bool); ok {
			return types.Bool(x), nil
		}
	case Timestamp:
		if x, ok := v.(time.Time); ok {
			return types.Timestamp{Time: x.UTC()}, nil
		}
	}
	return nil, fmt.Errorf("feature %q is a %s, but the row holds %T %v", f.Name, f.Type, v, v)
}

// eval runs one condition over the bound row.
func (b *binder) eval(ctx context.Context, ce *compiledExpr) (Outcome, error) {
	var out ref.Val
	var err error
	if ce.fast != nil {
		out, _, err = ce.fast.Eval(&b.act)
	} else {
		out, _, err = ce.prg.ContextEval(ctx, &b.act)
	}
	if bv, ok := out.(types.Bool); ok {
		if bv {
			return Match, nil
		}
		return NoMatch, nil
	}
	if err != nil && (out == nil || errors.Is(err, interpreter.InterruptError{})) {
		// Not a value: the evaluation went over the cost limit (no value)
		// or was interrupted (CEL folds the interruption into an error
		// value, which must not pass for an unknown).
		return Unknown, err
	}
	return Unknown, nil
}

// Evaluator evaluates a compiled rule set one customer at a time, for
// callers that stream rows. It is not safe for concurrent use; create one
// per goroutine.
type Evaluator struct {
	c *Compiled
	b *binder
}

// NewEvaluator prepares a streaming evaluation. Percentiles missing from
// env are null: compute them first (Percentiles lists them).
func (c *Compiled) NewEvaluator(env EvalEnv) (*Evaluator, error) {
	b, err := newBinder(c.schema, c.inputs, env, c.daysSince)
	if err != nil {
		return nil, fmt.Errorf("rules: evaluate %s: %w", c.label(), err)
	}
	return &Evaluator{c: c, b: b}, nil
}

// Eval assigns one customer whose features are in row, keyed by name; every
// input (Inputs) must be present, nil for null.
func (e *Evaluator) Eval(ctx context.Context, row map[string]any) (Assignment, error) {
	if err := e.b.bindMap(row); err != nil {
		return Assignment{}, err
	}
	return e.assign(ctx)
}

// EvalValues assigns one customer whose inputs are given positionally, in
// the order of Inputs: the cheap path for rows scanned from SQL.
func (e *Evaluator) EvalValues(ctx context.Context, values []any) (Assignment, error) {
	if err := e.b.bindValues(values); err != nil {
		return Assignment{}, err
	}
	return e.assign(ctx)
}

func (e *Evaluator) assign(ctx context.Context) (Assignment, error) {
	// Conditions without loops run without watching the context (see
	// compileExpr), so a streaming caller's deadline is checked here.
	if err := ctx.Err(); err != nil {
		return Assignment{}, err
	}
	var a Assignment
	for i, ce := range e.c.exprs {
		o, err := e.b.eval(ctx, ce)
		if err != nil {
			return Assignment{}, fmt.Errorf("rule %d (tier %q): %w", i+1, e.c.set.Rules[i].Tier, err)
		}
		switch o {
		case Match:
			a.Tier, a.Rule = e.c.set.Rules[i].Tier, i+1
			return a, nil
		case Unknown:
			a.NullSkips = append(a.NullSkips, i+1)
		}
	}
	a.Tier = e.c.set.Default
	return a, nil
}

func (c *Compiled) label() string {
	if c.set.Name != "" {
		return fmt.Sprintf("rule set %q", c.set.Name)
	}
	return "rule set"
}

// evalChunk is how many rows a worker takes at a time; the context is
// checked between chunks (and inside comprehensions by CEL).
const evalChunk = 2048

// EvalGo assigns every row (one customer each, features keyed by name, nil
// for null) in Go, in parallel, and returns the assignments in row order.
// Percentiles missing from env are computed over rows: the evaluation's
// population.
func (c *Compiled) EvalGo(ctx context.Context, rows []map[string]any, env EvalEnv) ([]Assignment, error) {
	env, err := completePercentiles(c.schema, c.percentiles, rows, env)
	if err != nil {
		return nil, fmt.Errorf("rules: evaluate %s: %w", c.label(), err)
	}
	out := make([]Assignment, len(rows))
	err = parallel(ctx, len(rows), func() (func(ctx context.Context, i int) error, error) {
		ev, err := c.NewEvaluator(env)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, i int) error {
			a, err := ev.Eval(ctx, rows[i])
			if err != nil {
				return fmt.Errorf("rules: evaluate %s: row %d: %w", c.label(), i, err)
			}
			out[i] = a
			return nil
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parallel runs n items over GOMAXPROCS workers, each set up by newWorker,
// and returns the first error (cancelling the rest).
func parallel(ctx context.Context, n int, newWorker func() (func(context.Context, int) error, error)) error {
	workers := min(runtime.GOMAXPROCS(0), (n+evalChunk-1)/evalChunk)
	if workers <= 1 {
		work, err := newWorker()
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if i%evalChunk == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := work(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for w := 0; w < workers; w++ {
		work, err := newWorker()
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(evalChunk)) - evalChunk
				if start >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				for i := start; i < min(start+evalChunk, n); i++ {
					if err := work(ctx, i); err != nil {
						fail(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		// A cancelled caller sees its own context's error rather than
		// whichever worker noticed first.
		if err := parent.Err(); err != nil {
			return err
		}
		return firstErr
	}
	return nil
}

// completePercentiles returns env with every percentile in refs present,
// computing the missing ones over rows.
func completePercentiles(s *Schema, refs []PercentileRef, rows []map[string]any, env EvalEnv) (EvalEnv, error) {
	var missing []PercentileRef
	for _, r := range refs {
		if _, ok := env.Percentiles[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return env, nil
	}
	pcts := make(map[PercentileRef]float64, len(env.Percentiles)+len(missing))
	for k, v := range env.Percentiles {
		pcts[k] = v
	}
	byFeature := map[string][]float64{}
	for _, r := range missing {
		vals, ok := byFeature[r.Feature]
		if !ok {
			f, _ := s.Feature(r.Feature)
			var err error
			vals, err = numericColumn(f, rows)
			if err != nil {
				return env, fmt.Errorf("percentile(%q, %g): %w", r.Feature, r.P, err)
			}
			slices.Sort(vals)
			byFeature[r.Feature] = vals
		}
		if q, ok := quantileSorted(vals, r.P); ok {
			pcts[r] = q
		}
	}
	env.Percentiles = pcts
	return env, nil
}

// numericColumn collects a numeric feature's non-null, non-NaN values.
func numericColumn(f Feature, rows []map[string]any) ([]float64, error) {
	vals := make([]float64, 0, len(rows))
	for i, row := range rows {
		v, err := toVal(f, row[f.Name])
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
		var x float64
		switch t := v.(type) {
		case nil:
			continue
		case types.Int:
			x = float64(t)
		case types.Double:
			x = float64(t)
		}
		if !math.IsNaN(x) {
			vals = append(vals, x)
		}
	}
	return vals, nil
}

// Quantile is the continuous p-quantile of values, computed exactly as
// DuckDB's quantile_cont does for DOUBLE (the SQL path's percentile): NaN
// values are left out, and between the two nearest order statistics it
// interpolates lo*(1-d) + hi*d. It reports false when no value remains.
func Quantile(values []float64, p float64) (float64, bool) {
	vals := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return quantileSorted(vals, p)
}

func quantileSorted(vals []float64, p float64) (float64, bool) {
	n := len(vals)
	if n == 0 || !(p >= 0 && p <= 1) {
		return 0, false
	}
	rn := float64(n-1) * p
	frn, crn := math.Floor(rn), math.Ceil(rn)
	lo := vals[int(frn)]
	if frn == crn {
		return lo, true
	}
	hi := vals[int(crn)]
	d := rn - frn
	// The explicit conversions forbid fusing into an FMA, which would round
	// differently from DuckDB.
	return float64(lo*(1.0-d)) + float64(hi*d), true
}

// Eval evaluates the condition for one customer. Percentiles missing from
// env are null.
func (c *Condition) Eval(ctx context.Context, row map[string]any, env EvalEnv) (Outcome, error) {
	b, err := newBinder(c.schema, c.expr.inputs, env, c.expr.daysSince)
	if err != nil {
		return Unknown, fmt.Errorf("rules: evaluate condition: %w", err)
	}
	if err := b.bindMap(row); err != nil {
		return Unknown, fmt.Errorf("rules: evaluate condition: %w", err)
	}
	o, err := b.eval(ctx, c.expr)
	if err != nil {
		return Unknown, fmt.Errorf("rules: evaluate condition: %w", err)
	}
	return o, nil
}

// EvalGo evaluates the condition for every row, in parallel, computing
// missing percentiles over rows.
func (c *Condition) EvalGo(ctx context.Context, rows []map[string]any, env EvalEnv) ([]Outcome, error) {
	env, err := completePercentiles(c.schema, c.expr.percentiles, rows, env)
	if err != nil {
		return nil, fmt.Errorf("rules: evaluate condition: %w", err)
	}
	out := make([]Outcome, len(rows))
	err = parallel(ctx, len(rows), func() (func(context.Context, int) error, error) {
		b, err := newBinder(c.schema, c.expr.inputs, env, c.expr.daysSince)
		if err != nil {
			return nil, fmt.Errorf("rules: evaluate condition: %w", err)
		}
		return func(ctx context.Context, i int) error {
			if err := b.bindMap(rows[i]); err != nil {
				return fmt.Errorf("rules: evaluate condition: row %d: %w", i, err)
			}
			o, err := b.eval(ctx, c.expr)
			if err != nil {
				return fmt.Errorf("rules: evaluate condition: row %d: %w", i, err)
			}
			out[i] = o
			return nil
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
