-- source: fast_orders
SELECT period, customer_id, w_orders AS orders FROM fast_orders WHERE w_orders > 0
