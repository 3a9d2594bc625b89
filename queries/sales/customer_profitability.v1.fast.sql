-- source: fast_window
-- use: scorecard
-- numerator: coalesce(sum(profit), 0)
SELECT period, customer_id, w_profit AS profit FROM fast_window WHERE w_costed > 0
