package clv

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"regexp"
	"time"
)

// Querier is the part of *sql.DB, *sql.Conn and *sql.Tx that Summary needs.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Unit names accepted in SummaryOptions.Unit.
const (
	UnitDay   = "day"
	UnitWeek  = "week"
	UnitMonth = "month"
)

// DaysPerMonth is the length of the "month" unit: 365.25/12 days. See the
// package documentation for why it is not a calendar month.
const DaysPerMonth = 365.25 / 12

// MinRepeatBuyers is the fewest customers with a repeat purchase that the fits
// accept. Below it the parameters are not identified in practice (the
// optimiser wanders along flat ridges), so we refuse rather than return
// numbers that look precise.
const MinRepeatBuyers = 10

const defaultRelation = "orders"

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// SummaryOptions selects the data and the RFM convention of Summary.
type SummaryOptions struct {
	// OrdersRelation is the table or view with the canonical columns
	// customer_id VARCHAR, order_date TIMESTAMP, amount DOUBLE, status VARCHAR.
	// Default "orders". It is spliced into SQL, so it must match
	// ^[a-z_][a-z0-9_]*$; it is meant to be chosen by code, not by users.
	OrdersRelation string `json:"orders_relation"`
	// CalibrationEnd is the last day (inclusive) of the calibration period.
	// Only its calendar date counts; the time of day is ignored.
	CalibrationEnd time.Time `json:"calibration_end" format:"date-time"`
	// HoldoutEnd, when set, is the last day (inclusive) of the holdout period
	// that starts the day after CalibrationEnd.
	HoldoutEnd *time.Time `json:"holdout_end,omitempty" format:"date-time"`
	// Unit is "day", "week" (default) or "month" (30.4375 days).
	Unit string `json:"unit"`
}

// Triple is one BG/NBD sufficient statistic (x, t_x, T) with the number of
// customers who share it.
type Triple struct {
	X     int     `json:"x"`
	Tx    float64 `json:"t_x"`
	T     float64 `json:"T"`
	Count int     `json:"count"`
}

// SpendGroup is one Gamma-Gamma sufficient statistic (x, zbar) of repeat
// buyers with its number of customers.
type SpendGroup struct {
	X     int     `json:"x"`
	Zbar  float64 `json:"zbar"`
	Count int     `json:"count"`
}

// HoldoutGroup is (x, t_x, T) together with the holdout repeat count, for
// customer-level validation.
type HoldoutGroup struct {
	X        int     `json:"x"`
	Tx       float64 `json:"t_x"`
	T        float64 `json:"T"`
	HoldoutX int     `json:"holdout_x"`
	Count    int     `json:"count"`
}

// Cohort counts the modelled customers whose first purchase is Offset units
// (OffsetDays days) after the earliest first purchase.
type Cohort struct {
	OffsetDays int     `json:"offset_days"`
	Offset     float64 `json:"offset"`
	Count      int     `json:"count"`
}

// SummaryStats are the headline counts of a summary.
type SummaryStats struct {
	Unit               string     `json:"unit"`
	UnitDays           float64    `json:"unit_days"`
	CalibrationEnd     time.Time  `json:"calibration_end" format:"date-time"`
	HoldoutEnd         *time.Time `json:"holdout_end,omitempty" format:"date-time"`
	FirstPurchase      time.Time  `json:"first_purchase" format:"date-time"`
	Customers          int        `json:"customers"`
	RepeatBuyers       int        `json:"repeat_buyers"`
	ZeroFrequency      int        `json:"zero_frequency"`
	RepeatTransactions int        `json:"repeat_transactions"`
	HoldoutLength      float64    `json:"holdout_length,omitempty"`
	HoldoutRepeats     int        `json:"holdout_repeat_transactions,omitempty"`
	Periods            int        `json:"periods"`
	CalibrationPeriods float64    `json:"calibration_periods"`
}

// SummaryData is the grouped RFM summary the fits need.
type SummaryData struct {
	SummaryStats
	// Triples are the distinct calibration (x, t_x, T) with counts.
	Triples []Triple `json:"triples"`
	// Spend are the distinct (x, zbar) of repeat buyers (x > 0) with counts.
	Spend []SpendGroup `json:"spend"`
	// Holdout is set when HoldoutEnd is: (x, t_x, T, holdout_x) with counts.
	Holdout []HoldoutGroup `json:"holdout,omitempty"`
	// Cohorts group the customers by first-purchase day, for tracking curves.
	Cohorts []Cohort `json:"cohorts"`
	// PeriodRepeats[k-1] is the number of repeat transactions of the modelled
	// customers in period k = [k-1, k) units after FirstPurchase, through
	// HoldoutEnd (or CalibrationEnd); it includes calibration periods.
	PeriodRepeats []int `json:"period_repeats"`
}

