-- source: fast_spend, fast_signup_channels
-- Any window: the spend rows of each period's window as the macro reads
-- them, and the customers who signed up in it with their channel, their
-- signup days paired with the periods' days rather than every customer's
-- date compared with every period's bounds.
SELECT period, customer_id, acquisition_channel, spend FROM fast_spend
UNION ALL
SELECT period, customer_id, acquisition_channel, NULL::DOUBLE AS spend FROM fast_signup_channels
