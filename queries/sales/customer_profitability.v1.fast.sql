-- source: fast_costed_totals
-- Over whole calendar periods, by one wide dimension (a signup date; an
-- age, for calendar months alone) or by one tier: each group's customers
-- with costed orders in the period and their profit, counted and summed
-- when the tables were built (by the lifecycle tiers by month over 2024
-- at 1M customers the rows per customer took 95-147 ms).
-- numerator: coalesce(sum(profit), 0)
-- denominator: CAST(coalesce(sum(customers), 0) AS BIGINT)
SELECT period, customer_id, costed_profit AS profit, costed_customers AS customers FROM fast_costed_totals
-- form
-- source: fast_window
-- Requests of their own too: by age at 1M customers, 0.12-0.17 s against
-- 0.18-0.27 s for the macro over 2024-02-15..2024-11-20, 0.67-0.93 s
-- against 1.05-1.52 s by week over 2024.
-- numerator: coalesce(sum(profit), 0)
-- A row per customer and period: the definition's count of distinct
-- customers is their count.
-- denominator: count(customer_id)
SELECT period, customer_id, w_profit AS profit FROM fast_window WHERE w_costed > 0
