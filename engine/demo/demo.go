// Package demo generates a deterministic, realistic customer-analytics data
// set: one Parquet file per dataset kind of the data contract (DATA.md).
//
// Everything is generated inside an in-memory DuckDB with SQL: a million
// customers (about nine million orders) take about twenty seconds on two
// cores, ten thousand take under a second.
//
// Determinism: DuckDB's random() depends on thread scheduling, so every
// pseudo-random number is a hash of (salt, seed, entity, draw) turned into a
// uniform in [0, 1); normal, gamma, Poisson, lognormal and exponential draws
// are derived from those uniforms. Rows come out in id order without a
// global sort: customers are numbered in signup order, a customer's orders
// and events are built as a sorted list and unnested, and DuckDB keeps
// insertion order. One more source of variation remains: DuckDB's parallel
// Parquet writer cuts row groups where batches happen to meet while threads
// finish. So each large file is first reduced to a narrow key table (say
// customer, order number, time for orders), copied once on a single thread
// so that every row group is exactly full, and written from there on all
// threads: every batch is then exactly one row group, whatever the timing.
// The same Options give byte-identical files on every run and any number
// of threads.
package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// Options tunes the generated data set. The zero value is usable.
type Options struct {
	Customers int       // default 10000
	Seed      int64     // same seed → byte-identical data
	End       time.Time // last day covered (exclusive), default 2025-01-01; history starts 3 years before
}

// Kinds lists the dataset kinds Generate writes, customers first (an
// importer walking this list satisfies references).
var Kinds = []string{"customers", "orders", "surveys", "tickets", "events", "acquisition_spend", "contracts"}

// DefaultCustomers is used when Options.Customers is 0.
const DefaultCustomers = 10000

// DefaultEnd is used when Options.End is zero.
var DefaultEnd = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// threads overrides DuckDB's thread count; tests set it to show that the
// output does not depend on parallelism. 0 means GOMAXPROCS.
var threads int

// Generate writes one Parquet file per dataset kind into dir (created when
// absent) and returns kind → path: customers, orders, surveys, tickets,
// events, acquisition_spend, contracts.
func Generate(ctx context.Context, dir string, opts Options) (map[string]string, error) {
	start, end, err := resolveOptions(&opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: create %s: %w", dir, err)
	}
	// DuckDB spills large operators to disk when memory is short; keep
	// those files out of the output and the working directory.
	tmp, err := os.MkdirTemp("", "custkpi-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("demo: open duckdb: %w", err)
	}
	defer db.Close()
	// One pinned connection: every statement must see the working tables
	// and macros of this in-memory database.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: connect duckdb: %w", err)
	}
	defer conn.Close()
	n, err := configure(ctx, conn, tmp)
	if err != nil {
		return nil, err
	}

	g := newGen(conn, dir, opts.Customers, opts.Seed, start, end, n)
	if err := g.run(ctx); err != nil {
		return nil, err
	}
	return g.paths, nil
}

// resolveOptions fills in opts' defaults, checks them and returns the
// history's window, [start, end).
func resolveOptions(opts *Options) (start, end time.Time, err error) {
	if opts.Customers == 0 {
		opts.Customers = DefaultCustomers
	}
	// Customer numbers are packed into ids of at least 7 digits and the
	// uniform draws need exact integer arithmetic: cap well below overflow.
	if opts.Customers < 0 || opts.Customers > 100_000_000 {
		return time.Time{}, time.Time{}, fmt.Errorf("demo: customers must be in 1..100000000, got %d", opts.Customers)
	}
	if opts.End.IsZero() {
		opts.End = DefaultEnd
	}
	// Whole seconds in UTC: timestamps are generated as epoch seconds and
	// the data contract reads timestamps as UTC.
	end = opts.End.UTC().Truncate(time.Second)
	start = end.AddDate(-3, 0, 0)
	if start.Unix() < 0 {
		return time.Time{}, time.Time{}, fmt.Errorf("demo: end %s too early: history must start after 1970", end.Format(time.RFC3339))
	}
	return start, end, nil
}

// configure sets up the session for generation, spilling to tmp, and
// returns the number of threads DuckDB runs on.
func configure(ctx context.Context, conn *sql.Conn, tmp string) (int, error) {
	n := threads
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	for _, q := range []string{
		fmt.Sprintf("SET threads = %d", n),
		// The files are written in generation order, which is id order.
		"SET preserve_insertion_order = true",
		"SET temp_directory = " + quote(tmp),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("demo: configure duckdb (%s): %w", q, err)
		}
	}
	return n, nil
}

// run builds the working tables, then writes the files, in that order:
// each step reads what the earlier ones built.
func (g *gen) run(ctx context.Context) error {
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"build macros", g.macros},
		{"build customers", g.buildCustomers},
		{"build orders", g.buildOrderKeys},
		{"build surveys", g.buildSurveyKeys},
		{"build tickets", g.buildTicketKeys},
		{"build events", g.buildEventKeys},
		{"write customers", g.writeCustomers},
		{"write acquisition_spend", g.writeAcquisitionSpend},
		{"write orders", g.writeOrders},
		{"write surveys", g.writeSurveys},
		{"write tickets", g.writeTickets},
		{"write events", g.writeEvents},
		{"write contracts", g.writeContracts},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("demo: %s: %w", s.name, err)
		}
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("demo: %s: %w", s.name, err)
		}
	}
	return nil
}

type gen struct {
	conn       *sql.Conn
	threads    int
	dir        string
	n          int
	seed       int64
	start, end time.Time
	paths      map[string]string
	repl       *strings.Replacer
}

