-- name: acquired_customers
-- version: 1
-- title: Acquired customers
-- category: acquisition
-- unit: count
-- description: Customers whose signup_date is in the window.
-- requires: customers
-- kind: additive
-- value: count(customer_id)
SELECT customer_id
FROM customers
WHERE signup_date >= win_start AND signup_date < win_end