// CustomerSummary is the RFM summary of one customer.
type CustomerSummary struct {
	CustomerID    string    `json:"customer_id"`
	FirstPurchase time.Time `json:"first_purchase" format:"date-time"`
	X             int       `json:"x"`
	Tx            float64   `json:"t_x"`
	T             float64   `json:"T"`
	Zbar          float64   `json:"zbar"`
	HoldoutX      int       `json:"holdout_x"`
}

// normalized is a validated copy of SummaryOptions with derived values.
type normalized struct {
	SummaryOptions
	unitDays float64
	cal      string // calibration end as YYYY-MM-DD
	end      string // last day read: holdout end or calibration end
}

func (o SummaryOptions) normalize() (normalized, error) {
	n := normalized{SummaryOptions: o}
	if n.OrdersRelation == "" {
		n.OrdersRelation = defaultRelation
	}
	if !identRe.MatchString(n.OrdersRelation) {
		return n, inputErrorf("orders_relation", "%q is not a plain lower-case SQL identifier (^[a-z_][a-z0-9_]*$)", n.OrdersRelation)
	}
	if n.Unit == "" {
		n.Unit = UnitWeek
	}
	switch n.Unit {
	case UnitDay:
		n.unitDays = 1
	case UnitWeek:
		n.unitDays = 7
	case UnitMonth:
		n.unitDays = DaysPerMonth
	default:
		return n, inputErrorf("unit", "%q is not one of day, week, month", n.Unit)
	}
	if n.CalibrationEnd.IsZero() {
		return n, inputErrorf("calibration_end", "is required")
	}
	n.CalibrationEnd = dateOnly(n.CalibrationEnd)
	n.cal = n.CalibrationEnd.Format(time.DateOnly)
	n.end = n.cal
	if n.HoldoutEnd != nil {
		h := dateOnly(*n.HoldoutEnd)
		if !h.After(n.CalibrationEnd) {
			return n, inputErrorf("holdout_end", "%s is not after calibration_end %s", h.Format(time.DateOnly), n.cal)
		}
		n.HoldoutEnd = &h
		n.end = h.Format(time.DateOnly)
	}
	return n, nil
}

// dateOnly keeps the calendar date of t in its own location, as UTC midnight.
func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// customerCTE returns the WITH items `days` (one row per customer and day)
// and `cust` (one row per modelled customer).
//
// zbar is rounded to 1e-6 because DuckDB sums in parallel, in no fixed order,
// and the last bits of a double sum would otherwise change the (x, zbar)
// groups from run to run. Dates are spliced as literals: Go formats them from
// time.Time, so no user text reaches the SQL, and literals keep the SQL usable
// in CREATE TABLE AS, where parameters are not.
func customerCTE(n normalized) string {
	return fmt.Sprintf(`days AS MATERIALIZED (
    SELECT customer_id AS cid, CAST(order_date AS DATE) AS d, coalesce(sum(amount), 0) AS v
    FROM %[1]s
    WHERE (status IS NULL OR status = 'completed')
      AND customer_id IS NOT NULL AND order_date IS NOT NULL
      AND CAST(order_date AS DATE) <= DATE '%[3]s'
    GROUP BY customer_id, CAST(order_date AS DATE)
), cust AS MATERIALIZED (
    SELECT cid,
        min(d) AS d0,
        count(*) FILTER (WHERE d <= DATE '%[2]s') - 1 AS x,
        date_diff('day', min(d), max(d) FILTER (WHERE d <= DATE '%[2]s')) AS tx_days,
        date_diff('day', min(d), DATE '%[2]s') AS t_days,
        CASE WHEN count(*) FILTER (WHERE d <= DATE '%[2]s') > 1
            THEN round((sum(v) FILTER (WHERE d <= DATE '%[2]s') - arg_min(v, d))
                 / (count(*) FILTER (WHERE d <= DATE '%[2]s') - 1), 6)
            ELSE 0 END AS zbar,
        count(*) FILTER (WHERE d > DATE '%[2]s') AS holdout_x
    FROM days
    GROUP BY cid
    HAVING min(d) <= DATE '%[2]s'
)`, n.OrdersRelation, n.cal, n.end)
}