// secondsPerYear converts purchase rates per year to rates per second.
const secondsPerYear = 31557600.0

func newGen(conn *sql.Conn, dir string, n int, seed int64, start, end time.Time, threads int) *gen {
	g := &gen{conn: conn, dir: dir, n: n, seed: seed, start: start, end: end, paths: map[string]string{}, threads: threads}
	idWidth := max(7, len(strconv.Itoa(n)))
	months := g.months()
	// Email campaign slots: two per month, a newsletter and a Black Friday
	// blast that only November has; then one social post stream per month.
	// Their send times are computed in SQL.
	var names []string
	for _, m := range months {
		bf := "''"
		if m.month == time.November {
			bf = quote("BF-" + m.label)
		}
		names = append(names, quote("NL-"+m.label), bf)
	}
	for _, m := range months {
		names = append(names, quote("SO-"+m.label))
	}
	first := time.Unix(months[0].lo, 0).UTC()
	g.repl = strings.NewReplacer(
		"{SEED}", strconv.FormatInt(seed, 10),
		"{START}", strconv.FormatInt(start.Unix(), 10),
		"{END}", strconv.FormatInt(end.Unix(), 10),
		"{START_MONTH}", quote(time.Unix(months[0].lo, 0).UTC().Format("2006-01-02")),
		"{END_DATE}", quote(end.Format("2006-01-02")),
		"{N}", strconv.Itoa(n),
		"{W}", strconv.Itoa(idWidth),
		"{NM}", strconv.Itoa(len(months)),
		"{Y0}", strconv.Itoa(first.Year()),
		"{M0}", strconv.Itoa(int(first.Month())-1),
		"{NAMES}", "["+strings.Join(names, ", ")+"]",
	)
	return g
}

// quote makes a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (g *gen) exec(ctx context.Context, q string) error {
	_, err := g.conn.ExecContext(ctx, g.repl.Replace(q))
	return err
}

// serial runs fn with DuckDB on one thread: inserts and writes then
// append rows strictly in order, so tables get exactly full row groups and
// files get row groups cut at fixed row counts.
func (g *gen) serial(ctx context.Context, fn func() error) error {
	if err := g.exec(ctx, "SET threads = 1"); err != nil {
		return err
	}
	err := fn()
	if err2 := g.exec(ctx, fmt.Sprintf("SET threads = %d", g.threads)); err == nil {
		err = err2
	}
	return err
}

// keyTable creates table name from query, computed on all threads, then
// copied on one thread so that its row groups are exactly full (see the
// package comment). Key tables are kept narrow: the copy is the price.
func (g *gen) keyTable(ctx context.Context, name, query string) error {
	if err := g.exec(ctx, "CREATE TABLE "+name+"_raw AS "+query); err != nil {
		return err
	}
	err := g.serial(ctx, func() error {
		return g.exec(ctx, "CREATE TABLE "+name+" AS SELECT * FROM "+name+"_raw")
	})
	if err != nil {
		return err
	}
	return g.exec(ctx, "DROP TABLE "+name+"_raw")
}

// copyOut writes a query to <dir>/<kind>.parquet. The query must produce
// its rows in id order without an ORDER BY, and either be a projection of
// a key table (no filter, no unnest: every batch stays one full row group)
// or run under serial (see the package comment). Snappy, DuckDB's default:
// zstd would make the files a quarter smaller but slower to write and to
// import.
func (g *gen) copyOut(ctx context.Context, kind, query string) error {
	path := filepath.Join(g.dir, kind+".parquet")
	q := "COPY (" + query + ") TO " + quote(path) + " (FORMAT parquet, COMPRESSION snappy)"
	if err := g.exec(ctx, q); err != nil {
		return err
	}
	g.paths[kind] = path
	return nil
}

type month struct {
	lo, hi int64 // epoch seconds, [lo, hi)
	label  string
	month  time.Month
}

// months are the calendar months overlapping [start, end), the first one
// starting before start when start is not a month's first day.
func (g *gen) months() []month {
	var out []month
	for m := time.Date(g.start.Year(), g.start.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(g.end); m = m.AddDate(0, 1, 0) {
		out = append(out, month{m.Unix(), m.AddDate(0, 1, 0).Unix(), m.Format("2006-01"), m.Month()})
	}
	return out
}

// signupDays spreads the customers over the days of [start, end): each day
// gets its share of a density that grows ~2.5x over the three years, with
// a holiday and new-year bump, quieter weekends and some day-to-day noise
// (drawn from the seed). Customers are numbered in signup order, so a
// referral can point at any smaller number. Rows: (first customer number,
// count, day start, day end) as epoch seconds, days without signups left out.
func (g *gen) signupDays() string {
	season := [13]float64{0, 1.15, 0.95, 1.0, 1.0, 0.95, 0.9, 0.9, 0.95, 1.0, 1.05, 1.25, 1.3}
	span := g.end.Sub(g.start).Seconds()
	var lo, hi []int64
	for d := g.start; d.Before(g.end); d = d.Add(24 * time.Hour) {
		lo = append(lo, d.Unix())
		hi = append(hi, min(d.Add(24*time.Hour).Unix(), g.end.Unix()))
	}
	cum := make([]float64, len(lo)+1)
	for k, l := range lo {
		t := time.Unix(l, 0).UTC()
		mid := (float64(l+hi[k])/2 - float64(g.start.Unix())) / span
		w := math.Exp(math.Log(2.5)*mid) * season[t.Month()] * float64(hi[k]-l) / 86400
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.8
		}
		// lognormal noise, sigma 0.15, Box–Muller from two hashed uniforms
		u1 := (float64(splitmix(uint64(g.seed)^uint64(k)*0x9e3779b97f4a7c15)>>11) + 0.5) / (1 << 53)
		u2 := float64(splitmix(uint64(g.seed)^uint64(k)*0xc2b2ae3d27d4eb4f^0x5bd1e995)>>11) / (1 << 53)
		w *= math.Exp(0.15 * math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2))
		cum[k+1] = cum[k] + w
	}
	total := cum[len(lo)]
	var rows []string
	for k := range lo {
		first := 1 + int64(math.Round(float64(g.n)*cum[k]/total))
		next := 1 + int64(math.Round(float64(g.n)*cum[k+1]/total))
		if next > first {
			rows = append(rows, fmt.Sprintf("(%d, %d, %d, %d)", first, next-first, lo[k], hi[k]))
		}
	}
	return strings.Join(rows, ", ")
}

