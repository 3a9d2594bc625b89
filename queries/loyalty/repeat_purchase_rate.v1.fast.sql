-- source: fast_window
-- use: scorecard
-- A request of its own over a window that is no calendar period runs the
-- macro, faster there (custkpi bench --catalog); whole calendar periods read
-- the rollups.
SELECT period, customer_id, w_orders AS orders FROM fast_window WHERE w_orders > 0
