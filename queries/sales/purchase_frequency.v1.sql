-- name: purchase_frequency
-- version: 1
-- title: Purchase frequency
-- category: sales
-- unit: orders per customer
-- description: Completed orders / active customers in the window.
-- requires: orders
-- kind: ratio
-- numerator: coalesce(sum(orders), 0)
-- denominator: count(customer_id)
SELECT customer_id, count(*) AS orders
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
GROUP BY customer_id
