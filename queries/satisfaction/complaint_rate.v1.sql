-- name: complaint_rate
-- version: 1
-- title: Complaint rate
-- category: satisfaction
-- unit: ratio
-- description: Active customers (a completed order in the window) with at least one ticket of category complaint opened in the window / active customers.
-- requires: orders, tickets
-- kind: ratio
-- direction: lower_is_better
-- numerator: count(*) FILTER (WHERE complained)
-- denominator: count(customer_id)
WITH active AS (
    SELECT DISTINCT customer_id
    FROM orders
    WHERE coalesce(status, 'completed') = 'completed'
      AND order_date >= win_start AND order_date < win_end
),
complainers AS (
    SELECT DISTINCT customer_id
    FROM tickets
    WHERE category = 'complaint'
      AND opened_at >= win_start AND opened_at < win_end
)
SELECT a.customer_id, c.customer_id IS NOT NULL AS complained
FROM active a
LEFT JOIN complainers c ON c.customer_id = a.customer_id