// splitmix is the SplitMix64 finalizer: a cheap, well-mixed hash.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// macros defines the deterministic random draws.
//
// u(salt, a, b) is a uniform in [0, 1) for entity a (customer number,
// month, ...) and draw b (0 <= b < 2^32: order sequence, epoch second, ...).
// (a, b) is packed into one 64-bit key, XORed with a constant hash of salt
// and seed, and put through hash() of one integer (a Murmur finalizer, a
// well-mixed bijection); its top 53 bits become the uniform. One integer
// hash per draw is several times cheaper than hashing the four values, and
// hundreds of millions of draws are made for a million customers.
func (g *gen) macros(ctx context.Context) error {
	for _, q := range []string{
		`CREATE MACRO u(p_salt, p_a, p_b) AS
			(hash(xor(hash(p_salt, {SEED}::BIGINT), (CAST(p_a AS UBIGINT) << 32) + CAST(p_b AS UBIGINT))) >> 11)::DOUBLE
			/ 9007199254740992.0`,
		// Box–Muller from two independent uniforms; 1-u is in (0, 1].
		`CREATE MACRO nrm(p_salt, p_a, p_b) AS
			sqrt(-2.0 * ln(1.0 - u(p_salt || '.r', p_a, p_b))) * cos(2.0 * pi() * u(p_salt || '.t', p_a, p_b))`,
		// Standard exponential by inverse CDF.
		`CREATE MACRO expo(p_salt, p_a, p_b) AS -ln(1.0 - u(p_salt, p_a, p_b))`,
		// Gamma(shape k, scale theta): Wilson–Hilferty approximation of
		// Gamma(k+1), boosted down to Gamma(k) by U^(1/k), which keeps it
		// good for the small shapes that make purchase rates heavy tailed.
		`CREATE MACRO gam(p_salt, p_a, p_b, p_k, p_theta) AS
			p_theta * (p_k + 1.0)
			* pow(greatest(0.0, 1.0 - 1.0 / (9.0 * (p_k + 1.0)) + nrm(p_salt, p_a, p_b) / (3.0 * sqrt(p_k + 1.0))), 3)
			* pow(u(p_salt || '.b', p_a, p_b), 1.0 / p_k)`,
		// Poisson(m), normal approximation with randomised rounding: exact
		// enough next to the gamma heterogeneity of the rates, and O(1).
		`CREATE MACRO pois(p_salt, p_a, p_b, p_m) AS
			greatest(0, floor(p_m + sqrt(p_m) * nrm(p_salt, p_a, p_b) + u(p_salt || '.u', p_a, p_b)))::BIGINT`,
		// epoch second of the first day of month m (0 = the first month)
		`CREATE MACRO mstart(p_m) AS
			epoch(make_date({Y0} + ({M0} + p_m) // 12, ({M0} + p_m) % 12 + 1, 1))::BIGINT`,
		`CREATE MACRO ts(p_sec) AS make_timestamp(CAST(p_sec AS BIGINT) * 1000000)`,
		// Customer traits that orders need again: recomputing them from the
		// customer number is cheaper than carrying them through the key
		// tables or joining millions of rows.
		`CREATE MACRO c_b2b(p_i) AS u('segment', p_i, 0) < 0.15`,
		// latent satisfaction: drives survey answers, returns, churn, renewals
		`CREATE MACRO c_sat(p_i) AS nrm('sat', p_i, 0)`,
		`CREATE MACRO c_region(p_i) AS CASE WHEN u('region', p_i, 0) < 0.22 THEN 'north'
			WHEN u('region', p_i, 0) < 0.42 THEN 'south' WHEN u('region', p_i, 0) < 0.60 THEN 'east'
			WHEN u('region', p_i, 0) < 0.85 THEN 'west' ELSE 'central' END`,
		// late delivery is a regional problem: central and west are worse
		`CREATE MACRO c_plate(p_i) AS CASE WHEN u('region', p_i, 0) >= 0.85 THEN 0.15
			WHEN u('region', p_i, 0) >= 0.60 THEN 0.09 ELSE 0.06 END`,
		// price per item: lognormal per customer, B2B dearer
		// Spend follows the Gamma-Gamma story (Fader & Hardie), so the
		// CLV model fits the demo data the way it fits real data: each
		// customer's order values are Gamma(6, scale 1/ν) with
		// ν ~ Gamma(4, rate γ); the mean order is 6γ/3, about 90 (B2C,
		// γ = 45) and 500 (B2B, γ = 250). c_price is the scale 1/ν.
		`CREATE MACRO c_price(p_i) AS 1.0 / gam('nu', p_i, 0, 4.0, 1.0 / CASE WHEN c_b2b(p_i) THEN 250.0 ELSE 45.0 END)`,
		// Order k of customer i at epoch second t: late (more in the
		// Nov/Dec rush), status (returns follow late delivery and
		// dissatisfaction), and the promised delivery: 20:00 on day 2..5
		// (B2C) or day 7 (B2B) after the order day.
		`CREATE MACRO o_late(p_i, p_k, p_t) AS
			u('late', p_i, p_k) < c_plate(p_i) * CASE WHEN month(ts(p_t)) IN (11, 12) THEN 1.7 ELSE 1.0 END`,
		`CREATE MACRO o_status(p_i, p_k, p_late, p_sat) AS CASE WHEN u('status', p_i, p_k) < 0.03 THEN 'cancelled'
			WHEN u('status', p_i, p_k) < 0.065 + 0.12 * p_late::INTEGER + CASE WHEN p_sat < -1.0 THEN 0.03 ELSE 0.0 END
			THEN 'returned' ELSE 'completed' END`,
		`CREATE MACRO o_promise(p_i, p_k, p_t, p_b2b) AS p_t - p_t % 86400 + 72000
			+ 86400 * CASE WHEN p_b2b THEN 7 ELSE 2 + floor(u('pdays', p_i, p_k) * 4)::BIGINT END`,
		`CREATE MACRO cid(p_i) AS 'C' || lpad(CAST(p_i AS VARCHAR), {W}, '0')`,
		// Relative order intensity by calendar month: a Nov/Dec peak and a
		// quiet Jan/Feb. A CASE, not a list constant: it runs in a lambda.
		`CREATE MACRO season(p_month) AS
			CASE WHEN p_month = 12 THEN 1.6 WHEN p_month = 11 THEN 1.45 WHEN p_month <= 2 THEN 0.78 ELSE 0.9 END`,
	} {
		if err := g.exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// buildCustomers builds the working table cust, in customer-number order: the
// public columns plus each customer's latent behaviour (purchase rate,
// dropout, basket, satisfaction, engagement, contract terms) that the other
// datasets draw from.
func (g *gen) buildCustomers(ctx context.Context) error {
	if err := g.buildSignupBase(ctx); err != nil {
		return err
	}
	if err := g.exec(ctx, custSQL); err != nil {
		return err
	}
	return g.exec(ctx, `DROP TABLE base; DROP TABLE days`)
}

// buildSignupBase builds the table base: one row per customer, in
// customer-number order, with its signup day, appended on one thread so
// that its row groups are exactly full. custSQL's heavy projection then
// scans it on all threads, one full row group per batch, so cust's row
// groups are exactly full as well and the customers file can be written
// from it directly.
func (g *gen) buildSignupBase(ctx context.Context) error {
	return g.serial(ctx, func() error {
		for _, q := range []string{
			`CREATE TABLE days (first_idx BIGINT, n BIGINT, lo BIGINT, hi BIGINT)`,
			`INSERT INTO days VALUES ` + g.signupDays(),
			`CREATE TABLE base AS SELECT unnest(range(first_idx, first_idx + n)) AS i, first_idx, n, lo, hi FROM days`,
		} {
			if err := g.exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}

// custSQL builds cust from base: signup time, segment, region, channel,
// age and referrer, and the latent behaviour the other datasets draw from
// (purchase rate, dropout, contract terms, engagement). It is a constant so
// that buildCustomers reads at a glance; {…} are gen.repl's placeholders.
const custSQL = `CREATE TABLE cust AS
	WITH s AS (
		-- jittered within the day: (i - first + u) / n rises with i
		SELECT i, lo + floor((i - first_idx + u('signup', i, 0)) / n * (hi - lo))::BIGINT AS signup_sec FROM base
	), a AS (
		SELECT i, signup_sec,
			c_b2b(i) AS b2b,
			c_sat(i) AS sat,
			c_region(i) AS region,
			u('channel', i, 0) AS uc
		FROM s
	), c AS (
		SELECT *, (signup_sec - {START}) / ({END} - {START})::DOUBLE AS tf FROM a
	), d AS (
		SELECT *,
			-- social grows and search shrinks over the three years
			CASE WHEN uc < 0.34 - 0.08 * tf THEN 'search'
				WHEN uc < 0.48 + 0.04 * tf THEN 'social'
				WHEN uc < 0.58 + 0.04 * tf AND i > 1 THEN 'referral'
				WHEN uc < 0.68 + 0.04 * tf THEN 'email'
				WHEN uc < 0.78 + 0.04 * tf THEN 'affiliate'
				ELSE 'organic' END AS channel
		FROM c
	), e AS (
		SELECT *,
			CASE WHEN b2b THEN 1.6 ELSE 0.8 END AS lam_shape,
			CASE WHEN b2b THEN 44.0 ELSE 34.0 END
				* CASE channel WHEN 'referral' THEN 1.2 WHEN 'organic' THEN 1.1 WHEN 'social' THEN 0.85
					WHEN 'affiliate' THEN 0.8 ELSE 1.0 END AS lam_mean,
			-- dropout probability after each purchase opportunity: most
			-- customers are loyal, some leave fast; unhappy ones sooner
			least(0.9, (0.004 + 0.20 * pow(u('drop', i, 0), 2)) * exp(-0.35 * sat)
				* CASE channel WHEN 'referral' THEN 0.7 WHEN 'affiliate' THEN 1.3 WHEN 'social' THEN 1.15 ELSE 1.0 END) AS p_drop,
			-- B2B contracts: 12 or 24 months, renewed with a probability
			-- that rises with satisfaction; renewals before churn is geometric
			CASE WHEN u('term', i, 0) < 0.75 THEN 12 ELSE 24 END AS term,
			least(10, floor(ln(1.0 - u('renew', i, 0)) / ln(least(0.95, greatest(0.3, 0.72 + 0.08 * sat)))))::INTEGER AS renewals,
			CAST(ts(signup_sec) AS DATE) + floor(u('cstart', i, 0) * 14)::INTEGER AS contract_start
		FROM d
	), f AS (
		SELECT *,
			-- a B2B customer stops ordering when its last contract ends
			CASE WHEN b2b THEN least({END}, epoch(contract_start + to_months(term * (renewals + 1)))::BIGINT)
				ELSE {END} END AS stop_sec,
			-- many buy in the signup session, the others within days
			signup_sec + CASE WHEN u('fsame', i, 0) < 0.4 THEN floor(u('fdelay', i, 0) * 7200)
				ELSE floor(expo('fdelay', i, 0) * 6 * 86400) END::BIGINT AS first_sec
		FROM e
	)
	SELECT i, cid(i) AS customer_id, signup_sec, CAST(ts(signup_sec) AS DATE) AS signup_date,
		date_diff('month', DATE {START_MONTH}, CAST(ts(signup_sec) AS DATE)) AS signup_month,
		region, CASE WHEN b2b THEN 'b2b' ELSE 'b2c' END AS segment, b2b, channel,
		CASE WHEN u('agenull', i, 0) < CASE WHEN b2b THEN 0.55 ELSE 0.07 END THEN NULL
			WHEN b2b THEN least(70, greatest(24, round(44 + 9 * nrm('age', i, 0))))
			ELSE least(85, greatest(18, round(38 + 13 * nrm('age', i, 0)))) END::INTEGER AS age,
		-- referrers are earlier customers, biased towards recent ones
		CASE WHEN channel = 'referral' THEN cid(1 + floor(sqrt(u('ref', i, 0)) * (i - 1))::BIGINT) END AS referred_by,
		-- some never buy, more of those from paid social and affiliates
		u('never', i, 0) >= CASE WHEN b2b THEN 0.04 ELSE 0.10 END
			+ CASE channel WHEN 'affiliate' THEN 0.06 WHEN 'social' THEN 0.04 ELSE 0.0 END
			AND first_sec < stop_sec AS buyer,
		first_sec, stop_sec,
		-- purchase opportunities per year while alive: gamma across customers
		least(150.0, greatest(0.2, gam('lam', i, 0, lam_shape, lam_mean / lam_shape))) AS lam_year,
		-- opportunities survived before dropping out: geometric
		least(100000, floor(ln(1.0 - u('dropk', i, 0)) / ln(1.0 - p_drop)))::BIGINT AS survive,
		u('optin', i, 0) < CASE WHEN channel = 'email' THEN 0.8 ELSE 0.22 END AS email_opt,
		u('follow', i, 0) < CASE WHEN channel = 'social' THEN 0.6 ELSE 0.15 END AS social_follow,
		least(0.95, 0.2 * exp(0.7 * nrm('open', i, 0) - 0.245)) AS p_open,
		least(0.9, 0.15 * exp(0.5 * nrm('click', i, 0) - 0.125)) AS p_click,
		term, renewals, contract_start
	FROM f`

func (g *gen) writeCustomers(ctx context.Context) error {
	return g.copyOut(ctx, "customers", `
		SELECT customer_id, signup_date, region, segment, channel AS acquisition_channel, age, referred_by
		FROM cust`)
}

// writeAcquisitionSpend writes monthly spend per paid channel: the month's
// acquired customers of that channel times a channel CAC that rises over
// time, with noise. Organic acquisition costs nothing and has no rows;
// referral spend is the referral reward.
// Small, and grouped and sorted: written on one thread.
func (g *gen) writeAcquisitionSpend(ctx context.Context) error {
	return g.serial(ctx, func() error {
		return g.copyOut(ctx, "acquisition_spend", `
		WITH months AS (
			SELECT m, CAST(ts(mstart(m)) AS DATE) AS month FROM range(0, {NM}) r(m)
		), ch(code, channel, cac) AS (
			VALUES (1, 'search', 55.0), (2, 'social', 32.0), (3, 'email', 14.0),
				(4, 'affiliate', 26.0), (5, 'referral', 18.0)
		), cnt AS (
			SELECT signup_month AS m, channel, count(*) AS n FROM cust GROUP BY ALL
		)
		SELECT months.month, ch.channel,
			round(coalesce(cnt.n, 0) * ch.cac * (1.0 + 0.25 * months.m / 36.0) * exp(0.12 * nrm('spend', months.m, ch.code)), 2) AS spend
		FROM months CROSS JOIN ch
		LEFT JOIN cnt ON cnt.m = months.m AND cnt.channel = ch.channel
		ORDER BY months.month, ch.channel`)
	})
}

// buildOrderKeys follows a buy-till-you-die process (BG/NBD flavour). Each
// buyer orders first soon after signup. Repeat purchase opportunities then
// arrive as a Poisson process at the customer's gamma-distributed rate λ,
// and the customer drops out for good after a geometric number d of them
// (or, for B2B, when the last contract ends). The d-th arrival is
// Gamma(d, 1/λ) after the first order: when that is before the end, the
// opportunities are d-1 uniform times before it plus itself; otherwise a
// Poisson count (below d) of uniform times up to the end. Sorting those few
// uniforms per customer gives the arrival order without a running sum over
// ten million rows. Each opportunity becomes an order with its month's
// seasonal weight (thinning), which gives the Nov/Dec peak.
//
// The key table okeys holds (customer number i, order sequence k, epoch
// second t); everything else about an order is derived from those.
func (g *gen) buildOrderKeys(ctx context.Context) error {
	return g.keyTable(ctx, "okeys", `
	WITH b AS (
		SELECT i, first_sec, survive AS d,
			lam_year / `+strconv.FormatFloat(secondsPerYear, 'f', 1, 64)+` AS lam,
			(stop_sec - first_sec)::DOUBLE AS span
		FROM cust WHERE buyer
	), c AS (
		SELECT *, CASE WHEN d > 0 THEN gam('tau', i, 0, d::DOUBLE, 1.0 / lam) ELSE 0.0 END AS tau FROM b
	), e AS (
		SELECT *, d > 0 AND tau < span AS dropped,
			CASE WHEN d > 0 AND tau < span THEN d - 1 ELSE least(d - 1, pois('opp', i, 0, lam * span)) END AS nu,
			least(tau, span) AS win
		FROM c
	), l AS (
		SELECT i, list_concat([first_sec], list_filter(
			list_concat(
				list_sort(list_transform(range(greatest(nu, 0)), k -> first_sec + floor(u('t', i, k) * win)::BIGINT)),
				CASE WHEN dropped THEN [first_sec + floor(tau)::BIGINT] ELSE [] END),
			x -> u('season', i, x) * 1.6 < season(month(ts(x))))) AS times
		FROM e
	)
	SELECT i, unnest(range(1, len(times) + 1)) AS k, unnest(times) AS t FROM l`)
}

// orderRows derives every column of an order from the (i, k, t) rows of
// src. Orders, surveys and tickets all use it, so they agree.
func orderRows(src string) string {
	return `
	WITH o AS (
		SELECT i, k, t, c_b2b(i) AS b2b, c_sat(i) AS sat, c_price(i) AS unit_price,
			o_late(i, k, t) AS is_late, month(ts(t)) AS mon
		FROM (` + src + `)
	), p AS (
		SELECT *,
			CASE WHEN b2b THEN 1 + floor(expo('items', i, k) * 8.0)
				ELSE 1 + floor(expo('items', i, k) * 0.6) END::INTEGER AS items,
			o_status(i, k, is_late, sat) AS status,
			o_promise(i, k, t, b2b) AS promise
		FROM o
	), q AS (
		SELECT *,
			round(greatest(0.5, gam('amount', i, k, 6.0, unit_price)
				* CASE WHEN mon = 12 THEN 1.08 ELSE 1.0 END), 2) AS amount,
			CASE WHEN is_late THEN promise + 3600 + floor(expo('lateh', i, k) * 40 * 3600)::BIGINT
				ELSE t + 57600 + floor(u('transit', i, k) * (promise - t - 57600))::BIGINT END AS delivery
		FROM p
	)
	SELECT *,
		'O' || lpad(CAST(i AS VARCHAR), {W}, '0') || '-' || lpad(CAST(k AS VARCHAR), 4, '0') AS order_id,
		CASE WHEN u('pnull', i, k) < 0.01 THEN NULL ELSE promise END AS promised_sec,
		-- cancelled orders never ship; late ones may still be in transit at the end
		CASE WHEN status = 'cancelled' OR delivery >= {END} OR u('dnull', i, k) < 0.01 THEN NULL
			ELSE delivery END AS delivered_sec
	FROM q`
}

func (g *gen) writeOrders(ctx context.Context) error {
	return g.copyOut(ctx, "orders", `
		SELECT order_id, cid(i) AS customer_id, ts(t) AS order_date, amount,
			-- cost of goods and service: 55-75% of the amount, sometimes unknown
			CASE WHEN u('costnull', i, k) < 0.015 THEN NULL
				ELSE round(amount * (0.55 + 0.20 * u('cost', i, k)), 2) END AS cost,
			status, items, ts(promised_sec) AS promised_date, ts(delivered_sec) AS delivered_date
		FROM (`+orderRows("SELECT * FROM okeys")+`)`)
}

// surveyRows adds the response time: a few days after delivery.
func surveyRows(src string) string {
	return `SELECT *, coalesce(delivered_sec, t) + 3600 + floor(expo('svyd', i, k) * 2 * 86400)::BIGINT AS s_sec
		FROM (` + orderRows(src) + `)`
}

// buildSurveyKeys: some orders that were not cancelled get a survey
// response, B2B customers answer more often; responses after the end of
// the data are not in it yet.
func (g *gen) buildSurveyKeys(ctx context.Context) error {
	return g.keyTable(ctx, "skeys", `
		SELECT i, k, t FROM (`+surveyRows(`SELECT * FROM okeys WHERE u('svy', i, k) < 0.20`)+`)
		WHERE status <> 'cancelled' AND (u('svy', i, k) < 0.12 OR b2b) AND s_sec < {END}`)
}

// writeSurveys: one latent score per response (the customer's
// satisfaction plus noise, minus late delivery and returns) drives csat,
// nps and the attribute scores, so they correlate as real answers do.
func (g *gen) writeSurveys(ctx context.Context) error {
	return g.copyOut(ctx, "surveys", `
	WITH r AS (
		SELECT *, 0.8 * sat + 0.6 * nrm('svz', i, k) - 1.0 * is_late::INTEGER
			- 1.3 * (status = 'returned')::INTEGER AS z
		FROM (`+surveyRows("SELECT * FROM skeys")+`)
	)
	SELECT 'R' || substr(order_id, 2) AS response_id, cid(i) AS customer_id, ts(s_sec) AS survey_date,
		CASE WHEN u('n.csat', i, k) < 0.02 THEN NULL
			ELSE least(5, greatest(1, round(4.0 + z))) END::INTEGER AS csat,
		CASE WHEN u('n.nps', i, k) < 0.06 THEN NULL
			ELSE least(10, greatest(0, round(8.2 + 2.0 * z + 0.8 * nrm('nps', i, k)))) END::INTEGER AS nps,
		CASE WHEN u('n.q', i, k) < 0.05 THEN NULL
			ELSE least(5, greatest(1, round(3.9 + 0.9 * z + 0.7 * nrm('q', i, k)
				- 0.8 * (status = 'returned')::INTEGER))) END::INTEGER AS score_product_quality,
		CASE WHEN u('n.d', i, k) < 0.08 THEN NULL
			ELSE least(5, greatest(1, round(4.1 + 0.5 * z + 0.6 * nrm('d', i, k)
				- 1.6 * is_late::INTEGER))) END::INTEGER AS score_delivery,
		-- many respondents never contacted support
		CASE WHEN u('n.s', i, k) < 0.25 THEN NULL
			ELSE least(5, greatest(1, round(3.7 + 0.8 * z + 0.8 * nrm('s', i, k)))) END::INTEGER AS score_support
	FROM r`)
}

// ticketRows adds when the ticket was opened and its category: late and
// returned orders raise most tickets, and those are mostly complaints.
func ticketRows(src string) string {
	return `SELECT *,
			CASE WHEN is_late THEN coalesce(promised_sec, t) + floor(expo('open', i, k) * 12 * 3600)::BIGINT
				WHEN status = 'returned' THEN coalesce(delivered_sec, t) + floor(expo('open', i, k) * 2 * 86400)::BIGINT
				ELSE t + floor(expo('open', i, k) * 3 * 86400)::BIGINT END AS opened_sec,
			CASE WHEN is_late OR status = 'returned' THEN
					CASE WHEN u('cat', i, k) < 0.6 THEN 'complaint' WHEN is_late THEN 'delivery' ELSE 'return' END
				WHEN u('cat', i, k) < 0.40 THEN 'question' WHEN u('cat', i, k) < 0.62 THEN 'billing'
				WHEN u('cat', i, k) < 0.82 THEN 'technical' WHEN u('cat', i, k) < 0.92 THEN 'delivery'
				ELSE 'complaint' END AS category
		FROM (` + orderRows(src) + `)`
}

// buildTicketKeys: a few orders raise a ticket, far more often when late or
// returned; the least satisfied customers raise more. The first filter is
// a cheap superset (a return is likely when the status draw falls in the
// widest returned band); the exact rule needs the full order.
func (g *gen) buildTicketKeys(ctx context.Context) error {
	return g.keyTable(ctx, "tkeys", `
		SELECT i, k, t FROM (`+ticketRows(`
			SELECT i, k, t FROM okeys
			WHERE u('tkt', i, k) < 0.055 + 0.30 * o_late(i, k, t)::INTEGER
				+ 0.45 * (u('status', i, k) >= 0.03 AND u('status', i, k) < 0.215)::INTEGER`)+`)
		WHERE u('tkt', i, k) < 0.025 + 0.30 * is_late::INTEGER + 0.45 * (status = 'returned')::INTEGER
			+ CASE WHEN sat < -1.2 THEN 0.03 ELSE 0.0 END
			AND opened_sec < {END}`)
}

// writeTickets: response and resolution times are lognormal hours (B2B is
// answered faster, complaints take longer to resolve); tickets still open
// at the end of the data have no response or resolution yet.
func (g *gen) writeTickets(ctx context.Context) error {
	return g.copyOut(ctx, "tickets", `
	WITH e AS (
		SELECT *, opened_sec + 300 + floor(3600 * CASE WHEN b2b THEN 1.5 ELSE 4.0 END
			* exp(1.0 * nrm('resp', i, k)))::BIGINT AS resp_sec
		FROM (`+ticketRows("SELECT * FROM tkeys")+`)
	), f AS (
		SELECT *,
			resp_sec + 600 + floor(3600 * CASE WHEN category = 'complaint' THEN 30.0 ELSE 16.0 END
				* exp(1.1 * nrm('res', i, k)))::BIGINT AS res_sec,
			resp_sec >= {END} OR u('n.resp', i, k) < 0.015 AS no_resp
		FROM e
	)
	SELECT 'T' || substr(order_id, 2) AS ticket_id, cid(i) AS customer_id, ts(opened_sec) AS opened_at,
		CASE WHEN no_resp THEN NULL ELSE ts(resp_sec) END AS first_response_at,
		CASE WHEN no_resp OR res_sec >= {END}
			OR u('n.res', i, k) < CASE WHEN category = 'complaint' THEN 0.08 ELSE 0.04 END THEN NULL
			ELSE ts(res_sec) END AS resolved_at,
		category
	FROM f`)
}

// buildEventKeys: a monthly newsletter and a Black Friday blast go to every
// email subscriber, each subscriber with their own open and click
// propensities (~20% open, ~3% click of sent); social followers see
// impressions (a Poisson number over their tenure, ~0.6 a month), a few of
// which get a like, comment or share. A customer's events are packed as
// sec<<16 | slot<<4 | type into one list, sorted and unnested, so they come
// out ordered by customer and time without a global sort. The key table
// ekeys holds (customer number i, packed event x).
func (g *gen) buildEventKeys(ctx context.Context) error {
	for _, q := range []string{
		// email slot c = month*2 + kind: 0 the newsletter (day 3..8,
		// 09:00), 1 the Black Friday blast (November 26th, 07:00)
		`CREATE MACRO camp_ok(p_c) AS p_c % 2 = 0 OR ({M0} + p_c // 2) % 12 = 10`,
		`CREATE MACRO camp_send(p_c) AS mstart(p_c // 2) + CASE WHEN p_c % 2 = 0
			THEN (2 + floor(u('cday', p_c // 2, 0) * 6))::BIGINT * 86400 + 32400
			ELSE 25 * 86400 + 25200 END`,
		`CREATE MACRO ev_sent(p_i, p_c) AS camp_send(p_c) + floor(u('batch', p_i, p_c) * 5400)::BIGINT`,
		`CREATE MACRO ev_open(p_i, p_c) AS ev_sent(p_i, p_c) + 60 + floor(expo('openat', p_i, p_c) * 5 * 3600)::BIGINT`,
		`CREATE MACRO ev_click(p_i, p_c) AS ev_open(p_i, p_c) + 5 + floor(expo('clickat', p_i, p_c) * 600)::BIGINT`,
		`CREATE MACRO ev_imp(p_i, p_j, p_from) AS p_from + 1 + floor(u('impat', p_i, p_j) * ({END} - p_from - 1))::BIGINT`,
		`CREATE MACRO ev_pack(p_sec, p_c, p_code) AS CAST(p_sec AS BIGINT) * 65536 + p_c * 16 + p_code`,
	} {
		if err := g.exec(ctx, q); err != nil {
			return err
		}
	}
	// Lists of scalars only, and no list constants inside lambdas: DuckDB
	// evaluates lambdas a row's list at a time, so building a small list
	// per element or indexing a constant list costs several times more
	// than plain arithmetic.
	return g.keyTable(ctx, "ekeys", `
	WITH a AS (
		SELECT i, signup_sec, p_open, p_click,
			CASE WHEN email_opt THEN list_filter(range(signup_month * 2, {NM} * 2),
				c -> camp_ok(c) AND camp_send(c) > signup_sec) ELSE [] END AS sent,
			CASE WHEN social_follow THEN pois('nimp', i, 0, 0.6 * ({END} - signup_sec) / 2629746.0) ELSE 0 END AS nimp
		FROM cust WHERE email_opt OR social_follow
	), b AS (
		SELECT *,
			list_filter(sent, c -> u('open', i, c) < p_open) AS opened,
			list_filter(range(nimp), j -> u('react', i, j) < 0.060) AS reacted
		FROM a
	)
	SELECT i, unnest(list_sort(list_filter(flatten([
		list_transform(sent, c -> ev_pack(ev_sent(i, c), c, 0)),
		list_transform(opened, c -> ev_pack(ev_open(i, c), c, 1)),
		list_transform(list_filter(opened, c -> u('click', i, c) < p_click), c -> ev_pack(ev_click(i, c), c, 2)),
		list_transform(range(nimp), j -> ev_pack(ev_imp(i, j, signup_sec), 0, 3)),
		list_transform(reacted, j -> ev_pack(ev_imp(i, j, signup_sec) + 10 + floor(expo('reactat', i, j) * 1800)::BIGINT, 0,
			CASE WHEN u('react', i, j) < 0.045 THEN 4 WHEN u('react', i, j) < 0.054 THEN 5 ELSE 6 END))
		]), x -> x < {END}::BIGINT * 65536))) AS x
	FROM b`)
}

func (g *gen) writeEvents(ctx context.Context) error {
	return g.copyOut(ctx, "events", `
	SELECT cid(i) AS customer_id, ts(x >> 16) AS event_at,
		CASE WHEN x & 15 < 3 THEN 'email' ELSE 'social' END AS channel,
		['sent', 'open', 'click', 'impression', 'like', 'comment', 'share'][(x & 15) + 1] AS event_type,
		-- email: the slot's campaign; social: the month's post stream
		{NAMES}[CASE WHEN x & 15 < 3 THEN (x >> 4) & 4095
			ELSE {NM} * 2 + date_diff('month', DATE {START_MONTH}, CAST(ts(x >> 16) AS DATE)) END + 1] AS campaign_id
	FROM ekeys`)
}

// writeContracts: B2B customers sign a 12- or 24-month contract shortly
// after signup and renew it `renewals` times; the last one is not renewed,
// and the customer stops ordering when it ends. A contract still running
// at the end of the data has not been renewed yet. Small: written on one
// thread straight from cust.
func (g *gen) writeContracts(ctx context.Context) error {
	return g.serial(ctx, func() error {
		return g.copyOut(ctx, "contracts", `
		WITH k AS (
			SELECT customer_id, term, renewals, contract_start, unnest(range(0, renewals + 1)) AS j
			FROM cust WHERE b2b
		), d AS (
			SELECT *, CAST(contract_start + to_months(term * j) AS DATE) AS start_date,
				CAST(contract_start + to_months(term * (j + 1)) AS DATE) AS end_date
			FROM k
		)
		SELECT 'K' || substr(customer_id, 2) || '-' || lpad(CAST(j + 1 AS VARCHAR), 2, '0') AS contract_id,
			customer_id, start_date, end_date,
			j < renewals AND end_date <= DATE {END_DATE} AS renewed
		FROM d WHERE start_date < DATE {END_DATE}`)
	})
}
