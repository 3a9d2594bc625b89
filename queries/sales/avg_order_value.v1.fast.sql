-- source: fast_window_totals
-- Without a customer filter or a by= dimension: the same sums, of every
-- customer per day, for any window.
-- denominator: CAST(coalesce(sum(orders), 0) AS BIGINT)
SELECT period, customer_id, w_orders AS orders, w_amount AS amount FROM fast_window_totals WHERE w_orders > 0
-- form
-- Per customer.
-- source: fast_window
-- use: scorecard
-- denominator: CAST(coalesce(sum(orders), 0) AS BIGINT)
SELECT period, customer_id, w_orders AS orders, w_amount AS amount FROM fast_window WHERE w_orders > 0
