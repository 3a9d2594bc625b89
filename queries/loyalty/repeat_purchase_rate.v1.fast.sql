-- source: fast_window
SELECT period, customer_id, w_orders AS orders FROM fast_window WHERE w_orders > 0
