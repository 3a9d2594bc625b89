-- name: retention_rate
-- version: 1
-- title: Retention rate
-- category: loyalty
-- unit: ratio
-- description: Customers active in both the previous window and the window / customers active in the previous window.
-- requires: orders
-- kind: ratio
-- direction: higher_is_better
-- numerator: count(*) FILTER (WHERE in_prev AND in_window)
-- denominator: count(*) FILTER (WHERE in_prev)
SELECT customer_id,
       bool_or(order_date >= prev_start AND order_date < win_start) AS in_prev,
       bool_or(order_date >= win_start AND order_date < win_end) AS in_window
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= prev_start AND order_date < win_end
GROUP BY customer_id
