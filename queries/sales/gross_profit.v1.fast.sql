-- source: fast_window_totals
-- Without a customer filter or a by= dimension: the same sums, of every
-- customer per day, for any window.
-- value: coalesce(sum(profit), 0)
SELECT period, customer_id, w_profit AS profit FROM fast_window_totals WHERE w_costed > 0
-- form
-- Per customer.
-- source: fast_window
-- use: scorecard
-- value: coalesce(sum(profit), 0)
SELECT period, customer_id, w_profit AS profit FROM fast_window WHERE w_costed > 0
