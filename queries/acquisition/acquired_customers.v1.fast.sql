-- source: fast_signups
-- Any window: the customers who signed up in each period's window, their
-- signup days paired with the periods' days rather than every customer's
-- date compared with every period's bounds.
SELECT period, customer_id FROM fast_signups
