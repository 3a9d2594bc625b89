-- name: orders
-- version: 1
-- title: Orders
-- category: sales
-- unit: count
-- description: Number of completed orders dated in the window.
-- requires: orders
-- kind: additive
-- value: count(order_id)
SELECT customer_id, order_id
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