// Row kinds of the single summary query. One query with a discriminator
// column lets DuckDB build `days` and `cust` once (MATERIALIZED) and serve
// every grouping from them; separate queries would rescan the orders each
// time, and temp tables would not survive *sql.DB's connection pool.
// Dates travel as days since 1970-01-01 and are bucketed into periods in Go:
// there are only a few hundred of them, and it keeps the SQL free of
// cross joins against the epoch.
//
// Repeat transactions per day avoid joining every order day to its
// customer: every customer with a day on or before calibration_end is
// modelled, so calibration repeats per day are all transaction days minus
// first purchases (the cohorts); only holdout days need the semi-join that
// drops customers first seen after calibration_end.
const (
	kindTriple = iota
	kindSpend
	kindCohort
	kindCalibrationDay
	kindHoldoutDay
)

func summaryQuery(n normalized) string {
	return fmt.Sprintf(`WITH %[1]s
SELECT %[2]d AS kind, x AS i1, tx_days AS i2, t_days AS i3, holdout_x AS i4, 0::DOUBLE AS f, count(*) AS n
FROM cust GROUP BY x, tx_days, t_days, holdout_x
UNION ALL
SELECT %[3]d, x, 0, 0, 0, zbar, count(*) FROM cust WHERE x > 0 GROUP BY x, zbar
UNION ALL
SELECT %[4]d, date_diff('day', DATE '1970-01-01', d0), 0, 0, 0, 0, count(*) FROM cust GROUP BY d0
UNION ALL
SELECT %[5]d, date_diff('day', DATE '1970-01-01', d), 0, 0, 0, 0, count(*)
FROM days WHERE d <= DATE '%[7]s' GROUP BY d
UNION ALL
SELECT %[6]d, date_diff('day', DATE '1970-01-01', d), 0, 0, 0, 0, count(*)
FROM days WHERE d > DATE '%[7]s' AND cid IN (SELECT cid FROM cust) GROUP BY d
ORDER BY kind, i1, i2, i3, i4, f`,
		customerCTE(n), kindTriple, kindSpend, kindCohort, kindCalibrationDay, kindHoldoutDay, n.cal)
}

// Summary builds the grouped RFM summary of the orders relation in DuckDB.
// Bad options and data that cannot be summarised return *InputError.
func Summary(ctx context.Context, db Querier, opts SummaryOptions) (*SummaryData, error) {
	n, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, summaryQuery(n))
	if err != nil {
		return nil, fmt.Errorf("clv summary: %w", err)
	}
	defer rows.Close()

	s := &SummaryData{}
	s.Unit, s.UnitDays = n.Unit, n.unitDays
	s.CalibrationEnd, s.HoldoutEnd = n.CalibrationEnd, n.HoldoutEnd
	transactionDays, err := s.read(rows, n)
	if err != nil {
		return nil, err
	}
	if s.Customers == 0 || len(s.Cohorts) == 0 {
		return nil, noCustomersError(ctx, db, n)
	}
	s.countPeriods(n, transactionDays)
	return s, nil
}

