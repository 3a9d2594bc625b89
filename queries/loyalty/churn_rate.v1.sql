-- name: churn_rate
-- version: 1
-- title: Churn rate
-- category: loyalty
-- unit: ratio
-- description: Customers active in the previous window but not in the window / customers active in the previous window.
-- requires: orders
-- kind: ratio
-- direction: lower_is_better
-- default: true
-- numerator: count(*) FILTER (WHERE in_prev AND NOT in_window)
-- denominator: count(*) FILTER (WHERE in_prev)
SELECT customer_id,
       bool_or(order_date >= prev_start AND order_date < win_start) AS in_prev,
       bool_or(order_date >= win_start AND order_date < win_end) AS in_window
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= prev_start AND order_date < win_end
GROUP BY customer_id
