package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"custkpi/engine"
	"custkpi/kpi"
)

// benchRequest is one row of the side-by-side: a request through custkpi
// and the same definition written as plain DuckDB SQL over the same tables.
type benchRequest struct {
	name  string
	query *engine.Query // nil: the scorecard
	// plain is the hand-written statement; its placeholders are the
	// window start, end and previous start.
	plain string
}

// completed is the orders KPIs' filter, as the KPI files write it.
const completed = "coalesce(status, 'completed') = 'completed'"

// benchRequests are the requests of issue 11's table. The plain SQL is
// written from KPIS.md's definitions, not taken from the planner.
func benchRequests() []benchRequest {
	q := func(name string, by ...string) *engine.Query { return &engine.Query{KPI: name, By: by} }
	return []benchRequest{
		{"revenue, one year", q("revenue"), `SELECT coalesce(sum(amount), 0) FROM orders
			WHERE ` + completed + ` AND order_date >= $1 AND order_date < $2`},
		{"revenue by region", q("revenue", "region"), `SELECT c.region, coalesce(sum(o.amount), 0) FROM orders o
			LEFT JOIN customers c USING (customer_id)
			WHERE ` + completed + ` AND o.order_date >= $1 AND o.order_date < $2 GROUP BY 1`},
		{"churn_rate", q("churn_rate"), `SELECT count(*) FILTER (WHERE p AND NOT w) / count(*) FILTER (WHERE p) FROM (
			SELECT customer_id, bool_or(order_date >= $3 AND order_date < $1) AS p, bool_or(order_date >= $1) AS w
			FROM orders WHERE ` + completed + ` AND order_date >= $3 AND order_date < $2 GROUP BY customer_id)`},
		{"repeat_purchase_rate", q("repeat_purchase_rate"), `SELECT count(*) FILTER (WHERE n >= 2) / count(*) FROM (
			SELECT customer_id, count(*) AS n FROM orders
			WHERE ` + completed + ` AND order_date >= $1 AND order_date < $2 GROUP BY customer_id)`},
		{"recency_days", q("recency_days"), `SELECT avg(date_diff('day', CAST(last AS DATE), CAST($2 AS DATE))) FROM (
			SELECT customer_id, max(order_date) AS last FROM orders
			WHERE ` + completed + ` AND order_date < $2 GROUP BY customer_id)`},
		{"suspected_churn_rate", q("suspected_churn_rate"), `SELECT count(*) FILTER (WHERE date_diff('day', days[-1], CAST($2 AS DATE)) > 2 * list_median(gaps)) / count(*) FROM (
			SELECT days, list_filter(list_transform(days[2:], lambda d, i: date_diff('day', days[i], d)), lambda g: g > 0) AS gaps FROM (
				SELECT customer_id, list_sort(list(DISTINCT CAST(order_date AS DATE))) AS days FROM orders
				WHERE ` + completed + ` AND order_date < $2 GROUP BY customer_id))
			WHERE len(days) >= 3`},
		{"top20_revenue_share", q("top20_revenue_share"), `SELECT sum(r) FILTER (WHERE rk <= (n + 4) // 5) / sum(r) FROM (
			SELECT r, row_number() OVER (ORDER BY r DESC, customer_id) AS rk, count(*) OVER () AS n FROM (
				SELECT customer_id, sum(amount) AS r FROM orders
				WHERE ` + completed + ` AND order_date >= $1 AND order_date < $2 GROUP BY customer_id))`},
		{"nps by region", q("nps", "region"), `SELECT c.region, 100 * (count(*) FILTER (WHERE s.nps >= 9) - count(*) FILTER (WHERE s.nps <= 6)) / count(s.nps)
			FROM surveys s LEFT JOIN customers c USING (customer_id)
			WHERE s.survey_date >= $1 AND s.survey_date < $2 AND s.nps IS NOT NULL GROUP BY 1`},
		{"scorecard", nil, ""},
	}
}

// benchOptions are the flags of `custkpi bench`.
type benchOptions struct {
	rounds  int
	only    string
	catalog bool
	// by is the dimension of --catalog's grouped shape.
	by string
	// servedOnly skips --catalog's plain path.
	servedOnly bool
}

