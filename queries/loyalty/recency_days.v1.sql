-- name: recency_days
-- version: 1
-- title: Recency (days)
-- category: loyalty
-- unit: days
-- description: Mean, over customers with a completed order before the end of the window, of the days from their last such order to the end of the window.
-- requires: orders
-- kind: ratio
-- direction: lower_is_better
-- numerator: coalesce(sum(days), 0)
-- denominator: count(customer_id)
SELECT customer_id,
       date_diff('day', CAST(last_order AS DATE), CAST(win_end AS DATE)) AS days
FROM (
    SELECT customer_id, max(order_date) AS last_order
    FROM orders
    WHERE coalesce(status, 'completed') = 'completed' AND order_date < win_end
    GROUP BY customer_id
)
