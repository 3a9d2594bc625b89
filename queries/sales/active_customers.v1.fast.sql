-- source: fast_activity_totals
-- Whole calendar periods, without a customer filter, of everyone or by
-- few-valued customer dimensions (per combination of them):
-- the customers active in each period, the one before and both, counted
-- when the tables were built. A period with none active (of the
-- combination) adds no group.
-- value: CAST(coalesce(sum(active), 0) AS BIGINT)
SELECT period, customer_id, active FROM fast_activity_totals WHERE active > 0
-- form
-- source: fast_window
-- use: calendar
-- Whole calendar periods: a scan of the window's rows, where the next
-- form joins them to the previous period's (about 50 ms against 95 by
-- region for a year at 1M customers).
SELECT period, customer_id FROM fast_window WHERE w_orders > 0
-- form
-- source: fast_activity
-- max_periods: 2
-- A window and its previous one (or a comparison): from the day lists.
SELECT period, customer_id FROM fast_activity WHERE w_active
-- form
-- Any number of periods: from the days grouped per period.
-- source: fast_window
SELECT period, customer_id FROM fast_window WHERE w_orders > 0
