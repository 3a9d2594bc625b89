-- source: fast_orders
-- Each active customer's revenue in the window: their sum of amount.
SELECT period, customer_id, w_amount AS amount FROM fast_orders WHERE w_orders > 0
