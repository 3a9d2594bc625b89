-- source: fast_window
-- use: scorecard
-- numerator: coalesce(sum(profit), 0)
-- A row per customer and period: the definition's count of distinct
-- customers is their count.
-- denominator: count(customer_id)
SELECT period, customer_id, w_profit AS profit FROM fast_window WHERE w_costed > 0
