-- source: fast_activity_totals
-- Whole calendar periods, without a customer filter, of everyone or by
-- few-valued customer dimensions (per combination of them):
-- the customers active in each period, the one before and both, counted
-- when the tables were built.
-- numerator: CAST(coalesce(sum(prev_active - retained), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(prev_active), 0) AS BIGINT)
SELECT period, customer_id, prev_active, retained FROM fast_activity_totals
-- form
-- source: fast_activity
-- max_periods: 2
-- A window and its previous one (or a comparison): from the day lists.
-- A request of its own over 2024-02-15..2024-11-20 at 1M customers takes
-- 0.22-0.24 s as a whole custkpi kpi process (by region 0.28) against
-- 0.28-0.31 s (0.36) for the macro, which reads every order's customer id;
-- warm, in the engine, 124-128 ms against 127-133.
SELECT period, customer_id, p_active AS in_prev, w_active AS in_window FROM fast_activity WHERE p_active OR w_active
-- form
-- Any number of periods: from the days grouped per period.
-- source: fast_orders
-- Requests of their own too: by age at 1M customers, 0.12-0.17 s against
-- 0.18-0.27 s for the macro over 2024-02-15..2024-11-20, 0.67-0.93 s
-- against 1.05-1.52 s by week over 2024.
SELECT period, customer_id, p_orders > 0 AS in_prev, w_orders > 0 AS in_window FROM fast_orders WHERE p_orders > 0 OR w_orders > 0
