-- source: fast_window_totals
-- Without a customer filter or a by= dimension: the same sums, of every
-- customer per day, for any window.
-- value: coalesce(sum(orders), 0)
SELECT period, customer_id, w_orders AS orders FROM fast_window_totals WHERE w_orders > 0
-- form
-- Per customer.
-- source: fast_window
-- use: scorecard
-- value: coalesce(sum(orders), 0)
-- One row per active customer with their count of orders; the count of
-- orders is the sum of those counts.
SELECT period, customer_id, w_orders AS orders FROM fast_window WHERE w_orders > 0
