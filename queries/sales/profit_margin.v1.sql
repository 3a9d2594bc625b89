-- name: profit_margin
-- version: 1
-- title: Profit margin
-- category: sales
-- unit: ratio
-- description: Gross profit / revenue, both over the completed orders dated in the window whose cost is known.
-- requires: orders, orders.cost
-- kind: ratio
-- numerator: coalesce(sum(amount - cost), 0)
-- denominator: coalesce(sum(amount), 0)
SELECT customer_id, order_id, amount, cost
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
  AND cost IS NOT NULL
