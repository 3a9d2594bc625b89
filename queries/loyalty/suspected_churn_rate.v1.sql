-- name: suspected_churn_rate
-- version: 1
-- title: Suspected churn rate
-- category: loyalty
-- unit: ratio
-- description: Eligible customers have at least 3 distinct dates of completed orders before the end of the window; m is the median gap in days between consecutive dates.
-- description: Flagged when the days from the last such date to the end of the window exceed cycle_multiplier * m. Flagged / eligible.
-- requires: orders
-- kind: ratio
-- direction: lower_is_better
-- param: cycle_multiplier double 2
-- numerator: count(*) FILTER (WHERE flagged)
-- denominator: count(customer_id)
-- Gaps between consecutive orders, in days; same-day orders give a gap of 0,
-- which is left out, so the non-zero gaps are exactly those between
-- consecutive distinct order dates (cheaper than a DISTINCT over all orders).
WITH gaps AS (
    SELECT customer_id, CAST(order_date AS DATE) AS day,
           date_diff('day', lag(CAST(order_date AS DATE)) OVER (PARTITION BY customer_id ORDER BY order_date), CAST(order_date AS DATE)) AS gap
    FROM orders
    WHERE coalesce(status, 'completed') = 'completed' AND order_date < win_end
),
cycles AS (
    SELECT customer_id, max(day) AS last_day, median(gap) FILTER (WHERE gap > 0) AS median_gap
    FROM gaps
    GROUP BY customer_id
    HAVING 1 + count(*) FILTER (WHERE gap > 0) >= 3
)
SELECT customer_id,
       date_diff('day', last_day, CAST(win_end AS DATE)) > cycle_multiplier * median_gap AS flagged
FROM cycles
