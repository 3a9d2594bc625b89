-- name: new_customer_growth
-- version: 1
-- title: New customer growth
-- category: acquisition
-- unit: ratio
-- description: (New customers in the window - new customers in the previous window) / new customers in the previous window.
-- description: A new customer's first completed order over all history is dated in the window.
-- requires: orders
-- kind: ratio
-- numerator: count(*) FILTER (WHERE is_new) - count(*) FILTER (WHERE was_new)
-- denominator: count(*) FILTER (WHERE was_new)
SELECT customer_id,
       first_order >= win_start AND first_order < win_end AS is_new,
       first_order >= prev_start AND first_order < win_start AS was_new
FROM (
    SELECT customer_id, min(order_date) AS first_order
    FROM orders
    WHERE coalesce(status, 'completed') = 'completed'
    GROUP BY customer_id
)
WHERE first_order >= prev_start AND first_order < win_end
