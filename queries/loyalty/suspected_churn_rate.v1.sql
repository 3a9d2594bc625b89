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
WITH order_days AS (
    SELECT DISTINCT customer_id, CAST(order_date AS DATE) AS day
    FROM orders
    WHERE coalesce(status, 'completed') = 'completed' AND order_date < win_end
),
cycles AS (
    SELECT customer_id, count(*) AS days, max(day) AS last_day, median(gap) AS median_gap
    FROM (
        SELECT customer_id, day,
               date_diff('day', lag(day) OVER (PARTITION BY customer_id ORDER BY day), day) AS gap
        FROM order_days
    )
    GROUP BY customer_id
    HAVING count(*) >= 3
)
SELECT customer_id,
       date_diff('day', last_day, CAST(win_end AS DATE)) > cycle_multiplier * median_gap AS flagged
FROM cycles