func newBenchCommand(g *globalFlags) *cobra.Command {
	var db dbFlags
	var window windowFlags
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time KPI requests side by side: plain DuckDB SQL, custkpi's plain path and its fast path, in one process",
		Long: "Runs each request of a fixed set (issue 11's table: revenue, by region, churn_rate, repeat_purchase_rate, recency_days, " +
			"suspected_churn_rate, top20_revenue_share, nps by region and the whole scorecard) as plain DuckDB SQL of the same definition, " +
			"through custkpi on its plain path (the KPI macros) and through custkpi as it serves (fast path where it applies), " +
			"taking turns (A B C A B C …) so that a busy machine slows all alike, without the results cache. It prints the median wall " +
			"and CPU time of each and their ratios. The scorecard's plain SQL calls each KPI's macro for the window and the previous window. " +
			"It reads the database only; copy a file another process holds.",
		Example: "  custkpi bench --db big.duckdb --rounds 5",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.refuseServer(cmd); err != nil {
				return err
			}
			from, to, err := window.parse()
			if err != nil {
				return usage(err)
			}
			if o.rounds < 1 {
				return usage(fmt.Errorf("--rounds must be at least 1"))
			}
			db.noCache = true
			return db.withEngine(cmd, func(e *engine.Engine) error {
				var progress io.Writer
				if !g.quiet {
					progress = cmd.ErrOrStderr()
				}
				if o.catalog {
					return runCatalogBench(cmd.Context(), cmd.OutOrStdout(), progress, e, from, to, o)
				}
				return runBench(cmd.Context(), cmd.OutOrStdout(), progress, e, from, to, o)
			})
		},
	}
	db.registerExisting(cmd, "custkpi.duckdb")
	// A plain scorecard at a million customers on a busy machine runs for
	// minutes: the bench's deadline is longer than a request's.
	if err := cmd.Flags().Set("timeout", "30m"); err != nil {
		panic(err)
	}
	cmd.Flags().Lookup("timeout").DefValue = "30m"
	window.register(cmd)
	cmd.Flags().IntVar(&o.rounds, "rounds", 5, "times each variant runs; medians are reported")
	cmd.Flags().StringVar(&o.only, "only", "", "run only the request of this name (e.g. scorecard)")
	cmd.Flags().BoolVar(&o.catalog, "catalog", false, "time every KPI the data has instead, at grain none and month, on its own and by one dimension (--by, or the KPI's own), on the plain path and as served; no plain SQL column")
	cmd.Flags().BoolVar(&o.servedOnly, "served-only", false, "with --catalog, time only the requests as served (the plain path's column shows -)")
	cmd.Flags().StringVar(&o.by, "by", "region", "with --catalog, the dimension of the grouped shape (a customer column, or tier:<ruleset>), for the KPIs without dimensions of their own")
	return cmd
}

// sample is one timed run: wall time and the process's CPU time.
type sample struct{ wall, cpu time.Duration }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func timed(fn func() error) (sample, error) {
	c, w := cpuTime(), time.Now()
	err := fn()
	return sample{wall: time.Since(w), cpu: cpuTime() - c}, err
}

