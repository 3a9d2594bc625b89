-- source: fast_window
-- use: scorecard
-- value: coalesce(sum(orders), 0)
-- One row per active customer with their count of orders; the count of
-- orders is the sum of those counts.
SELECT period, customer_id, w_orders AS orders FROM fast_window WHERE w_orders > 0
