package clv

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// DefaultScoresTable is the table WriteScores fills by default.
const DefaultScoresTable = "clv_scores"

// Temp tables of WriteScores. They live on the caller's connection only,
// which is why WriteScores takes a *sql.Conn rather than a pool.
const (
	tmpCustomers = "clv_tmp_customers"
	tmpCoef      = "clv_tmp_coef"
)

// ScoreOptions configures WriteScores.
type ScoreOptions struct {
	// Table receives the scores (default "clv_scores"); it is replaced if it
	// exists. Must match ^[a-z_][a-z0-9_]*$.
	Table string `json:"table"`
}

// WriteScores materialises per-customer scores of a fit as the table
//
//	clv_scores(customer_id VARCHAR, p_alive DOUBLE, expected_purchases_90d DOUBLE, clv_12m DOUBLE)
//
// for every customer of the fit's calibration population, scored as of the
// fit's CalibrationEnd (clv_12m holds the CLV over the fit's HorizonMonths,
// 12 by default). To score as of today, fit with CalibrationEnd = today and
// no holdout. The per-customer work
// stays in DuckDB: Go computes the hypergeometric part of E[Y(t)] once per
// distinct (x, T) (few thousand pairs even for millions of customers), appends
// it to a temp table, and a CREATE TABLE AS joins it to the customers and
// applies the closed-form P(alive) and E[M] in SQL. It returns the number of
// rows written.
func WriteScores(ctx context.Context, conn *sql.Conn, res *FitResult, opts ScoreOptions) (int64, error) {
	if err := checkScoreInputs(res, &opts); err != nil {
		return 0, err
	}
	n, err := res.Options.summaryOptions().normalize()
	if err != nil {
		return 0, err
	}
	wrap := func(step string, err error) error { return fmt.Errorf("clv write scores: %s: %w", step, err) }
	if res.BGNBD == nil {
		return writePatternScores(ctx, conn, res, opts, n)
	}

	// Materialise the customer summary once; both the distinct (x, T) list and
	// the final join read it, and recomputing it would rescan the orders.
	q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS WITH %s SELECT cid, x, tx_days, t_days, zbar FROM cust", tmpCustomers, customerCTE(n))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return 0, wrap("customer summary", err)
	}
	defer func() {
		// Best effort: the temp tables vanish with the connection anyway.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp."+tmpCustomers+"; DROP TABLE IF EXISTS temp."+tmpCoef)
	}()

	pairs, err := distinctXT(ctx, conn)
	if err != nil {
		return 0, wrap("distinct (x, T)", err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+tmpCoef+" (x BIGINT, t_days BIGINT, n90 DOUBLE, disc DOUBLE)"); err != nil {
		return 0, wrap("coefficient table", err)
	}
	if err := appendCoefficients(conn, res, pairs, n.unitDays); err != nil {
		return 0, wrap("append coefficients", err)
	}
	if _, err := conn.ExecContext(ctx, scoresSQL(opts.Table, res, n.unitDays)); err != nil {
		return 0, wrap("scores table", err)
	}
	var count int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+opts.Table).Scan(&count); err != nil {
		return 0, wrap("count", err)
	}
	return count, nil
}

// checkScoreInputs refuses a fit that cannot be scored and a bad table
// name; it fills in the default table.
func checkScoreInputs(res *FitResult, opts *ScoreOptions) error {
	conv, ok := Convergence{}, false
	if res != nil {
		conv, ok = res.countConvergence()
	}
	if !ok || res.GammaGamma == nil {
		return inputErrorf("fit", "needs a fit with both models")
	}
	// Fitted models that did not converge must not be scored silently;
	// hand-made models (NewBGNBD, NewGammaGamma) carry no fit and pass.
	if (conv.Method != "" && !conv.Converged) || (res.GammaGamma.Method != "" && !res.GammaGamma.Converged) {
		return inputErrorf("fit", "the models did not converge; refusing to score with them")
	}
	if opts.Table == "" {
		opts.Table = DefaultScoresTable
	}
	if !identRe.MatchString(opts.Table) {
		return inputErrorf("table", "%q is not a plain lower-case SQL identifier (^[a-z_][a-z0-9_]*$)", opts.Table)
	}
	return nil
}

