-- source: fast_window_totals
-- Without a customer filter or a by= dimension: the same sums, of every
-- customer per day, for any window.
-- numerator: coalesce(sum(profit), 0)
-- denominator: coalesce(sum(amount), 0)
SELECT period, customer_id, w_profit AS profit, w_costed_amount AS amount FROM fast_window_totals WHERE w_costed > 0
-- form
-- Per customer.
-- source: fast_window
-- use: scorecard
-- numerator: coalesce(sum(profit), 0)
-- denominator: coalesce(sum(amount), 0)
SELECT period, customer_id, w_profit AS profit, w_costed_amount AS amount FROM fast_window WHERE w_costed > 0
