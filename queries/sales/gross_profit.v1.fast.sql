-- source: fast_orders
-- value: coalesce(sum(profit), 0)
SELECT period, customer_id, w_profit AS profit FROM fast_orders WHERE w_costed > 0
