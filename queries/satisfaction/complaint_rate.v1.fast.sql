-- source: fast_window, fast_complainers
-- use: scorecard
-- A request of its own over a window that is no calendar period runs the
-- macro, faster there (custkpi bench --catalog); whole calendar periods read
-- the rollups.
SELECT w.period, w.customer_id, c.customer_id IS NOT NULL AS complained
FROM fast_window w LEFT JOIN fast_complainers c ON c.period = w.period AND c.customer_id = w.customer_id
WHERE w.w_orders > 0
