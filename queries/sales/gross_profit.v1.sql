-- name: gross_profit
-- version: 1
-- title: Gross profit
-- category: sales
-- unit: currency
-- description: Sum of amount - cost over completed orders dated in the window whose cost is known (orders with a null cost are left out).
-- requires: orders, orders.cost
-- kind: additive
-- value: coalesce(sum(amount - cost), 0)
SELECT customer_id, order_id, amount, cost
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
  AND cost IS NOT NULL