// read scans the rows of summaryQuery into s. It returns the transaction
// days, (epoch day, transactions), for countPeriods.
func (s *SummaryData) read(rows *sql.Rows, n normalized) ([][2]int64, error) {
	var lastTriple [3]int64
	var transactionDays [][2]int64
	for rows.Next() {
		var kind, i1, i2, i3, i4, cnt int64
		var f float64
		if err := rows.Scan(&kind, &i1, &i2, &i3, &i4, &f, &cnt); err != nil {
			return nil, fmt.Errorf("clv summary: scan: %w", err)
		}
		c := int(cnt)
		switch kind {
		case kindTriple:
			// Rows are ordered by (x, t_x, T, holdout_x), so the holdout
			// variants of one triple are adjacent.
			key := [3]int64{i1, i2, i3}
			s.addTriple(n, key, int(i4), c, len(s.Triples) > 0 && key == lastTriple)
			lastTriple = key
		case kindSpend:
			s.Spend = append(s.Spend, SpendGroup{X: int(i1), Zbar: f, Count: c})
		case kindCohort:
			// Rows arrive in date order, so the first is the earliest.
			if len(s.Cohorts) == 0 {
				s.FirstPurchase = time.Unix(i1*86400, 0).UTC()
			}
			s.Cohorts = append(s.Cohorts, Cohort{OffsetDays: int(i1), Count: c})
		case kindCalibrationDay, kindHoldoutDay:
			transactionDays = append(transactionDays, [2]int64{i1, cnt})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clv summary: %w", err)
	}
	return transactionDays, nil
}

// addTriple counts c customers with the calibration (x, t_x, T) of key (in
// days) and holdout_x hx; same says key is that of the last triple, which
// they then join.
func (s *SummaryData) addTriple(n normalized, key [3]int64, hx, c int, same bool) {
	x, tx, t := int(key[0]), float64(key[1])/n.unitDays, float64(key[2])/n.unitDays
	if same {
		s.Triples[len(s.Triples)-1].Count += c
	} else {
		s.Triples = append(s.Triples, Triple{X: x, Tx: tx, T: t, Count: c})
	}
	if n.HoldoutEnd != nil {
		s.Holdout = append(s.Holdout, HoldoutGroup{X: x, Tx: tx, T: t, HoldoutX: hx, Count: c})
		s.HoldoutRepeats += hx * c
	}
	s.Customers += c
	s.RepeatTransactions += x * c
	if x > 0 {
		s.RepeatBuyers += c
	} else {
		s.ZeroFrequency += c
	}
}

// countPeriods makes the cohorts' offsets relative to FirstPurchase and
// counts the repeat transactions per period from the transaction days
// less the first purchases.
func (s *SummaryData) countPeriods(n normalized, transactionDays [][2]int64) {
	epoch := int(s.FirstPurchase.Unix() / 86400)
	for i := range s.Cohorts {
		s.Cohorts[i].OffsetDays -= epoch
		s.Cohorts[i].Offset = float64(s.Cohorts[i].OffsetDays) / n.unitDays
	}
	endDays := daysBetween(s.FirstPurchase, n.CalibrationEnd)
	if n.HoldoutEnd != nil {
		endDays = daysBetween(s.FirstPurchase, *n.HoldoutEnd)
		s.HoldoutLength = float64(daysBetween(n.CalibrationEnd, *n.HoldoutEnd)) / n.unitDays
	}
	// Period k covers days [(k-1)u, ku) after the epoch; the last period
	// contains the end day.
	s.Periods = periodOf(endDays, n.unitDays)
	s.PeriodRepeats = make([]int, s.Periods)
	for _, rd := range transactionDays {
		s.PeriodRepeats[periodOf(int(rd[0])-epoch, n.unitDays)-1] += int(rd[1])
	}
	for _, c := range s.Cohorts {
		s.PeriodRepeats[periodOf(c.OffsetDays, n.unitDays)-1] -= c.Count
	}
	s.CalibrationPeriods = float64(daysBetween(s.FirstPurchase, n.CalibrationEnd)+1) / n.unitDays
}

// periodOf returns the 1-based period of a day offset from the epoch.
func periodOf(day int, unitDays float64) int {
	return int(math.Floor(float64(day)/unitDays)) + 1
}

func daysBetween(a, b time.Time) int {
	return int(math.Round(b.Sub(a).Hours() / 24))
}

// noCustomersError explains an empty calibration population. It runs only on
// the error path, so the extra scan costs nothing in normal use.
func noCustomersError(ctx context.Context, db Querier, n normalized) error {
	var first sql.NullTime
	q := fmt.Sprintf(`SELECT min(CAST(order_date AS DATE)) FROM %s
WHERE (status IS NULL OR status = 'completed') AND customer_id IS NOT NULL`, n.OrdersRelation)
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("clv summary: first order: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&first); err != nil {
			return fmt.Errorf("clv summary: first order: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("clv summary: first order: %w", err)
	}
	if !first.Valid {
		return inputErrorf("orders", "%s has no completed orders", n.OrdersRelation)
	}
	return inputErrorf("calibration_end", "calibration_end %s is before the first order %s; choose a later date",
		n.cal, first.Time.Format(time.DateOnly))
}

// CustomerSummaries returns the RFM summary of every modelled customer,
// ordered by customer_id. It is for inspection and small data; WriteScores
// scores large populations without moving them through Go.
func CustomerSummaries(ctx context.Context, db Querier, opts SummaryOptions) ([]CustomerSummary, error) {
	n, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf(`WITH %s
SELECT cid, d0, x, tx_days, t_days, zbar, holdout_x FROM cust ORDER BY cid`, customerCTE(n))
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("clv customer summaries: %w", err)
	}
	defer rows.Close()
	var out []CustomerSummary
	for rows.Next() {
		var (
			c         CustomerSummary
			tx, t, hx int64
			x         int64
		)
		if err := rows.Scan(&c.CustomerID, &c.FirstPurchase, &x, &tx, &t, &c.Zbar, &hx); err != nil {
			return nil, fmt.Errorf("clv customer summaries: scan: %w", err)
		}
		c.X, c.HoldoutX = int(x), int(hx)
		c.Tx, c.T = float64(tx)/n.unitDays, float64(t)/n.unitDays
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clv customer summaries: %w", err)
	}
	if len(out) == 0 {
		return nil, noCustomersError(ctx, db, n)
	}
	return out, nil
}
