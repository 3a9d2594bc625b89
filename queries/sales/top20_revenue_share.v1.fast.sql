-- source: fast_orders
SELECT period, customer_id, w_amount AS revenue FROM fast_orders WHERE w_orders > 0
