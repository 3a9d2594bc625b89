-- name: new_customers
-- version: 1
-- title: New customers
-- category: acquisition
-- unit: count
-- description: Customers whose first completed order over all history is dated in the window.
-- requires: orders
-- kind: additive
-- value: count(customer_id)
SELECT customer_id
FROM (
    SELECT customer_id, min(order_date) AS first_order
    FROM orders
    WHERE coalesce(status, 'completed') = 'completed'
    GROUP BY customer_id
)
WHERE first_order >= win_start AND first_order < win_end
