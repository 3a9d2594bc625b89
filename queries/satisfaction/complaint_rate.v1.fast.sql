-- source: fast_window, fast_complainers
SELECT w.period, w.customer_id, c.customer_id IS NOT NULL AS complained
FROM fast_window w LEFT JOIN fast_complainers c ON c.period = w.period AND c.customer_id = w.customer_id
WHERE w.w_orders > 0
