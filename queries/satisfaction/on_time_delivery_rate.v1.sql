-- name: on_time_delivery_rate
-- version: 1
-- title: On-time delivery rate
-- category: satisfaction
-- unit: ratio
-- description: Completed orders dated in the window delivered on or before the promised date / completed orders dated in the window with both dates known.
-- requires: orders, orders.promised_date, orders.delivered_date
-- kind: ratio
-- numerator: count(*) FILTER (WHERE on_time)
-- denominator: count(order_id)
SELECT customer_id, order_id, delivered_date <= promised_date AS on_time
FROM orders
WHERE coalesce(status, 'completed') = 'completed'
  AND order_date >= win_start AND order_date < win_end
  AND promised_date IS NOT NULL AND delivered_date IS NOT NULL
