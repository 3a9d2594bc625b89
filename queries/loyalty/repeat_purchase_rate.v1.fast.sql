-- source: fast_activity_totals
-- Whole calendar periods, without a customer filter, of everyone or by
-- few-valued customer dimensions (per combination of them): the active
-- customers of each period and those with two or more orders,
-- counted when the tables were built. A period without active customers
-- (of the combination) adds no group.
-- numerator: CAST(coalesce(sum(repeaters), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(active), 0) AS BIGINT)
SELECT period, customer_id, repeaters, active FROM fast_activity_totals WHERE active > 0
-- form
-- source: fast_activity
-- max_periods: 2
-- A window and its previous one (or a comparison), any window: from each
-- customer's sorted day list and their days with two or more orders,
-- whether they made two or more in the window (w_repeat), without
-- grouping its days. At 1M customers over 2024-02-15..2024-11-20: 33-37
-- ms against 90 for grouping the days and 100-110 for the macro.
-- numerator: count(*) FILTER (WHERE w_repeat)
SELECT period, customer_id, w_repeat FROM fast_activity WHERE w_active
-- form
-- source: fast_window
-- More periods.
-- Requests of their own too: by age at 1M customers, 0.12-0.17 s against
-- 0.18-0.27 s for the macro over 2024-02-15..2024-11-20, 0.67-0.93 s
-- against 1.05-1.52 s by week over 2024.
SELECT period, customer_id, w_orders AS orders FROM fast_window WHERE w_orders > 0
