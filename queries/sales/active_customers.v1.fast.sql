-- source: fast_window
SELECT period, customer_id FROM fast_window WHERE w_orders > 0
