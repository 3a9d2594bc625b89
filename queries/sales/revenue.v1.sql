-- name: revenue
-- version: 1
-- title: Revenue
-- category: sales
-- unit: currency
-- description: Sum of amount over completed orders (status completed or null) dated in the window.
-- requires: orders
-- kind: additive
-- value: coalesce(sum(amount), 0)
SELECT customer_id, amount
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
