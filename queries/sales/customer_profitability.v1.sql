-- name: customer_profitability
-- version: 1
-- title: Profit per customer
-- category: sales
-- unit: currency
-- description: Gross profit / number of distinct customers, over the completed orders dated in the window whose cost is known.
-- requires: orders, orders.cost
-- kind: ratio
-- numerator: coalesce(sum(amount - cost), 0)
-- denominator: count(DISTINCT customer_id)
SELECT customer_id, order_id, amount, cost
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
  AND cost IS NOT NULL
