-- name: avg_order_value
-- version: 1
-- title: Average order value
-- category: sales
-- unit: currency
-- description: Revenue / orders, over completed orders dated in the window.
-- requires: orders
-- kind: ratio
-- numerator: coalesce(sum(amount), 0)
-- denominator: count(order_id)
SELECT customer_id, order_id, amount
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
