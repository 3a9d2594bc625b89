-- source: fast_activity_totals
-- Whole calendar periods, without a customer filter, of everyone or by
-- few-valued customer dimensions (per combination of them): the active
-- customers of each period and those who opened a complaint in it,
-- counted when the tables were built. A period without active customers
-- (of the combination) adds no group.
-- numerator: CAST(coalesce(sum(complainers), 0) AS BIGINT)
-- denominator: CAST(coalesce(sum(active), 0) AS BIGINT)
SELECT period, customer_id, complainers, active FROM fast_activity_totals WHERE active > 0
-- form
-- source: fast_window, fast_complainers
-- use: scorecard
-- A request of its own over a window that is no calendar period runs the
-- macro, faster there (custkpi bench --catalog); whole calendar periods read
-- the rollups.
SELECT w.period, w.customer_id, c.customer_id IS NOT NULL AS complained
FROM fast_window w LEFT JOIN fast_complainers c ON c.period = w.period AND c.customer_id = w.customer_id
WHERE w.w_orders > 0