func median(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchVariants are the columns of the table, in the order they take turns.
var benchVariants = []string{"sql", "plain", "fast"}

// runBench prints the table to w when every request has run, and each row
// to progress (when not nil) as soon as it has.
func runBench(ctx context.Context, w, progress io.Writer, e *engine.Engine, from, to time.Time, o benchOptions) error {
	// The window every request reads (the default one when none is given)
	// and its previous window, as the engine resolves them.
	probe, err := e.Run(ctx, engine.Query{KPI: "revenue", From: from, To: to})
	if err != nil {
		return fmt.Errorf("bench: resolve the window: %w", err)
	}
	from, _ = time.Parse(time.DateOnly, probe.From)
	to, _ = time.Parse(time.DateOnly, probe.To)
	prev := kpi.PreviousStart(from, to)
	fmt.Fprintf(w, "window %s .. %s, previous from %s; %d rounds; medians of wall and CPU time (ms)\n",
		kpi.Date(from), kpi.Date(to), kpi.Date(prev), o.rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "request\tsql wall\tplain wall\tfast wall\tsql cpu\tplain cpu\tfast cpu\tplain/sql cpu\tfast/sql cpu\tfast/plain wall\tserved by\t")
	for _, r := range benchRequests() {
		if o.only != "" && o.only != r.name {
			continue
		}
		row, err := benchOne(ctx, e, r, from, to, prev, o.rounds)
		if err != nil {
			return fmt.Errorf("bench %s: %w", r.name, err)
		}
		fmt.Fprintln(tw, row)
		if progress != nil {
			fmt.Fprintln(progress, strings.ReplaceAll(row, "\t", " "))
		}
	}
	return tw.Flush()
}

// benchOne runs the variants of one request in turns and formats its row.
func benchOne(ctx context.Context, e *engine.Engine, r benchRequest, from, to, prev time.Time, rounds int) (string, error) {
	samples := map[string][]sample{}
	served := ""
	for range rounds {
		for _, v := range benchVariants {
			s, err := timed(func() error {
				var err error
				served, err = benchRun(ctx, e, r, v, from, to, prev, served)
				return err
			})
			if err != nil {
				return "", fmt.Errorf("%s: %w", v, err)
			}
			samples[v] = append(samples[v], s)
		}
	}
	wall, cpu := map[string]time.Duration{}, map[string]time.Duration{}
	for v, ss := range samples {
		var ws, cs []time.Duration
		for _, s := range ss {
			ws, cs = append(ws, s.wall), append(cs, s.cpu)
		}
		wall[v], cpu[v] = median(ws), median(cs)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond)) }
	ratio := func(a, b time.Duration) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", float64(a)/float64(b))
	}
	if r.plain == "" && r.query != nil {
		return "", fmt.Errorf("no plain SQL")
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", r.name,
		ms(wall["sql"]), ms(wall["plain"]), ms(wall["fast"]), ms(cpu["sql"]), ms(cpu["plain"]), ms(cpu["fast"]),
		ratio(cpu["plain"], cpu["sql"]), ratio(cpu["fast"], cpu["sql"]), ratio(wall["fast"], wall["plain"]), served), nil
}

// benchRun runs one variant once; for the fast variant it returns the path
// that served it (the last seen is printed).
func benchRun(ctx context.Context, e *engine.Engine, r benchRequest, variant string, from, to, prev time.Time, served string) (string, error) {
	if variant == "plain" {
		ctx = engine.WithPlainPath(ctx)
	}
	if r.query == nil {
		if variant == "sql" {
			return served, plainScorecard(ctx, e, from, to, prev)
		}
		sc, err := e.Scorecard(ctx, from, to)
		if err != nil || variant == "plain" {
			return served, err
		}
		return sc.Path, nil
	}
	if variant == "sql" {
		stmt, args := positional(r.plain, from, to, prev)
		return served, drain(ctx, e, stmt, args...)
	}
	q := *r.query
	q.From, q.To = from, to
	res, err := e.Run(ctx, q)
	if err != nil || variant == "plain" {
		return served, err
	}
	return res.Path, nil
}

var dollar = regexp.MustCompile(`\$([1-3])`)

// positional turns the $1 (window start), $2 (end) and $3 (previous start)
// of a plain statement into ? placeholders with their arguments in order.
func positional(stmt string, vals ...any) (string, []any) {
	var args []any
	out := dollar.ReplaceAllStringFunc(stmt, func(m string) string {
		args = append(args, vals[m[1]-'1'])
		return "?::TIMESTAMP"
	})
	return out, args
}

