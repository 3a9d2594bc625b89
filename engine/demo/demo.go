// Package demo generates a deterministic, realistic customer-analytics data
// set: one Parquet file per dataset kind of the data contract (DATA.md).
//
// Everything is generated inside an in-memory DuckDB with SQL, so a million
// customers (about ten million orders) take seconds rather than minutes.
//
// Determinism: DuckDB's random() depends on thread scheduling, so every
// pseudo-random number is a hash of (salt, seed, entity, draw) turned into a
// uniform in [0, 1); normal, gamma, Poisson, lognormal and exponential draws
// are derived from those uniforms. No statement relies on the order in
// which threads finish: each file is produced by one scan that is already
// in id order (customers are numbered in signup order, a customer's orders
// and events are built as a sorted list and unnested), and DuckDB keeps
// that insertion order when writing, so a global sort of ten million rows
// is never needed. The same Options give byte-identical files on every run.
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
	if opts.Customers == 0 {
		opts.Customers = DefaultCustomers
	}
	// Customer numbers are packed into ids of at least 7 digits and the
	// uniform draws need exact integer arithmetic: cap well below overflow.
	if opts.Customers < 0 || opts.Customers > 100_000_000 {
		return nil, fmt.Errorf("demo: customers must be in 1..100000000, got %d", opts.Customers)
	}
	if opts.End.IsZero() {
		opts.End = DefaultEnd
	}
	// Whole seconds in UTC: timestamps are generated as epoch seconds and
	// the data contract reads timestamps as UTC.
	end := opts.End.UTC().Truncate(time.Second)
	start := end.AddDate(-3, 0, 0)
	if start.Unix() < 0 {
		return nil, fmt.Errorf("demo: end %s too early: history must start after 1970", end.Format(time.RFC3339))
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
			return nil, fmt.Errorf("demo: configure duckdb (%s): %w", q, err)
		}
	}

	g := newGen(conn, dir, opts.Customers, opts.Seed, start, end)
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"macros", g.macros},
		{"customers", g.customers},
		{"acquisition_spend", g.acquisitionSpend},
		{"orders", g.orders},
		{"surveys", g.surveys},
		{"tickets", g.tickets},
		{"events", g.events},
		{"contracts", g.contracts},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("demo: %s: %w", s.name, err)
		}
		t0 := time.Now() // TEMPDEBUG
		if err := s.fn(ctx); err != nil {
			return nil, fmt.Errorf("demo: write %s: %w", s.name, err)
		}
		if os.Getenv("DEMO_TIME") != "" { // TEMPDEBUG
			fmt.Println(s.name, time.Since(t0)) // TEMPDEBUG
		} // TEMPDEBUG
	}
	return g.paths, nil
}

type gen struct {
	conn       *sql.Conn
	dir        string
	n          int
	seed       int64
	start, end time.Time
	paths      map[string]string
	repl       *strings.Replacer
}

// secondsPerYear converts purchase rates per year to rates per second.
const secondsPerYear = 31557600.0

// signupGridSize is the resolution of the signup-time inverse CDF.
const signupGridSize = 4096

