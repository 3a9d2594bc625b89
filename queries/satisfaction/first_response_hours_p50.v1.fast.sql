-- source: fast_response_hours
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them): the same hours, a row per ticket
-- with a first response, at any window, so the same quantile.
SELECT period, customer_id, hours FROM fast_response_hours
-- form
-- source: fast_tickets
-- Filtered by customer or by a many-valued dimension: the tickets
-- themselves, keyed, the macro's rows (a ticket with a first response
-- has its hours).
SELECT period, customer_id, ticket_id, response_hours AS hours FROM fast_tickets WHERE response_hours IS NOT NULL
