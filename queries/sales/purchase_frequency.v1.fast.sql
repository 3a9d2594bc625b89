-- source: fast_activity_totals
-- Whole calendar periods, without a customer filter, of everyone or by
-- few-valued customer dimensions (per combination of them): the active
-- customers of each period and their completed orders,
-- counted when the tables were built. A period without active customers
-- (of the combination) adds no group.
-- numerator: coalesce(sum(orders), 0)
-- denominator: CAST(coalesce(sum(active), 0) AS BIGINT)
SELECT period, customer_id, orders, active FROM fast_activity_totals WHERE active > 0
-- form
-- source: fast_window
-- use: scorecard
-- A request of its own over a window that is no calendar period runs the
-- macro, faster there (custkpi bench --catalog); whole calendar periods read
-- the rollups.
SELECT period, customer_id, w_orders AS orders FROM fast_window WHERE w_orders > 0
