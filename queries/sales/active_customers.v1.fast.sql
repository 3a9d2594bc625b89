-- source: fast_orders
SELECT period, customer_id FROM fast_orders WHERE w_orders > 0