// drain runs a statement and reads every row.
func drain(ctx context.Context, e *engine.Engine, stmt string, args ...any) error {
	rows, err := e.DB().QueryContext(ctx, stmt, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// plainScorecard is the scorecard as plain SQL: for every KPI the
// scorecard shows, its macro called for the window and for the previous
// window and aggregated by the header's value, all in one statement that
// DuckDB parallelises. (Separate statements four at once, as the plain
// path runs them, crashed DuckDB 1.4's bindings twice (SIGSEGV in
// duckdb_execute_pending) when they called the macros directly.) The
// windows are written as literals: our own dates, not input.
func plainScorecard(ctx context.Context, e *engine.Engine, from, to, prev time.Time) error {
	var parts []string
	for _, k := range e.ScorecardKPIs(ctx) {
		d := k.Default
		value := d.Value
		if d.Kind == "ratio" {
			value = fmt.Sprintf("(%s) / nullif(%s, 0)", d.Numerator, d.Denominator)
		}
		for _, w := range [][3]time.Time{{from, to, prev}, {prev, from, kpi.PreviousStart(prev, from)}} {
			parts = append(parts, fmt.Sprintf("SELECT '%s' AS kpi, DATE '%s' AS period, CAST(%s AS DOUBLE) AS value FROM %s(TIMESTAMP '%s', TIMESTAMP '%s', TIMESTAMP '%s')",
				d.Name, kpi.Date(w[0]), value, d.MacroName(), kpi.Date(w[0]), kpi.Date(w[1]), kpi.Date(w[2])))
		}
	}
	return drain(ctx, e, strings.Join(parts, "\nUNION ALL\n"))
}

// runCatalogBench times every KPI the scorecard would show, in four
// shapes (grain none and grain month, each on its own and by one
// dimension: o.by, or the KPI's own), on the plain path (unless
// o.servedOnly) and as served, taking turns, and prints the median wall
// times (ms) and the path that served each shape.
func runCatalogBench(ctx context.Context, w, progress io.Writer, e *engine.Engine, from, to time.Time, o benchOptions) error {
	rounds := o.rounds
	fmt.Fprintf(w, "every KPI; %d rounds; median wall time (ms) on the plain path and as served\n", rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kpi\tnone plain\tnone served\tmonth plain\tmonth served\tby plain\tby served\tby month plain\tby month served\tby\tserved by\t")
	for _, k := range e.ScorecardKPIs(ctx) {
		by := o.by
		if d := k.Default; d.Dimensions != nil {
			by = d.Dimensions[0]
		}
		shapes := []engine.Query{
			{KPI: k.Name, From: from, To: to},
			{KPI: k.Name, From: from, To: to, Grain: engine.GrainMonth},
			{KPI: k.Name, From: from, To: to, By: []string{by}},
			{KPI: k.Name, From: from, To: to, Grain: engine.GrainMonth, By: []string{by}},
		}
		cells := []string{k.Name}
		var paths []string
		for _, q := range shapes {
			plain, served, path := benchShape(ctx, e, q, rounds, !o.servedOnly)
			cells = append(cells, plain, served)
			paths = append(paths, path)
		}
		row := strings.Join(append(cells, by, strings.Join(paths, ",")), "\t") + "\t"
		fmt.Fprintln(tw, row)
		if progress != nil {
			fmt.Fprintln(progress, strings.ReplaceAll(row, "\t", " "))
		}
	}
	return tw.Flush()
}

// benchShape runs one query on the plain path and as served, in turns. A
// variant that fails (a plain path past the memory limit at a million
// customers) shows its error code instead of a time.
func benchShape(ctx context.Context, e *engine.Engine, q engine.Query, rounds int, withPlain bool) (plain, served, path string) {
	var ps, ss []time.Duration
	var plainErr, servedErr error
	for range rounds {
		if plainErr == nil && withPlain {
			s, err := timed(func() error { _, err := e.Run(engine.WithPlainPath(ctx), q); return err })
			ps, plainErr = append(ps, s.wall), err
		}
		if servedErr == nil {
			s, err := timed(func() error {
				res, err := e.Run(ctx, q)
				if err == nil {
					path = res.Path
					if res.Calendar {
						path += "+calendar"
					}
				}
				return err
			})
			ss, servedErr = append(ss, s.wall), err
		}
	}
	cell := func(ds []time.Duration, err error) string {
		if len(ds) == 0 {
			return "-"
		}
		if err != nil {
			return "(" + cmp.Or(string(engine.ErrorCode(err)), "error") + ")"
		}
		return fmt.Sprintf("%.0f", float64(median(ds))/float64(time.Millisecond))
	}
	return cell(ps, plainErr), cell(ss, servedErr), cmp.Or(path, "-")
}
