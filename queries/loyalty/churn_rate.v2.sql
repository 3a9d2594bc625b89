-- name: churn_rate
-- version: 2
-- title: Churn rate (inactivity)
-- category: loyalty
-- unit: ratio
-- description: Customers active in the 12 months before the window start whose last completed order before the window end is more than inactive_days days before the window end
-- description: / customers active in the 12 months before the window start.
-- requires: orders
-- kind: ratio
-- direction: lower_is_better
-- param: inactive_days double 90
-- numerator: count(*) FILTER (WHERE churned)
-- denominator: count(customer_id)
SELECT customer_id,
       date_diff('day', CAST(last_order AS DATE), CAST(win_end AS DATE)) > inactive_days AS churned
FROM (
    SELECT customer_id,
           max(order_date) AS last_order,
           bool_or(order_date < win_start) AS active_before
    FROM orders
    WHERE coalesce(status, 'completed') = 'completed'
      AND order_date >= win_start - INTERVAL 12 MONTH AND order_date < win_end
    GROUP BY customer_id
)
WHERE active_before
