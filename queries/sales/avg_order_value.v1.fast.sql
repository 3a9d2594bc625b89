-- source: fast_window
-- use: scorecard
-- denominator: CAST(coalesce(sum(orders), 0) AS BIGINT)
SELECT period, customer_id, w_orders AS orders, w_amount AS amount FROM fast_window WHERE w_orders > 0
