-- name: historic_clv
-- version: 1
-- title: Historic customer lifetime value
-- category: sales
-- unit: currency
-- description: Mean, over customers with a completed order before the end of the window, of their total completed revenue before the end of the window.
-- requires: orders
-- kind: ratio
-- numerator: coalesce(sum(revenue), 0)
-- denominator: count(customer_id)
SELECT customer_id, sum(amount) AS revenue
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date < win_end
GROUP BY customer_id