// appendCoefficients computes the hypergeometric part of the predictions
// in Go for each distinct (x, T in days) and appends them to tmpCoef
// through DuckDB's appender.
func appendCoefficients(conn *sql.Conn, res *FitResult, pairs [][2]int64, unitDays float64) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("connection is not a DuckDB connection")
		}
		app, err := duckdb.NewAppender(c, "temp", "main", tmpCoef)
		if err != nil {
			return err
		}
		for _, p := range pairs {
			n90, disc := res.aliveCoefficients(float64(p[0]), float64(p[1])/unitDays)
			if !isFinite(n90) || !isFinite(disc) {
				_ = app.Close()
				return fmt.Errorf("non-finite prediction for x=%d T=%d days", p[0], p[1])
			}
			if err := app.AppendRow(p[0], p[1], n90, disc); err != nil {
				_ = app.Close()
				return err
			}
		}
		return app.Close()
	})
}

// scoresSQL creates table from the temp customers and coefficients,
// applying the closed-form P(alive) and E[M] with res's parameters spliced
// in as exact double literals.
//
// greatest(x, 1) keeps ln's argument positive in rows where the CASE
// does not use it (x = 0 with b < 1): DuckDB may evaluate both branches.
func scoresSQL(table string, res *FitResult, unitDays float64) string {
	bg, gg := res.BGNBD, res.GammaGamma
	f := func(v float64) string { return "'" + strconv.FormatFloat(v, 'g', -1, 64) + "'::DOUBLE" }
	return fmt.Sprintf(`CREATE OR REPLACE TABLE %[1]s AS
SELECT cid AS customer_id, pa AS p_alive, pa * k.n90 AS expected_purchases_90d, %[2]s * em * pa * k.disc AS clv_12m
FROM (
    SELECT cid, x, t_days,
        CASE WHEN x = 0 THEN 1.0::DOUBLE ELSE 1.0 / (1.0 + exp(least(700.0,
            %[3]s - ln(%[4]s + greatest(x, 1) - 1) + (%[5]s + x) * (ln(%[6]s + t_days / %[7]s) - ln(%[6]s + tx_days / %[7]s))))) END AS pa,
        %[8]s * (%[10]s + x * greatest(zbar, 0)) / (%[8]s * x + %[9]s - 1) AS em
    FROM temp.%[11]s
) c JOIN temp.%[12]s k USING (x, t_days)`,
		table, f(res.margin()), f(math.Log(bg.A)), f(bg.B), f(bg.R), f(bg.Alpha), f(unitDays),
		f(gg.P), f(gg.Q), f(gg.Gamma), tmpCustomers, tmpCoef)
}