func newGen(conn *sql.Conn, dir string, n int, seed int64, start, end time.Time) *gen {
	g := &gen{conn: conn, dir: dir, n: n, seed: seed, start: start, end: end, paths: map[string]string{}}
	idWidth := max(7, len(strconv.Itoa(n)))
	months := g.months()
	camps := g.campaigns(months)
	var ms, me, sends, precv, names []string
	for _, m := range months {
		ms = append(ms, strconv.FormatInt(m.lo, 10))
		me = append(me, strconv.FormatInt(m.hi, 10))
	}
	for _, c := range camps {
		sends = append(sends, strconv.FormatInt(c.send, 10))
		precv = append(precv, strconv.FormatFloat(c.pRecv, 'f', -1, 64))
		names = append(names, quote(c.id))
	}
	// Social posts are numbered after the email campaigns, one per month.
	for _, m := range months {
		names = append(names, quote("SO-"+m.label))
	}
	g.repl = strings.NewReplacer(
		"{SEED}", strconv.FormatInt(seed, 10),
		"{START}", strconv.FormatInt(start.Unix(), 10),
		"{END}", strconv.FormatInt(end.Unix(), 10),
		"{START_MONTH}", quote(time.Unix(months[0].lo, 0).UTC().Format("2006-01-02")),
		"{END_DATE}", quote(end.Format("2006-01-02")),
		"{N}", strconv.Itoa(n),
		"{W}", strconv.Itoa(idWidth),
		"{Q}", strconv.Itoa(signupGridSize),
		"{GRID}", g.signupGrid(),
		"{NM}", strconv.Itoa(len(months)),
		"{MS}", "["+strings.Join(ms, ", ")+"]",
		"{ME}", "["+strings.Join(me, ", ")+"]",
		"{NC}", strconv.Itoa(len(camps)),
		"{SENDS}", "["+strings.Join(sends, ", ")+"]",
		"{PRECV}", "["+strings.Join(precv, ", ")+"]",
		"{NAMES}", "["+strings.Join(names, ", ")+"]",
	)
	return g
}

// quote makes a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (g *gen) exec(ctx context.Context, q string) error {
	if f := os.Getenv("DEMO_SQL"); f != "" { // TEMPDEBUG
		fh, _ := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644) // TEMPDEBUG
		fmt.Fprintf(fh, "%s;\n", g.repl.Replace(q))                            // TEMPDEBUG
		fh.Close()                                                             // TEMPDEBUG
	} // TEMPDEBUG
	_, err := g.conn.ExecContext(ctx, g.repl.Replace(q))
	return err
}

