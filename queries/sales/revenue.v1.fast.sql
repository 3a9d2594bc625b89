-- source: fast_window
-- use: scorecard
-- Each active customer's revenue in the window: their sum of amount.
SELECT period, customer_id, w_amount AS amount FROM fast_window WHERE w_orders > 0
