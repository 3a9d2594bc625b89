-- source: fast_orders
SELECT period, customer_id, p_orders > 0 AS in_prev, w_orders > 0 AS in_window FROM fast_orders WHERE p_orders > 0 OR w_orders > 0
