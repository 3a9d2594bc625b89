-- name: active_customers
-- version: 1
-- title: Active customers
-- category: sales
-- unit: count
-- description: Customers with at least one completed order dated in the window, |A(W)|.
-- requires: orders
-- kind: additive
-- value: count(customer_id)
SELECT DISTINCT customer_id
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