func distinctXT(ctx context.Context, conn *sql.Conn) ([][2]int64, error) {
	rows, err := conn.QueryContext(ctx, "SELECT DISTINCT x, t_days FROM temp."+tmpCustomers+" ORDER BY x, t_days")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// tmpPatternCoef holds the Go-computed scores per distinct pattern.
const tmpPatternCoef = "clv_tmp_pattern_coef"

// writePatternScores scores the models whose P(alive) has no closed form
// simple enough for SQL (Pareto/NBD's hypergeometric term) or whose
// pattern is discrete (BG/BB): Go computes P(alive), the 90-day expectation
// and the discounted horizon expectation once per distinct pattern
// ((x, t_x, T) in days, or BG/BB's (x, t_x, n)), and DuckDB joins them to
// the customers. The cost grows with the patterns, not with the customers.
func writePatternScores(ctx context.Context, conn *sql.Conn, res *FitResult, opts ScoreOptions, n normalized) (int64, error) {
	wrap := func(step string, err error) error { return fmt.Errorf("clv write scores: %s: %w", step, err) }
	keys := "x AS k1, tx_days AS k2, t_days AS k3"
	cte := customerCTE(n)
	from := "cust"
	if res.BGBB != nil {
		keys = "bx AS k1, btx AS k2, bn AS k3"
		cte = patternCTE(n, res.Options.PeriodDays, res.Options.Periods)
		from = "cust JOIN bb USING (cid)"
	}
	q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS WITH %s SELECT cid, x, zbar, %s FROM %s", tmpCustomers, cte, keys, from)
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return 0, wrap("customer summary", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp."+tmpCustomers+"; DROP TABLE IF EXISTS temp."+tmpPatternCoef)
	}()
	pats, err := distinctKeys(ctx, conn)
	if err != nil {
		return 0, wrap("distinct patterns", err)
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+tmpPatternCoef+" (k1 BIGINT, k2 BIGINT, k3 BIGINT, pa DOUBLE, e90 DOUBLE, edisc DOUBLE)"); err != nil {
		return 0, wrap("coefficient table", err)
	}
	if err := appendPatternScores(conn, res, pats, n.unitDays); err != nil {
		return 0, wrap("append pattern scores", err)
	}
	f := func(v float64) string { return "'" + strconv.FormatFloat(v, 'g', -1, 64) + "'::DOUBLE" }
	gg := res.GammaGamma
	q = fmt.Sprintf(`CREATE OR REPLACE TABLE %[1]s AS
SELECT cid AS customer_id, k.pa AS p_alive, k.e90 AS expected_purchases_90d,
    %[2]s * (%[3]s * (%[5]s + x * greatest(zbar, 0)) / (%[3]s * x + %[4]s - 1)) * k.edisc AS clv_12m
FROM temp.%[6]s c JOIN temp.%[7]s k USING (k1, k2, k3)`, opts.Table, f(res.margin()), f(gg.P), f(gg.Q), f(gg.Gamma), tmpCustomers, tmpPatternCoef)
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return 0, wrap("scores table", err)
	}
	var count int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+opts.Table).Scan(&count); err != nil {
		return 0, wrap("count", err)
	}
	return count, nil
}

func distinctKeys(ctx context.Context, conn *sql.Conn) ([][3]int64, error) {
	rows, err := conn.QueryContext(ctx, "SELECT DISTINCT k1, k2, k3 FROM temp."+tmpCustomers+" ORDER BY ALL")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][3]int64
	for rows.Next() {
		var p [3]int64
		if err := rows.Scan(&p[0], &p[1], &p[2]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// patternScore computes P(alive), expected purchases in 90 days and the
// discounted expected purchases over the horizon for one pattern key.
func (r *FitResult) patternScore(k [3]int64, unitDays float64) (pa, e90, edisc float64) {
	if r.BGBB != nil {
		return r.patternScores(int(k[0]), int(k[1]), int(k[2]))
	}
	x, tx, T := float64(k[0]), float64(k[1])/unitDays, float64(k[2])/unitDays
	n90, disc := r.aliveCoefficients(x, T)
	pa = r.CountModel().PAlive(x, tx, T)
	return pa, n90 * pa, disc * pa
}

func appendPatternScores(conn *sql.Conn, res *FitResult, pats [][3]int64, unitDays float64) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("connection is not a DuckDB connection")
		}
		app, err := duckdb.NewAppender(c, "temp", "main", tmpPatternCoef)
		if err != nil {
			return err
		}
		for _, p := range pats {
			pa, e90, edisc := res.patternScore(p, unitDays)
			if !isFinite(pa) || !isFinite(e90) || !isFinite(edisc) {
				_ = app.Close()
				return fmt.Errorf("non-finite prediction for pattern %v", p)
			}
			if err := app.AppendRow(p[0], p[1], p[2], pa, e90, edisc); err != nil {
				_ = app.Close()
				return err
			}
		}
		return app.Close()
	})
}
