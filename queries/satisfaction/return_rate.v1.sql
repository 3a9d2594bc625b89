-- name: return_rate
-- version: 1
-- title: Return rate
-- category: satisfaction
-- unit: ratio
-- description: Orders dated in the window with status returned / completed and returned orders dated in the window (cancelled orders are left out).
-- requires: orders
-- kind: ratio
-- direction: lower_is_better
-- numerator: count(*) FILTER (WHERE returned)
-- denominator: count(order_id)
SELECT customer_id, order_id, coalesce(status, 'completed') = 'returned' AS returned
FROM orders
WHERE coalesce(status, 'completed') IN ('completed', 'returned')
  AND order_date >= win_start AND order_date < win_end
