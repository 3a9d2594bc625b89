-- source: fast_window_totals
-- Without a customer filter or a by= dimension: the same sums, of every
-- customer per day, for any window.
-- numerator: CAST(coalesce(sum(on_time), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(known), 0) AS BIGINT)
SELECT period, customer_id, w_on_time AS on_time, w_delivery_known AS known FROM fast_window_totals WHERE w_delivery_known > 0
-- form
-- Per customer.
-- source: fast_window
-- use: scorecard
-- numerator: CAST(coalesce(sum(on_time), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(known), 0) AS BIGINT)
SELECT period, customer_id, w_on_time AS on_time, w_delivery_known AS known FROM fast_window WHERE w_delivery_known > 0
