-- source: fast_window_totals
-- Without a customer filter or a by= dimension: the same sums, of every
-- customer per day, for any window.
-- numerator: CAST(coalesce(sum(returned), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(orders + returned), 0) AS BIGINT)
SELECT period, customer_id, w_orders AS orders, w_returned AS returned FROM fast_window_totals WHERE w_orders > 0 OR w_returned > 0
-- form
-- Per customer.
-- source: fast_window
-- use: scorecard
-- numerator: CAST(coalesce(sum(returned), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(orders + returned), 0) AS BIGINT)
SELECT period, customer_id, w_orders AS orders, w_returned AS returned FROM fast_window WHERE w_orders > 0 OR w_returned > 0
