-- source: fast_response_hours
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them): the same hours, a row per ticket
-- with a first response, at any window, so the same quantile.
SELECT period, customer_id, hours FROM fast_response_hours
