-- source: fast_window
-- use: scorecard
-- numerator: coalesce(sum(profit), 0)
-- denominator: coalesce(sum(amount), 0)
SELECT period, customer_id, w_profit AS profit, w_costed_amount AS amount FROM fast_window WHERE w_costed > 0
