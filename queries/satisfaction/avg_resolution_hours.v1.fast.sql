-- source: fast_ticket_totals
-- Without a customer filter, of everyone or by few-valued customer
-- dimensions (per combination of them): the hours to resolution of the
-- tickets opened per day, summed and counted, at any window. A day
-- without resolved tickets (of the combination) adds no group.
-- numerator: coalesce(sum(hours), 0)
-- denominator: CAST(coalesce(sum(resolved), 0) AS BIGINT)
SELECT period, customer_id, resolution_hours AS hours, resolution_count AS resolved FROM fast_ticket_totals WHERE resolution_count > 0
-- form
-- source: fast_tickets
-- Filtered by customer or by a many-valued dimension: the tickets
-- themselves, keyed, the macro's rows (a resolved ticket has its hours).
SELECT period, customer_id, ticket_id, resolution_hours AS hours FROM fast_tickets WHERE resolution_hours IS NOT NULL
