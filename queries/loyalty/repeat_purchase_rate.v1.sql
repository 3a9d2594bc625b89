-- name: repeat_purchase_rate
-- version: 1
-- title: Repeat purchase rate
-- category: loyalty
-- unit: ratio
-- description: Active customers with at least 2 completed orders in the window / active customers.
-- requires: orders
-- kind: ratio
-- numerator: count(*) FILTER (WHERE orders >= 2)
-- denominator: count(customer_id)
SELECT customer_id, count(*) AS orders
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
GROUP BY customer_id
