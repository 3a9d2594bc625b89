-- source: fast_window_totals
-- Without a customer filter or a by= dimension: the same sums, of every
-- customer per day, for any window.
SELECT period, customer_id, w_amount AS amount FROM fast_window_totals WHERE w_orders > 0
-- form
-- Per customer.
-- source: fast_window
-- use: scorecard
-- Each active customer's revenue in the window: their sum of amount.
SELECT period, customer_id, w_amount AS amount FROM fast_window WHERE w_orders > 0
