-- source: fast_window
SELECT period, customer_id, w_amount AS revenue FROM fast_window WHERE w_orders > 0
