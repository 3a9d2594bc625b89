-- name: cohort_retention
-- version: 1
-- title: Cohort retention
-- category: matrices
-- unit: ratio
-- description: Cohort = the month of a customer's first completed order, for cohorts whose month starts in the window.
-- description: For each cohort and month offset 0..N (N reaches the calendar month holding the end of the window), the share of the cohort's customers with a completed order in that calendar month (orders up to the end of the window).
-- description: customers is the cohort's size.
-- requires: orders
-- kind: ratio
-- group: cohort, month_offset
-- column: customers count(customer_id)
-- numerator: count(*) FILTER (WHERE active)
-- denominator: count(customer_id)
WITH completed AS (
    SELECT customer_id, order_date
    FROM orders
    WHERE coalesce(status, 'completed') = 'completed' AND order_date < win_end
),
members AS (
    SELECT customer_id, cohort
    FROM (
        SELECT customer_id, date_trunc('month', min(order_date)) AS cohort
        FROM completed
        GROUP BY customer_id
    )
    WHERE cohort >= win_start AND cohort < win_end
),
months AS (
    SELECT DISTINCT customer_id, date_trunc('month', order_date) AS month
    FROM completed
),
cells AS (
    SELECT customer_id, cohort,
           unnest(range(0, date_diff('month', cohort, win_end - INTERVAL 1 MICROSECOND) + 1)) AS month_offset
    FROM members
)
SELECT c.customer_id, CAST(c.cohort AS DATE) AS cohort, c.month_offset,
       m.customer_id IS NOT NULL AS active
FROM cells c
LEFT JOIN months m ON m.customer_id = c.customer_id AND m.month = c.cohort + to_months(CAST(c.month_offset AS INTEGER))
