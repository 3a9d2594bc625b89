-- source: fast_window
-- use: scorecard
-- numerator: CAST(coalesce(sum(on_time), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(known), 0) AS BIGINT)
SELECT period, customer_id, w_on_time AS on_time, w_delivery_known AS known FROM fast_window WHERE w_delivery_known > 0