// copyOut writes a query to <dir>/<kind>.parquet. The query must produce
// its rows in id order without an ORDER BY (see the package comment).
func (g *gen) copyOut(ctx context.Context, kind, query string) error {
	path := filepath.Join(g.dir, kind+".parquet")
	q := "COPY (" + query + ") TO " + quote(path) + " (FORMAT parquet, COMPRESSION zstd)"
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

type campaign struct {
	id    string
	send  int64
	pRecv float64
}

// campaigns are the email campaigns in send order: a monthly newsletter,
// a mid-month promotion and a Black Friday blast in November. Send days
// vary with the seed through the same kind of hash as the SQL draws.
func (g *gen) campaigns(months []month) []campaign {
	var out []campaign
	for i, m := range months {
		day := func(salt uint64, lo, span int64) int64 {
			return lo + int64(splitmix(uint64(g.seed)^salt^uint64(i)*0x9e3779b97f4a7c15)%uint64(span))
		}
		cs := []campaign{
			{"NL-" + m.label, m.lo + day(1, 2, 6)*86400 + 9*3600, 0.55},
			{"PR-" + m.label, m.lo + day(2, 13, 10)*86400 + 10*3600, 0.30},
		}
		if m.month == time.November {
			cs = append(cs, campaign{"BF-" + m.label, m.lo + 26*86400 + 7*3600, 0.80})
		}
		for _, c := range cs {
			if c.send >= g.start.Unix() && c.send < g.end.Unix() {
				out = append(out, c)
			}
		}
	}
	return out
}

// splitmix is the SplitMix64 finalizer: a cheap, well-mixed hash.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// signupGrid is the inverse CDF of signup time, as seconds after start at
// signupGridSize+1 evenly spaced quantiles. Signups grow ~2.5x over the
// three years, with a holiday and new-year bump. Customer i signs up at the
// quantile (i-1+u)/N: customers are numbered in signup order, so a referral
// can point at any smaller number, and the daily counts still vary.
func (g *gen) signupGrid() string {
	season := [13]float64{0, 1.15, 0.95, 1.0, 1.0, 0.95, 0.9, 0.9, 0.95, 1.0, 1.05, 1.25, 1.3}
	const slices = 8192
	span := g.end.Sub(g.start).Seconds()
	cdf := make([]float64, slices+1)
	for k := range slices {
		mid := (float64(k) + 0.5) / slices
		t := g.start.Add(time.Duration(mid * span * float64(time.Second)))
		cdf[k+1] = cdf[k] + math.Exp(math.Log(2.5)*mid)*season[t.Month()]
	}
	total := cdf[slices]
	out := make([]string, 0, signupGridSize+1)
	k := 0
	for j := 0; j <= signupGridSize; j++ {
		q := float64(j) / signupGridSize * total
		for k < slices-1 && cdf[k+1] < q {
			k++
		}
		frac := (q - cdf[k]) / (cdf[k+1] - cdf[k])
		out = append(out, strconv.FormatFloat((float64(k)+frac)/slices*span, 'f', 1, 64))
	}
	return "[" + strings.Join(out, ", ") + "]"
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
		`CREATE MACRO ts(p_sec) AS make_timestamp(CAST(p_sec AS BIGINT) * 1000000)`,
		`CREATE MACRO cid(p_i) AS 'C' || lpad(CAST(p_i AS VARCHAR), {W}, '0')`,
		// Traits that surveys and tickets need again: recomputing them from
		// the customer number is cheaper than a join of millions of rows.
		`CREATE MACRO b2b_of(p_i) AS u('segment', p_i, 0) < 0.15`,
		`CREATE MACRO sat_of(p_i) AS nrm('sat', p_i, 0)`,
		`CREATE MACRO num_of(p_id) AS CAST(substr(p_id, 2, {W}) AS BIGINT)`,
		// Relative order intensity by calendar month: a Nov/Dec peak.
		`CREATE MACRO season(p_month) AS
			[0.80, 0.75, 0.85, 0.85, 0.90, 0.85, 0.85, 0.90, 0.95, 1.00, 1.45, 1.60][p_month]`,
	} {
		if err := g.exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// customers builds the working table cust, in customer-number order: the
// public columns plus each customer's latent behaviour (purchase rate,
// dropout, basket, satisfaction, engagement, contract terms) that the other
// datasets draw from.
func (g *gen) customers(ctx context.Context) error {
	// range() is a single-threaded source; materialising the bare numbers
	// first lets the heavy projection below run on all threads.
	if err := g.exec(ctx, `CREATE TABLE base AS SELECT i FROM range(1, {N} + 1) r(i)`); err != nil {
		return err
	}
	q := `CREATE TABLE cust AS
	WITH s AS (
		SELECT i, ((i - 1) + u('signup', i, 0)) / {N} * {Q} AS pos FROM base
	), a AS (
		SELECT i,
			{START} + floor({GRID}[floor(pos)::INTEGER + 1]
				+ (pos - floor(pos)) * ({GRID}[floor(pos)::INTEGER + 2] - {GRID}[floor(pos)::INTEGER + 1]))::BIGINT AS signup_sec,
			b2b_of(i) AS b2b,
			sat_of(i) AS sat,
			u('region', i, 0) AS ur,
			u('channel', i, 0) AS uc
		FROM s
	), c AS (
		SELECT *,
			(signup_sec - {START}) / ({END} - {START})::DOUBLE AS tf,
			CASE WHEN ur < 0.22 THEN 'north' WHEN ur < 0.42 THEN 'south' WHEN ur < 0.60 THEN 'east'
				WHEN ur < 0.85 THEN 'west' ELSE 'central' END AS region
		FROM a
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
		sat,
		-- some never buy, more of those from paid social and affiliates
		u('never', i, 0) >= CASE WHEN b2b THEN 0.04 ELSE 0.10 END
			+ CASE channel WHEN 'affiliate' THEN 0.06 WHEN 'social' THEN 0.04 ELSE 0.0 END
			AND first_sec < stop_sec AS buyer,
		first_sec, stop_sec,
		-- purchase opportunities per year while alive: gamma across customers
		least(150.0, greatest(0.2, gam('lam', i, 0, lam_shape, lam_mean / lam_shape))) AS lam_year,
		-- opportunities survived before dropping out: geometric
		least(100000, floor(ln(1.0 - u('dropk', i, 0)) / ln(1.0 - p_drop)))::BIGINT AS survive,
		CASE WHEN b2b THEN 45.0 * exp(0.5 * nrm('price', i, 0)) ELSE 30.0 * exp(0.45 * nrm('price', i, 0)) END AS unit_price,
		CASE region WHEN 'central' THEN 0.15 WHEN 'west' THEN 0.09 ELSE 0.06 END AS p_late,
		u('optin', i, 0) < CASE WHEN channel = 'email' THEN 0.95 ELSE 0.5 END AS email_opt,
		u('follow', i, 0) < CASE WHEN channel = 'social' THEN 0.7 ELSE 0.2 END AS social_follow,
		least(0.95, 0.2 * exp(0.7 * nrm('open', i, 0) - 0.245)) AS p_open,
		least(0.9, 0.15 * exp(0.5 * nrm('click', i, 0) - 0.125)) AS p_click,
		term, renewals, contract_start
	FROM f`
	if err := g.exec(ctx, q); err != nil {
		return err
	}
	if os.Getenv("DEMO_DEBUG") != "" { // TEMPDEBUG
		if err := g.copyOut(ctx, "cust_debug", "SELECT * FROM cust"); err != nil { // TEMPDEBUG
			return err // TEMPDEBUG
		} // TEMPDEBUG
	} // TEMPDEBUG
	return g.copyOut(ctx, "customers", `
		SELECT customer_id, signup_date, region, segment, channel AS acquisition_channel, age, referred_by
		FROM cust`)
}

// acquisitionSpend writes monthly spend per paid channel: the month's
// acquired customers of that channel times a channel CAC that rises over
// time, with noise. Organic acquisition costs nothing and has no rows;
// referral spend is the referral reward.
func (g *gen) acquisitionSpend(ctx context.Context) error {
	return g.copyOut(ctx, "acquisition_spend", `
		WITH months AS (
			SELECT m, CAST(ts({MS}[m + 1]) AS DATE) AS month FROM range(0, {NM}) r(m)
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
}

// orders follows a buy-till-you-die process (BG/NBD flavour). Each buyer
// orders first soon after signup. Repeat purchase opportunities then arrive
// as a Poisson process at the customer's gamma-distributed rate λ, and the
// customer drops out for good after a geometric number d of them (or, for
// B2B, when the last contract ends). The d-th arrival is Gamma(d, 1/λ)
// after the first order: when that is before the end, the opportunities are
// d-1 uniform times before it plus itself; otherwise a Poisson count
// (below d) of uniform times up to the end. Sorting those few uniforms per
// customer gives the arrival order without a running sum over ten million
// rows. Each opportunity becomes an order with its month's seasonal weight
// (thinning), which gives the Nov/Dec peak.
func (g *gen) orders(ctx context.Context) error {
	q := `
	WITH b AS (
		SELECT i, customer_id, first_sec, b2b, sat, unit_price, p_late, survive AS d,
			lam_year / ` + strconv.FormatFloat(secondsPerYear, 'f', 1, 64) + ` AS lam,
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
		SELECT *, list_concat([first_sec], list_filter(
			list_concat(
				list_sort(list_transform(range(greatest(nu, 0)), k -> first_sec + floor(u('t', i, k) * win)::BIGINT)),
				CASE WHEN dropped THEN [first_sec + floor(tau)::BIGINT] ELSE [] END),
			x -> u('season', i, x) * 1.6 < season(month(ts(x))))) AS times
		FROM e
	), o AS (
		SELECT i, customer_id, b2b, sat, unit_price, p_late, unnest(times) AS t, unnest(range(1, len(times) + 1)) AS k
		FROM l
	), p AS (
		SELECT *,
			month(ts(t)) AS mon,
			CASE WHEN b2b THEN 1 + floor(expo('items', i, k) * 8.0)
				ELSE 1 + floor(expo('items', i, k) * 0.6) END::INTEGER AS items,
			u('late', i, k) < p_late * CASE WHEN month(ts(t)) IN (11, 12) THEN 1.7 ELSE 1.0 END AS late,
			u('status', i, k) AS us,
			-- promised by 20:00 on day 2..5 (B2C) or day 7 (B2B) after the order day
			t - t % 86400 + 72000 + 86400 * CASE WHEN b2b THEN 7
				ELSE 2 + floor(u('pdays', i, k) * 4)::BIGINT END AS promised_sec
		FROM o
	), q AS (
		SELECT *,
			round(greatest(0.5, items * unit_price * exp(0.25 * nrm('amount', i, k)) * CASE WHEN mon = 12 THEN 1.08 ELSE 1.0 END), 2) AS amount,
			CASE WHEN us < 0.03 THEN 'cancelled'
				WHEN us < 0.065 + 0.12 * late::INTEGER + CASE WHEN sat < -1.0 THEN 0.03 ELSE 0.0 END THEN 'returned'
				ELSE 'completed' END AS status,
			CASE WHEN late THEN promised_sec + 3600 + floor(expo('lateh', i, k) * 40 * 3600)::BIGINT
				ELSE t + 57600 + floor(u('transit', i, k) * (promised_sec - t - 57600))::BIGINT END AS delivered_sec
		FROM p
	)
	SELECT 'O' || substr(customer_id, 2) || '-' || lpad(CAST(k AS VARCHAR), 4, '0') AS order_id,
		customer_id, ts(t) AS order_date, amount,
		CASE WHEN u('costnull', i, k) < 0.015 THEN NULL ELSE round(amount * (0.55 + 0.20 * u('cost', i, k)), 2) END AS cost,
		status, items,
		CASE WHEN u('pnull', i, k) < 0.01 THEN NULL ELSE ts(promised_sec) END AS promised_date,
		-- cancelled orders never ship; late ones may still be in transit at the end
		CASE WHEN status = 'cancelled' OR delivered_sec >= {END} OR u('dnull', i, k) < 0.01 THEN NULL
			ELSE ts(delivered_sec) END AS delivered_date
	FROM q`
	return g.copyOut(ctx, "orders", q)
}

// readOrders scans the written orders file (in order_id order) with what
// surveys and tickets react to: late delivery, returns, and the customer's
// traits recomputed from the customer number. i and k are the customer
// number and order sequence packed in order_id, the keys of their draws.
func (g *gen) readOrders() string {
	return `SELECT order_id, customer_id, status, num_of(customer_id) AS i,
			CAST(substr(order_id, {W} + 3) AS BIGINT) AS k,
			epoch(order_date)::BIGINT AS order_sec,
			epoch(promised_date)::BIGINT AS promised_sec,
			epoch(delivered_date)::BIGINT AS delivered_sec,
			coalesce(delivered_date > promised_date, false) AS late,
			status = 'returned' AS returned
		FROM read_parquet(` + quote(g.paths["orders"]) + `)`
}

// surveys: some delivered orders get a response a few days later. One
// latent score per response (the customer's satisfaction plus noise, minus
// late delivery and returns) drives csat, nps and the attribute scores, so
// they correlate as real answers do.
func (g *gen) surveys(ctx context.Context) error {
	q := `
	WITH r AS (
		SELECT *,
			coalesce(delivered_sec, order_sec) + 3600 + floor(expo('svyd', i, k) * 2 * 86400)::BIGINT AS s_sec,
			0.8 * sat_of(i) + 0.6 * nrm('svz', i, k) - 1.0 * late::INTEGER - 1.3 * returned::INTEGER AS z
		FROM (` + g.readOrders() + `) o
		WHERE status <> 'cancelled' AND u('svy', i, k) < CASE WHEN b2b_of(i) THEN 0.20 ELSE 0.12 END
	)
	SELECT 'R' || substr(order_id, 2) AS response_id, customer_id, ts(s_sec) AS survey_date,
		CASE WHEN u('n.csat', i, k) < 0.02 THEN NULL
			ELSE least(5, greatest(1, round(4.0 + z))) END::INTEGER AS csat,
		CASE WHEN u('n.nps', i, k) < 0.06 THEN NULL
			ELSE least(10, greatest(0, round(8.2 + 2.0 * z + 0.8 * nrm('nps', i, k)))) END::INTEGER AS nps,
		CASE WHEN u('n.q', i, k) < 0.05 THEN NULL
			ELSE least(5, greatest(1, round(3.9 + 0.9 * z + 0.7 * nrm('q', i, k) - 0.8 * returned::INTEGER))) END::INTEGER AS score_product_quality,
		CASE WHEN u('n.d', i, k) < 0.08 THEN NULL
			ELSE least(5, greatest(1, round(4.1 + 0.5 * z + 0.6 * nrm('d', i, k) - 1.6 * late::INTEGER))) END::INTEGER AS score_delivery,
		-- many respondents never contacted support
		CASE WHEN u('n.s', i, k) < 0.25 THEN NULL
			ELSE least(5, greatest(1, round(3.7 + 0.8 * z + 0.8 * nrm('s', i, k)))) END::INTEGER AS score_support
	FROM r WHERE s_sec < {END}`
	return g.copyOut(ctx, "surveys", q)
}

// tickets: a few orders raise a ticket, far more often when late or
// returned, and those are mostly complaints. Response and resolution times
// are lognormal hours (B2B is answered faster); tickets still open at the
// end of the data have no response or resolution yet.
func (g *gen) tickets(ctx context.Context) error {
	q := `
	WITH o AS (
		SELECT *, u('cat', i, k) AS uc FROM (` + g.readOrders() + `) o
		WHERE u('tkt', i, k) < 0.025 + 0.30 * late::INTEGER + 0.45 * returned::INTEGER
			+ CASE WHEN sat_of(i) < -1.2 THEN 0.03 ELSE 0.0 END
	), c AS (
		SELECT *,
			CASE WHEN late THEN coalesce(promised_sec, order_sec) + floor(expo('open', i, k) * 12 * 3600)::BIGINT
				WHEN returned THEN coalesce(delivered_sec, order_sec) + floor(expo('open', i, k) * 2 * 86400)::BIGINT
				ELSE order_sec + floor(expo('open', i, k) * 3 * 86400)::BIGINT END AS opened_sec,
			CASE WHEN late OR returned THEN CASE WHEN uc < 0.6 THEN 'complaint' WHEN late THEN 'delivery' ELSE 'return' END
				WHEN uc < 0.40 THEN 'question' WHEN uc < 0.62 THEN 'billing' WHEN uc < 0.82 THEN 'technical'
				WHEN uc < 0.92 THEN 'delivery' ELSE 'complaint' END AS category
		FROM o
	), e AS (
		SELECT *,
			opened_sec + 300 + floor(3600 * CASE WHEN b2b_of(i) THEN 1.5 ELSE 4.0 END
				* exp(1.0 * nrm('resp', i, k)))::BIGINT AS resp_sec
		FROM c WHERE opened_sec < {END}
	), f AS (
		SELECT *,
			resp_sec + 600 + floor(3600 * CASE WHEN category = 'complaint' THEN 30.0 ELSE 16.0 END
				* exp(1.1 * nrm('res', i, k)))::BIGINT AS res_sec,
			resp_sec >= {END} OR u('n.resp', i, k) < 0.015 AS no_resp
		FROM e
	)
	SELECT 'T' || substr(order_id, 2) AS ticket_id, customer_id, ts(opened_sec) AS opened_at,
		CASE WHEN no_resp THEN NULL ELSE ts(resp_sec) END AS first_response_at,
		CASE WHEN no_resp OR res_sec >= {END}
			OR u('n.res', i, k) < CASE WHEN category = 'complaint' THEN 0.08 ELSE 0.04 END THEN NULL
			ELSE ts(res_sec) END AS resolved_at,
		category
	FROM f`
	return g.copyOut(ctx, "tickets", q)
}

// events: email campaigns sent to opted-in customers, each customer with
// their own open and click propensities (~20% open, ~3% click of sent);
// and social impressions for followers, a few of which get a like, comment
// or share. A customer's events are packed as sec<<16 | campaign<<4 | type
// into one list, sorted and unnested, so the file comes out ordered by
// customer and time without a global sort.
func (g *gen) events(ctx context.Context) error {
	for _, q := range []string{
		`CREATE MACRO ev_sent(p_i, p_c) AS {SENDS}[p_c + 1] + floor(u('batch', p_i, p_c) * 5400)::BIGINT`,
		`CREATE MACRO ev_open(p_i, p_c) AS ev_sent(p_i, p_c) + 60 + floor(expo('openat', p_i, p_c) * 5 * 3600)::BIGINT`,
		`CREATE MACRO ev_click(p_i, p_c) AS ev_open(p_i, p_c) + 5 + floor(expo('clickat', p_i, p_c) * 600)::BIGINT`,
		`CREATE MACRO ev_imp(p_i, p_m, p_j) AS {MS}[p_m + 1]
			+ floor(u('impat', p_i, p_m * 16 + p_j) * ({ME}[p_m + 1] - {MS}[p_m + 1]))::BIGINT`,
		`CREATE MACRO ev_react(p_i, p_m, p_j) AS ev_imp(p_i, p_m, p_j) + 10
			+ floor(expo('reactat', p_i, p_m * 16 + p_j) * 1800)::BIGINT`,
		`CREATE MACRO ev_pack(p_sec, p_c, p_code) AS CAST(p_sec AS BIGINT) * 65536 + p_c * 16 + p_code`,
	} {
		if err := g.exec(ctx, q); err != nil {
			return err
		}
	}
	q := `
	WITH em AS (
		SELECT *,
			CASE WHEN email_opt THEN flatten(list_transform(
				list_filter(range({NC}), c -> {SENDS}[c + 1] > signup_sec AND u('recv', i, c) < {PRECV}[c + 1]),
				c -> [ev_pack(ev_sent(i, c), c, 0),
					CASE WHEN u('open', i, c) < p_open THEN ev_pack(ev_open(i, c), c, 1) END,
					CASE WHEN u('open', i, c) < p_open AND u('click', i, c) < p_click THEN ev_pack(ev_click(i, c), c, 2) END]))
			ELSE [] END AS email,
			-- impressions per month: geometric-like, mean ~2
			CASE WHEN social_follow THEN flatten(flatten(list_transform(range(signup_month, {NM}),
				m -> list_transform(range(least(12, floor(expo('nimp', i, m) * 2.0))::BIGINT),
					j -> CASE WHEN ev_imp(i, m, j) > signup_sec THEN
						[ev_pack(ev_imp(i, m, j), {NC} + m, 3),
						CASE WHEN u('react', i, m * 16 + j) < 0.045 THEN ev_pack(ev_react(i, m, j), {NC} + m, 4)
							WHEN u('react', i, m * 16 + j) < 0.054 THEN ev_pack(ev_react(i, m, j), {NC} + m, 5)
							WHEN u('react', i, m * 16 + j) < 0.060 THEN ev_pack(ev_react(i, m, j), {NC} + m, 6) END]
						ELSE [] END))))
			ELSE [] END AS social
		FROM cust WHERE email_opt OR social_follow
	), ev AS (
		SELECT customer_id,
			unnest(list_sort(list_filter(list_concat(email, social), x -> x IS NOT NULL AND x < {END}::BIGINT * 65536))) AS x
		FROM em
	)
	SELECT customer_id, ts(x >> 16) AS event_at,
		CASE WHEN x & 15 < 3 THEN 'email' ELSE 'social' END AS channel,
		['sent', 'open', 'click', 'impression', 'like', 'comment', 'share'][(x & 15) + 1] AS event_type,
		{NAMES}[((x >> 4) & 4095) + 1] AS campaign_id
	FROM ev`
	return g.copyOut(ctx, "events", q)
}

// contracts: B2B customers sign a 12- or 24-month contract shortly after
// signup and renew it `renewals` times; the last one is not renewed, and
// the customer stops ordering when it ends. A contract still running at the
// end of the data has not been renewed yet.
func (g *gen) contracts(ctx context.Context) error {
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
}
